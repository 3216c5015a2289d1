"""Invitations to rate a completed 办件 by SMS, and one reminder (补充评价, R3.3).

The link carries a random token; only its SM3 hash is stored (Invitation.token_hash), so the database never
holds a working link. The link works until the supplementary period of the stage ends (rules.period_end with the
region's policy and working calendar), the same day submit_evaluation stops accepting the stage.

Sending is three short steps, so no database lock is held while the gateway answers: claim the (办件, stage, kind)
row (the unique constraint, or a compare-and-set on a failed row, lets one worker win), send, record the outcome.
A row reads "failed" from its claim until the gateway confirms; a crash in between is retried like a failure,
so a message may, rarely, arrive twice but the 办件 never gets more rows than (invite, reminder).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from haochaping.core import calendar, crypto
from haochaping.records.models import RecordStatus, ServiceRecord, Stage

from . import rules, services, sms
from .models import Evaluation, Invitation

log = logging.getLogger(__name__)

TOKEN_BYTES = 24  # 192 bits, URL-safe: unguessable, still a short link


@dataclass
class Outcome:
    status: str  # "sent", "failed" or "skipped"
    reason: str = ""
    invitation: Invitation | None = None
    token: str = ""  # the clear token of a sent link (tests and the development shell only)


def token_hash(token: str) -> str:
    return crypto.sm3_hex(f"invitation:{token}".encode())


def expiry(record: ServiceRecord, stage: str = Stage.COMPLETE) -> datetime | None:
    """The instant the link stops working: midnight after the last day of the period, local time."""
    day = services.last_rating_day(record, stage)
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def closed_on(invitation: Invitation):
    """The last day an invitation's link worked (what the closed page shows)."""
    return (timezone.localtime(invitation.expires_at) - timedelta(days=1)).date()


def reminder_due(invitation: Invitation) -> datetime:
    """When a still-unrated 办件 gets its reminder: N working days after the invitation, same time of day."""
    sent = timezone.localtime(invitation.sent_at)
    day = calendar.add_working_days(sent.date(), settings.HAOCHAPING_REMINDER_WORKING_DAYS, invitation.record.region_id)
    return timezone.make_aware(datetime.combine(day, sent.time().replace(tzinfo=None)))


def is_rated(record: ServiceRecord, stage: str) -> bool:
    return Evaluation.objects.filter(record=record, stage=stage).exists()


def link(token: str) -> str:
    return f"{settings.HAOCHAPING_PUBLIC_URL}/i/{token}/"


def message_text(record: ServiceRecord, kind: str, token: str, until) -> str:
    deadline = f"{until.month}月{until.day}日"
    if kind == Invitation.Kind.REMINDER:
        return (
            f"【政务服务好差评】您办理的“{record.item.name}”尚未评价，欢迎点击 {link(token)} 评价，"
            f"{deadline}前有效。"
        )
    return f"【政务服务好差评】您办理的“{record.item.name}”已办结，请点击 {link(token)} 对本次服务作出评价，{deadline}前有效。"


def _why_not(record: ServiceRecord, stage: str, kind: str, now: datetime) -> str:
    """Why no message may be sent now ("" when one may)."""
    if record.status != RecordStatus.COMPLETED or record.stage_time(stage) is None:
        return "not_completed"
    if not record.applicant_phone or rules.phone_problem(record.applicant_phone.reveal()):
        return "no_phone"
    if is_rated(record, stage):
        return "rated"
    if now >= expiry(record, stage):
        return "period_over"
    rows = {i.kind: i for i in Invitation.objects.filter(record=record, stage=stage)}
    mine = rows.get(kind)
    if mine is not None and mine.status == Invitation.Status.SENT:
        return "already_sent"
    sent = Invitation.objects.filter(record=record, status=Invitation.Status.SENT).count()
    if sent >= settings.HAOCHAPING_MAX_SMS_PER_RECORD:
        return "cap"
    if kind == Invitation.Kind.REMINDER:
        invite = rows.get(Invitation.Kind.INVITE)
        if invite is None or invite.status != Invitation.Status.SENT:
            return "no_invitation"
        if now < reminder_due(invite):
            return "not_due"
    return ""


