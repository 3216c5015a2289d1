"""Keep the rollups in step with the evaluation and records apps' writes, inside the writing transaction (DESIGN.md
"Layout": signals go upward, so the evaluation and its counter commit together or not at all)."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from haochaping.evaluation.models import Evaluation
from haochaping.evaluation.signals import (
    evaluation_excluded,
    evaluation_writing,
    evaluation_written,
    evaluations_written,
)
from haochaping.records.models import ServiceRecord
from haochaping.records.signals import records_written
from haochaping.rectification.models import Appeal, LedgerEntry, RectificationCase
from haochaping.rectification.signals import cases_written

from . import rollups
from .rollups import cases as case_rollups
from .rollups import participation as participation
from .rollups import pending


@receiver(evaluation_writing, sender=Evaluation, dispatch_uid="insight.counts_to_write")
def counts_to_write(sender, evaluation, labels, **kwargs):
    # The single submit: on PostgreSQL a pending row, counted by rollups.pending.fold after the commit (no counter
    # row to wait on); on SQLite the counters themselves. Either way in the row's own statement (one round trip).
    if pending.deferred():
        return [pending.written_statement(evaluation, labels)]
    return rollups.written_statements(evaluation, labels)


@receiver(evaluation_written, sender=Evaluation, dispatch_uid="insight.count_written")
def count_written(sender, evaluation, composed=False, **kwargs):
    # No try/except: a failed count rolls the evaluation back, so the counters never silently drift.
    if not composed:  # else counts_to_write's statements counted it
        rollups.count_written(evaluation)
    return None


@receiver(evaluations_written, sender=Evaluation, dispatch_uid="insight.count_many_written")
def count_many_written(sender, evaluations, **kwargs):
    # Set-wise: one upsert per counter key the evaluations share, whatever their number.
    rollups.count_written_many(evaluations)
    return None


@receiver(evaluation_excluded, sender=Evaluation, dispatch_uid="insight.count_excluded")
def count_excluded(sender, evaluation, exclusion, **kwargs):
    rollups.count_excluded(evaluation)
    return None


# 参评率 counters follow every save of a 办件 (pushed completed, PATCHed to completed, completion time corrected),
# whoever saves it: model signals, not a records.services signal, so nothing that saves a 办件 can forget them.
# QuerySet.update() and bulk_create() bypass them, like they bypass every signal: such loaders end with a rebuild.
_STATE_FIELDS = {c.removesuffix("_id") for c in participation.STATE_COLUMNS}


@receiver(pre_save, sender=ServiceRecord, dispatch_uid="insight.record_before")
def record_before(sender, instance, raw=False, update_fields=None, **kwargs):
    instance._participation_before = None
    if raw or instance._state.adding or (update_fields is not None and not _STATE_FIELDS & set(update_fields)):
        return
    # The stored state (records.services holds the row lock while it saves a change): one indexed read.
    instance._participation_before = (
        ServiceRecord.objects.filter(pk=instance.pk).order_by().values_list(*participation.STATE_COLUMNS).first()
    )
    instance._participation_checked = True


@receiver(post_save, sender=ServiceRecord, dispatch_uid="insight.record_saved")
def record_saved(sender, instance, created=False, raw=False, update_fields=None, **kwargs):
    if raw:
        return
    if not created and not getattr(instance, "_participation_checked", False):
        return  # a save that cannot change the counters (see record_before)
    instance._participation_checked = False
    participation.record_saved(instance.pk, None if created else instance._participation_before,
                               participation.state_of(instance), new=created)


@receiver(records_written, sender=ServiceRecord, dispatch_uid="insight.records_written")
def records_written_together(sender, records, **kwargs):
    # New 办件 inserted together (records.intake, no model signals): as record_saved for each, one upsert per key.
    participation.records_created(records)


@receiver(post_delete, sender=ServiceRecord, dispatch_uid="insight.record_deleted")
def record_deleted(sender, instance, **kwargs):
    # Evaluations protect their 办件: a deleted one had none, so only ``completed`` moves.
    participation.record_saved(instance.pk, participation.state_of(instance), None, new=True)


# 整改与申诉 counters (rollups.cases) follow every save of a case, its appeal or its 台账, whoever saves it (model
# signals, as for the 办件 above), and the cases rectification writes together (its cases_written signal). Each
# recounts the case as it now stands in the writing transaction; a save that cannot change a figure is skipped.
_CASE_FIELDS = {"kind", "state", "callback_at", "handled_at", "outcome", "is_real_name", "region", "department",
                "agency", "platform", "opened_at", "fix_now_due", "rectify_due"}
_CASE_PARTS = {RectificationCase: ("pk", _CASE_FIELDS), Appeal: ("case_id", {"state", "case"}),
               LedgerEntry: ("case_id", {"deadline", "extension_approved", "case"})}


def _case_of(instance) -> int | None:
    column, _fields = _CASE_PARTS[type(instance)]
    return instance.pk if column == "pk" else getattr(instance, column)


def _recount_case(sender, instance, raw=False, update_fields=None, created=False, **kwargs):
    if raw:
        return  # fixtures: loaders end with a rebuild, as for the evaluation counters
    if update_fields is not None:
        fields = {f.removesuffix("_id") for f in update_fields}
        if not fields & _CASE_PARTS[type(instance)][1]:
            return
    # A new case has no tally yet (its appeal or 台账 may be new, but its case is not).
    case_rollups.count_cases([_case_of(instance)], new=created and sender is RectificationCase)


for _model in _CASE_PARTS:
    post_save.connect(_recount_case, sender=_model, dispatch_uid=f"insight.case_counters.save.{_model.__name__}")
    post_delete.connect(_recount_case, sender=_model, dispatch_uid=f"insight.case_counters.delete.{_model.__name__}")


@receiver(cases_written, sender=RectificationCase, dispatch_uid="insight.cases_written")
def cases_written_together(sender, case_ids, **kwargs):
    case_rollups.count_cases(case_ids, new=True)
