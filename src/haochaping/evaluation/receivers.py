"""React to other apps' signals: a completed 办件 gets its SMS invitation once the completion has committed."""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from haochaping.records.models import ServiceRecord
from haochaping.records.rules import RecordStatus
from haochaping.records.signals import record_completed, records_written

from .invitations import RATING_HORIZON


@receiver(record_completed, sender=ServiceRecord, dispatch_uid="evaluation.invite_on_completion")
def invite_on_completion(sender, record, **kwargs) -> None:
    if not record.applicant_phone:
        return  # nobody to invite: no task at all
    if record.completed_at and record.completed_at < timezone.now() - RATING_HORIZON:
        return  # completed too long ago to be rated (a history import's 办件): no task either
    from .tasks import schedule_invitation

    # After the commit: the worker must see the completed 办件, and a rolled-back completion invites nobody.
    transaction.on_commit(partial(schedule_invitation, record.pk))


@receiver(records_written, sender=ServiceRecord, dispatch_uid="evaluation.invite_on_completion_many")
def invite_on_completion_many(sender, records, **kwargs) -> None:
    # New 办件 inserted together (records.intake): each completed one is invited as record_completed would.
    for record in records:
        if record.status == RecordStatus.COMPLETED:
            invite_on_completion(sender, record)