def _claim(record: ServiceRecord, stage: str, kind: str, now: datetime) -> tuple[Invitation | None, str, str]:
    """Take the right to send (record, stage, kind) now: (row, clear token, reason it was not taken)."""
    with transaction.atomic():
        reason = _why_not(record, stage, kind, now)
        if reason:
            return None, "", reason
        token = secrets.token_urlsafe(TOKEN_BYTES)
        existing = Invitation.objects.filter(record=record, stage=stage, kind=kind).first()
        if existing is None:
            row = Invitation(
                record=record, stage=stage, kind=kind, channel="sms", token_hash=token_hash(token),
                status=Invitation.Status.FAILED, sent_at=now, expires_at=expiry(record, stage),
            )
            try:
                with transaction.atomic():
                    row.save(force_insert=True)
            except IntegrityError:
                return None, "", "busy"  # another worker claimed it a moment ago
            return row, token, ""
        # A failed row: compare-and-set on its last attempt time, so two workers never resend it together.
        won = Invitation.objects.filter(pk=existing.pk, status=Invitation.Status.FAILED, sent_at=existing.sent_at).update(
            sent_at=now, token_hash=token_hash(token), expires_at=expiry(record, stage)
        )
        if not won:
            return None, "", "busy"
        existing.refresh_from_db()
        return existing, token, ""


def send(record_id: int, *, kind: str = Invitation.Kind.INVITE, stage: str = Stage.COMPLETE, now=None) -> Outcome:
    """Send the invitation (or the reminder) for one 办件 stage if it is still due; record the outcome.

    Skips, writing nothing, when the 办件 is not completed, has no applicant phone, is already rated, its period
    is over, this message was already sent, the per-办件 cap (HAOCHAPING_MAX_SMS_PER_RECORD) is reached, or (for a
    reminder) the invitation is not yet HAOCHAPING_REMINDER_WORKING_DAYS working days old.
    """
    now = now or timezone.now()
    record = ServiceRecord.objects.select_related("item").filter(pk=record_id).first()
    if record is None:
        return Outcome("skipped", "no_record")
    row, token, reason = _claim(record, stage, kind, now)
    if row is None:
        log.info("invitation %s for record_id=%s skipped: %s", kind, record_id, reason)
        return Outcome("skipped", reason)
    result = sms.send(record.applicant_phone.reveal(), message_text(record, kind, token, services.last_rating_day(record, stage)))
    if result.ok:
        Invitation.objects.filter(pk=row.pk).update(status=Invitation.Status.SENT)
        row.status = Invitation.Status.SENT
        log.info("invitation %s sent for record_id=%s invitation_id=%s", kind, record_id, row.pk)
        return Outcome("sent", invitation=row, token=token)
    log.warning("invitation %s for record_id=%s failed: %s", kind, record_id, result.error)
    return Outcome("failed", result.error, invitation=row)


def find(token: str) -> Invitation | None:
    """The invitation a link token belongs to, or None for an unknown or forged token."""
    if not token or len(token) > 100:
        return None
    return Invitation.objects.select_related("record", "record__item").filter(token_hash=token_hash(token)).first()


def mark_opened(invitation: Invitation, now=None) -> None:
    """Note the first time the evaluator opened the link (delivery statistics); later openings change nothing."""
    if invitation.opened_at is None:
        now = now or timezone.now()
        Invitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(opened_at=now)
        invitation.opened_at = now


# No region's supplementary period is longer than a few weeks of working days: a 办件 completed longer ago than this
# cannot be rated any more, so nobody is invited to.
RATING_HORIZON = timedelta(days=120)


def sweep_candidates(now=None):
    """Completed 办件 of the recent past that may still need an invitation or a reminder (for the sweep)."""
    now = now or timezone.now()
    since = now - RATING_HORIZON
    return (
        ServiceRecord.objects.filter(status=RecordStatus.COMPLETED, completed_at__gte=since, completed_at__lte=now)
        .filter(applicant_phone__isnull=False)
        .exclude(evaluations__stage=Stage.COMPLETE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
