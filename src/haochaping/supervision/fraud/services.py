"""The fraud detectors' use cases: run the detectors over the period's evaluations and file findings for
supervisors (``detect``), record where insiders sign in from, register staff's own phones, and carry out a
supervisor's decision (``confirm_finding`` excludes the evaluations with reason 弄虚作假 through
evaluation.services.exclude_evaluation; ``dismiss_finding`` closes the finding). Nothing is excluded by a
detector itself."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from haochaping.core import calendar, crypto
from haochaping.core.models import AuditEntry
from haochaping.core.problems import conflict, invalid, not_found
from haochaping.core.scoping import scope
from haochaping.evaluation.fingerprint import ClientFingerprint
from haochaping.evaluation.models import Evaluation, EvaluationExclusion, ExclusionReason
from haochaping.evaluation.services import exclude_evaluation
from haochaping.records import rules as record_rules
from haochaping.records.models import ServiceRecord

from . import rules
from .models import FindingStatus, FraudFinding, HallHours, StaffFingerprint, StaffPhone
from .rules import Ev, Hours, Insider, LaterRecord, Signal

log = logging.getLogger(__name__)

EV_FIELDS = ("id", "created_at", "level", "channel", "region_id", "department_id", "agency_id", "window_id",
             "staff_id", "item_id", "record_id", "item__basic_code", "evaluator_phone_index", "record__applicant_phone_index", "comment",
             "client_address_index", "client_device_index", "source", "is_bad")


def _rows(qs) -> list[Ev]:
    tz = timezone.get_current_timezone()
    out = []
    for (pk, at, level, channel, region, dept, agency, window, staff, item, record, item_code, phone, applicant,
         comment, address, device, source, bad) in qs.order_by().values_list(*EV_FIELDS).iterator(chunk_size=5000):
        out.append(Ev(pk, at, timezone.localtime(at, tz).replace(tzinfo=None), level, channel, region, dept, agency,
                      window, staff, item, record, item_code or "", phone or "", applicant or "", comment or "",
                      address or "", device or "", source or "", bad))
    return out


def _countable(since, until):
    """Evaluations a detector reads: counted ones (no imported defaults, none already excluded) of the period."""
    return Evaluation.objects.countable().filter(created_at__gte=since, created_at__lt=until)


def _insiders_by(column: str) -> dict[str, list[Insider]]:
    out: dict[str, list[Insider]] = defaultdict(list)
    rows = (StaffFingerprint.objects.exclude(**{column: ""})
            .values_list(column, "user__staff_id", "user__department_id", "user__agency_id",
                         "user__staff__department_id", "user__staff__agency_id"))
    for value, staff, dept, agency, staff_dept, staff_agency in rows:
        out[value].append(Insider(staff, dept or staff_dept, agency or staff_agency))
    return out


def _staff_phones() -> dict[str, list[Insider]]:
    out: dict[str, list[Insider]] = defaultdict(list)
    for index, staff, dept, agency in StaffPhone.objects.values_list(
            "phone_index", "staff_id", "staff__department_id", "staff__agency_id"):
        out[index].append(Insider(staff, dept, agency))
    return out


def _hours() -> dict[int, Hours]:
    return {agency: Hours(opens, closes, rest) for agency, opens, closes, rest in
            HallHours.objects.values_list("agency_id", "opens", "closes", "open_on_rest_days")}


def _later_records(bad: list[Ev], until) -> list[LaterRecord]:
    """The 办件 accepted after the earliest real-name 差评 at the departments those 差评 are about (everyone's:
    the comparison needs the others)."""
    bad = [e for e in bad if e.is_bad and e.phone_index]
    if not bad:
        return []
    today = timezone.localdate(until)
    since = min(e.at for e in bad)
    qs = (ServiceRecord.objects.filter(department_id__in={e.department_id for e in bad}, accepted_at__gt=since,
                                       accepted_at__lt=until)
          .order_by().only("id", "applicant_phone_index", "department_id", "item_id", "accepted_at", "status",
                           "completed_at", "due_date"))
    return [LaterRecord(r.id, r.applicant_phone_index, r.department_id, r.item_id, r.accepted_at,
                        record_rules.is_overdue(r, today=today)) for r in qs.iterator(chunk_size=5000)]


def run_detectors(*, now=None, days: int = rules.LOOKBACK_DAYS,
                  outlier_days: int = rules.OUTLIER_LOOKBACK_DAYS) -> list[Signal]:
    """Every detector over the period ending ``now``; returns their signals (nothing written)."""
    now = now or timezone.now()
    recent = _rows(_countable(now - timedelta(days=days), now))
    signals = []
    signals += rules.bursts(recent)
    signals += rules.phone_many(recent)
    signals += rules.staff_phones(recent, _staff_phones())
    signals += rules.own_client(recent, _insiders_by("device_index"), _insiders_by("address_index"))
    signals += rules.templates(recent)
    signals += rules.closed_hours(recent, _hours(), calendar.is_workday)
    long = recent if outlier_days == days else _rows(_countable(now - timedelta(days=outlier_days), now))
    signals += rules.outliers(long)
    # Retaliation looks at what happened after a 差评: the 差评 of the longer period, the 办件 since.
    bad = [e for e in long if e.is_bad and e.phone_index]
    signals += rules.retaliation(bad, _later_records(bad, now))
    return signals


@dataclass
class DetectResult:
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    signals: int = 0


def detect(*, now=None, days: int = rules.LOOKBACK_DAYS, outlier_days: int = rules.OUTLIER_LOOKBACK_DAYS) -> DetectResult:
    """Run the detectors and file their signals as findings for supervisors (R8.2), in one transaction.

    A signal about a subject that already has an open finding adds its new evaluations to it; one whose
    evaluations are all in findings already decided (confirmed or dismissed) is not filed again; anything else
    becomes a new open finding. Nothing is excluded here."""
    now = now or timezone.now()
    signals = run_detectors(now=now, days=days, outlier_days=outlier_days)
    result = DetectResult(signals=len(signals))
    with transaction.atomic():
        for s in signals:
            _file(s, now, result)
        AuditEntry.objects.create(actor="system", action="fraud.detect", object_type="supervision.FraudFinding",
                                  object_id="-", data={"signals": len(signals), "created": len(result.created),
                                                       "updated": len(result.updated)})
    if result.created:
        log.info("fraud detectors filed %d new findings", len(result.created))
    return result


def _file(s: Signal, now, result: DetectResult) -> None:
    existing = list(FraudFinding.objects.select_for_update().filter(pattern=s.pattern, subject=s.subject))
    through = FraudFinding.evaluations.through
    covered = set(through.objects.filter(fraudfinding_id__in=[f.pk for f in existing])
                  .values_list("evaluation_id", flat=True))
    fresh = [i for i in s.evaluation_ids if i not in covered]
    if not fresh and existing:
        return
    first, last = _times(s)
    open_one = next((f for f in existing if f.status == FindingStatus.OPEN), None)
    if open_one is not None:
        open_one.statistic, open_one.threshold, open_one.summary = s.statistic, s.threshold, s.summary
        open_one.evidence = s.evidence
        open_one.first_at, open_one.last_at = min(open_one.first_at, first), max(open_one.last_at, last)
        open_one.save(update_fields=["statistic", "threshold", "summary", "evidence", "first_at", "last_at"])
        open_one.evaluations.add(*fresh)
        result.updated.append(open_one.pk)
        return
    t = s.target
    finding = FraudFinding.objects.create(
        pattern=s.pattern, subject=s.subject, region_id=t.region_id, department_id=t.department_id,
        agency_id=t.agency_id, window_id=t.window_id, staff_id=t.staff_id, item_id=t.item_id,
        statistic=s.statistic, threshold=s.threshold, summary=s.summary, evidence=s.evidence,
        first_at=first, last_at=last, detected_at=now,
    )
    finding.evaluations.add(*(s.evaluation_ids if not existing else fresh))
    result.created.append(finding.pk)


def _times(s: Signal):
    from datetime import datetime

    return datetime.fromisoformat(s.evidence["first"]), datetime.fromisoformat(s.evidence["last"])


# ---- a supervisor's decision ------------------------------------------------------------------------------

def _open_finding(finding_id, actor) -> FraudFinding:
    finding = scope(FraudFinding.objects.all(), actor).select_for_update().filter(pk=finding_id).first()
    if finding is None:
        raise not_found("没有这条线索", "finding_id")
    if finding.status != FindingStatus.OPEN:
        raise conflict("这条线索已核查过", "finding_id")
    return finding


def confirm_finding(finding_id, *, actor, note: str, now=None) -> FraudFinding:
    """The supervisor confirms: every evaluation of the finding not yet excluded is excluded with reason 弄虚作假
    (evaluation.services.exclude_evaluation, which also takes it out of the rollups), except for retaliation,
    whose 差评 was genuine; the unit is on the accountability list from now on (insight reads confirmed
    findings). ``note`` (what was verified) is required."""
    note = (note or "").strip()
    if not note:
        raise invalid("请填写核查意见（核实了什么）", "note")
    now = now or timezone.now()
    with transaction.atomic():
        finding = _open_finding(finding_id, actor)
        excluded = 0
        if finding.pattern in rules.EXCLUDING:
            already = set(EvaluationExclusion.objects.filter(evaluation__in=finding.evaluations.all())
                          .values_list("evaluation_id", flat=True))
            for ev_id in finding.evaluations.order_by("pk").values_list("pk", flat=True):
                if ev_id in already:
                    continue
                exclude_evaluation(ev_id, reason=ExclusionReason.FRAUD, source=f"fraud:{finding.pk}", actor=actor,
                                   note=note, now=now)
                excluded += 1
        finding.status, finding.decided_at, finding.decided_by, finding.decision_note = (
            FindingStatus.CONFIRMED, now, actor, note)
        finding.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
        AuditEntry.objects.create(actor=actor.username, action="fraud.confirm", object_type="supervision.FraudFinding",
                                  object_id=str(finding.pk), data={"pattern": finding.pattern, "excluded": excluded})
    return finding


def dismiss_finding(finding_id, *, actor, note: str, now=None) -> FraudFinding:
    """The supervisor found nothing wrong: the finding is closed with the reason, nothing is excluded."""
    note = (note or "").strip()
    if not note:
        raise invalid("请填写排除的理由", "note")
    with transaction.atomic():
        finding = _open_finding(finding_id, actor)
        finding.status, finding.decided_at, finding.decided_by, finding.decision_note = (
            FindingStatus.DISMISSED, now or timezone.now(), actor, note)
        finding.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
        AuditEntry.objects.create(actor=actor.username, action="fraud.dismiss", object_type="supervision.FraudFinding",
                                  object_id=str(finding.pk), data={"pattern": finding.pattern})
    return finding


# ---- what the detectors compare with ----------------------------------------------------------------------

def record_sign_in(user, client: ClientFingerprint, *, now=None) -> StaffFingerprint | None:
    """Remember where an insider signed in from (blind indexes only), so evaluations from there are seen."""
    if not getattr(user, "is_insider", False) or not (client.address_index or client.device_index):
        return None
    now = now or timezone.now()
    with transaction.atomic():
        row, made = StaffFingerprint.objects.select_for_update().get_or_create(
            user=user, address_index=client.address_index, device_index=client.device_index,
            defaults={"first_seen": now, "last_seen": now})
        if not made:
            row.last_seen = now
            row.save(update_fields=["last_seen"])
    return row


def register_staff_phone(staff, phone: str, *, actor) -> StaffPhone:
    """Register a staff member's own phone number (stored encrypted with its blind index)."""
    digits = "".join((phone or "").split())
    if not (len(digits) == 11 and digits.isdigit() and digits.startswith("1")):
        raise invalid("手机号应为11位数字，以1开头", "phone")
    index = crypto.blind_index(digits, kind="phone")
    with transaction.atomic():
        row, made = StaffPhone.objects.get_or_create(staff=staff, phone_index=index, defaults={"phone": digits})
        if made:
            AuditEntry.objects.create(actor=getattr(actor, "username", None) or "system", action="fraud.staff_phone",
                                      object_type="org.Staff", object_id=str(staff.pk), data={})
    return row


def set_hall_hours(agency, *, opens, closes, open_on_rest_days: bool = False) -> HallHours:
    """Set a hall's opening hours for the closed-hours detector."""
    if opens >= closes:
        raise invalid("关门时间应晚于开门时间", "closes")
    with transaction.atomic():
        row, _made = HallHours.objects.update_or_create(
            agency=agency, defaults={"opens": opens, "closes": closes, "open_on_rest_days": open_on_rest_days})
    return row
