"""Every 办件, evaluation and case outcome enters the outbox in the transaction that writes it (DESIGN.md
"Exchange": transactional outbox). The lower apps send the signals; this app, above them, listens."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from haochaping.evaluation.models import Evaluation
from haochaping.evaluation.signals import evaluation_writing, evaluation_written, evaluations_written
from haochaping.records.models import ServiceRecord
from haochaping.records.signals import records_written
from haochaping.rectification.models import CaseTransition
from haochaping.rectification.rules import State

from .models import OutboxEntry
from .services import outbox

# A case's outcome is reported when the evaluator has been answered and again when it is closed (a reopened case
# that is closed later reports its final outcome).
REPORTED_STATES = frozenset({State.ANSWERED, State.CLOSED})


@receiver(evaluation_writing, sender=Evaluation, dispatch_uid="exchange.outbox_to_write")
def evaluation_to_queue(sender, evaluation, **kwargs):
    # The single submit: the outbox rows go into the evaluation's own statement.
    return [outbox.new_entries(OutboxEntry.Kind.EVALUATION, evaluation.pk, evaluation.record.project_no)]


@receiver(evaluation_written, sender=Evaluation, dispatch_uid="exchange.outbox_evaluation")
def queue_evaluation(sender, evaluation, composed=False, **kwargs):
    if not composed:  # else evaluation_to_queue's statement wrote them
        outbox.enqueue_new(OutboxEntry.Kind.EVALUATION, evaluation.pk, evaluation.record.project_no)


@receiver(evaluations_written, sender=Evaluation, dispatch_uid="exchange.outbox_evaluations")
def queue_evaluations(sender, evaluations, **kwargs):
    outbox.enqueue_many(OutboxEntry.Kind.EVALUATION, [(ev.pk, ev.record.project_no) for ev in evaluations])


@receiver(post_save, sender=ServiceRecord, dispatch_uid="exchange.outbox_record")
def queue_record(sender, instance, raw=False, **kwargs):
    if not raw:
        outbox.enqueue(OutboxEntry.Kind.RECORD, instance.pk, instance.project_no)


@receiver(records_written, sender=ServiceRecord, dispatch_uid="exchange.outbox_records")
def queue_records(sender, records, **kwargs):
    # New 办件 (records.intake): none can have a waiting row yet, so one multi-row INSERT, as enqueue would write.
    outbox.enqueue_many(OutboxEntry.Kind.RECORD, [(r.pk, r.project_no) for r in records])


@receiver(post_save, sender=CaseTransition, dispatch_uid="exchange.outbox_case_outcome")
def queue_case_outcome(sender, instance, created, raw=False, **kwargs):
    if raw or not created or instance.to_state not in REPORTED_STATES:
        return
    case = instance.case
    if case.evaluation_id is None:  # a complaint, not a 差评: nothing upstream knows it by
        return
    outbox.enqueue(OutboxEntry.Kind.CASE_OUTCOME, case.pk, case.evaluation.record.project_no)
