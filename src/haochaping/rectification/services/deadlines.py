"""Deadlines running by themselves (R4.2, R4.4, R4.6, R7.3): reminders before a case's deadline, escalation to the
supervising management agency after one, answered cases the evaluator did not confirm in time closed, and appeal
reviews past their deadline escalated. Run by the worker on a schedule (rectification.tasks).

Each service reads its candidates in one query, decides with :mod:`.rules` on each case's region calendar, and
writes one :class:`CaseNotice` per (case, kind, deadline, due date) in its own short transaction on the locked
case: running any number of times, or in two processes at once, writes each notice once. E-mails go after the
notice is committed, to users with an address only; they name the case and the deadline, never the evaluator.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from haochaping.accounts.roles import Role
from haochaping.core.models import AuditEntry
from haochaping.org.models import ManagementAgency
from haochaping.org.policy import ancestor_codes
from haochaping.rectification import rules, services
from haochaping.rectification.models import Appeal, CaseNotice, CaseTransition, RectificationCase
from haochaping.rectification.rules import DeadlineKind, Outcome, State
from haochaping.rectification.services import HANDLING_PENDING, case_clock, mail  # noqa: F401  (re-exported for callers)

log = logging.getLogger(__name__)

SYSTEM = "system"
# Calendar days ahead that can still be "one working day left": the longest holidays (春节, 国庆) run 8–9 days.
HORIZON_DAYS = 14
REMIND_WORKING_DAYS = 1
UNCONFIRMED_NOTE = "评价人逾期未确认"


# --- reading ---------------------------------------------------------------------------------------------------


def deadline_rows(case: RectificationCase, today: date) -> list[rules.DeadlineRow]:
    """Each deadline of ``case`` on its region's working-day calendar (services.case_deadlines)."""
    return services.case_deadlines(case, today)


def _on(field: str, due: dict) -> Q:
    """``due`` ({"__lt": day} or {"__gte": a, "__lte": b}) applied to the date field ``field``."""
    return Q(**{f"{field}{lookup}": value for lookup, value in due.items()})


def _candidates(due: dict) -> list[RectificationCase]:
    """One query: cases still in the unit's hands with a due date matching ``due`` (a superset the rules narrow):
    the callback pending, or the handling pending (立行立改/解释说明 by fix_now_due; a 台账 by its own deadline
    or rectify_due, whichever the rules take)."""
    deadline = Q(outcome=Outcome.DEADLINE)
    callback = Q(state=State.OPEN) & _on("callback_due", due)
    handling = Q(state__in=HANDLING_PENDING, handled_at__isnull=True) & (
        (~deadline & _on("fix_now_due", due)) | (deadline & (_on("ledger__deadline", due) | _on("rectify_due", due)))
    )
    return list(
        RectificationCase.objects.filter(state__in=rules.IN_HAND)
        .filter(callback | handling)
        .select_related("ledger", "department")
        .order_by("pk")
    )


@dataclass(frozen=True)
class _Notice:
    case: RectificationCase
    kind: str
    deadline: str
    due: date
    working_days_left: int | None = None

    @property
    def key(self) -> tuple[int, str, str, date]:
        return (self.case.pk, self.kind, self.deadline, self.due)


def _existing(notices: list[_Notice]) -> set[tuple]:
    """The (case, kind, deadline, due) already written, in one query."""
    if not notices:
        return set()
    rows = CaseNotice.objects.filter(
        case_id__in={n.case.pk for n in notices}, kind__in={n.kind for n in notices}
    ).values_list("case_id", "kind", "deadline", "due")
    return set(rows)


# --- who is told -----------------------------------------------------------------------------------------------


def _supervisors(region_codes: set[str], *, above: bool = False) -> dict[str, tuple[str | None, list[str]]]:
    """Per region code: the supervising region (its own, or with ``above`` its parent's) nearest the region that
    has supervisors with an e-mail address, and their addresses. Two queries for any number of regions."""
    User = get_user_model()
    chains = {code: ancestor_codes(code)[1:] if above else ancestor_codes(code) for code in region_codes}
    chains = {code: chain or ancestor_codes(code) for code, chain in chains.items()}  # a province escalates to itself
    wanted = {c for chain in chains.values() for c in chain}
    emails = defaultdict(list)
    for region_id, email in (
        User.objects.filter(role=Role.SUPERVISOR, is_active=True, region_id__in=wanted).exclude(email="")
        .order_by("pk").values_list("region_id", "email")
    ):
        emails[region_id].append(email)
    agencies = set(ManagementAgency.objects.filter(region_id__in=wanted).values_list("region_id", flat=True))
    out = {}
    for code, chain in chains.items():
        target = next((c for c in chain if emails.get(c)), None) or next((c for c in chain if c in agencies), chain[0])
        out[code] = (target, emails.get(target, []))
    return out


def _agency_ids(region_codes: set) -> dict[str, int]:
    return dict(ManagementAgency.objects.filter(region_id__in=region_codes).values_list("region_id", "pk"))


def _reminder_mail(n: _Notice) -> tuple[str, str]:
    label = DeadlineKind(n.deadline).label
    left = _("今天到期") if not n.working_days_left else _("还剩%(n)d个工作日") % {"n": n.working_days_left}
    subject = _("【好差评】%(case)s：%(deadline)s期限临近（%(due)s）") % {
        "case": n.case, "deadline": label, "due": n.due.isoformat()}
    body = _("%(case)s的“%(deadline)s”期限为%(due)s，%(left)s。请登录好差评系统工作台及时办理：%(url)s\n\n"
             "本邮件由系统自动发送，请勿回复。") % {
        "case": n.case, "deadline": label, "due": n.due.isoformat(), "left": left, "url": mail.workbench_url()}
    return subject, body


def _escalation_mail(n: _Notice) -> tuple[str, str]:
    label = DeadlineKind(n.deadline).label
    subject = _("【好差评】逾期上报：%(case)s %(deadline)s已于%(due)s到期未完成") % {
        "case": n.case, "deadline": label, "due": n.due.isoformat()}
    if n.deadline == DeadlineKind.APPEAL_REVIEW:
        who = _("该差评的申诉应于%(due)s前审核完毕，至今未作出决定。") % {"due": n.due.isoformat()}
    else:
        who = _("责任单位：%(unit)s。“%(deadline)s”期限为%(due)s，至今未完成。") % {
            "unit": n.case.department.name, "deadline": label, "due": n.due.isoformat()}
    body = _("%(case)s已逾期，按规定上报政务服务管理机构。%(who)s请登录好差评系统督促办理：%(url)s\n\n"
             "本邮件由系统自动发送，请勿回复。") % {"case": n.case, "who": who, "url": mail.workbench_url()}
    return subject, body


# --- writing ---------------------------------------------------------------------------------------------------


def _still_due(case: RectificationCase, n: _Notice, today: date) -> bool:
    """Re-check on the locked, fresh case that the notice is still called for (it may have moved meanwhile)."""
    if case.state not in rules.IN_HAND:
        return False
    decide = rules.remind if n.kind == CaseNotice.Kind.REMINDER else rules.escalate
    return any(row.kind == n.deadline and row.due == n.due and decide(row) for row in deadline_rows(case, today))


def _locked_case(case_id) -> RectificationCase | None:
    # of=("self",): PostgreSQL cannot lock the nullable side of the ledger's outer join.
    return (RectificationCase.objects.select_for_update(of=("self",)).select_related("ledger", "department")
            .filter(pk=case_id).first())


def _write(n: _Notice, *, now: datetime, today: date, sent_to: int, agency_id: int | None) -> bool:
    """Write one notice (and, for an escalation, the case's step and audit) unless it exists or no longer applies."""
    escalation = n.kind == CaseNotice.Kind.ESCALATION
    try:
        with transaction.atomic():
            case = _locked_case(n.case.pk)
            if case is None:
                return False
            if n.deadline == DeadlineKind.APPEAL_REVIEW:
                appeal = Appeal.objects.select_for_update().filter(case_id=case.pk).first()
                if appeal is None or appeal.state not in rules.APPEAL_OPEN or not appeal.review_due < today:
                    return False
            elif not _still_due(case, n, today):
                return False
            if CaseNotice.objects.filter(case=case, kind=n.kind, deadline=n.deadline, due=n.due).exists():
                return False
            notice = CaseNotice.objects.create(case=case, kind=n.kind, deadline=n.deadline, due=n.due,
                                               agency_id=agency_id if escalation else None, created_at=now,
                                               sent_to=sent_to)
            if escalation:
                label = DeadlineKind(n.deadline).label
                CaseTransition.objects.create(
                    case=case, at=now, actor=None, action="escalate", from_state=case.state, to_state=case.state,
                    note=_("%(deadline)s期限%(due)s已过，已上报政务服务管理机构") % {
                        "deadline": label, "due": n.due.isoformat()},
                )
                AuditEntry.objects.create(
                    actor=SYSTEM, action="case.escalate", object_type="rectification.RectificationCase",
                    object_id=str(case.pk),
                    data={"notice": notice.pk, "deadline": n.deadline, "due": n.due.isoformat(), "agency": agency_id,
                          "state": case.state},
                )
                # Only the escalations of the unit's own deadlines mark the case as escalated (the overdue filter);
                # an overdue appeal review is the agency's delay, not the unit's.
                if case.escalated_at is None and n.deadline != DeadlineKind.APPEAL_REVIEW:
                    case.escalated_at = now
                    case.save(update_fields=["escalated_at"])
    except IntegrityError:  # another process wrote the same notice between our check and insert
        return False
    return True


def _now_today(now: datetime | None) -> tuple[datetime, date]:
    now = now or timezone.now()
    return now, timezone.localdate(now)


def send_reminders(now: datetime | None = None) -> int:
    """Remind the assignee and the unit's handlers of each deadline with at most one working day left (R4.2).
    Returns the number of reminders written (each deadline of a case is reminded once)."""
    now, today = _now_today(now)
    horizon = today + timedelta(days=HORIZON_DAYS)
    cases = _candidates({"__gte": today, "__lte": horizon})
    wanted = []
    for case in cases:
        for row in deadline_rows(case, today):
            if rules.remind(row, REMIND_WORKING_DAYS):
                wanted.append(_Notice(case, CaseNotice.Kind.REMINDER, row.kind, row.due, row.working_days_left))
    done = _existing(wanted)
    wanted = [n for n in wanted if n.key not in done]
    if not wanted:
        return 0
    emails = mail.handler_emails([n.case for n in wanted])
    written, messages = 0, []
    for n in wanted:
        to = emails.get(n.case.pk, [])
        if _write(n, now=now, today=today, sent_to=len(to), agency_id=None):
            written += 1
            messages += mail.mails(*_reminder_mail(n), to)
    mail.send_mails(messages)
    return written


def escalate_overdue(now: datetime | None = None) -> int:
    """Escalate every deadline passed unmet to the supervising management agency (R4.6), and appeal reviews past
    their deadline to the agency above (R7.3). Returns the number of escalations written."""
    now, today = _now_today(now)
    cases = _candidates({"__lt": today})
    wanted = []
    for case in cases:
        for row in deadline_rows(case, today):
            if rules.escalate(row):
                wanted.append(_Notice(case, CaseNotice.Kind.ESCALATION, row.kind, row.due))
    written = _escalate(wanted, now=now, today=today, above=False)
    return written + escalate_overdue_appeals(now)


def escalate_overdue_appeals(now: datetime | None = None) -> int:
    """Appeals still undecided after their review deadline: an escalation notice to the management agency above
    the one that reviews them (a province's to its own)."""
    now, today = _now_today(now)
    appeals = (Appeal.objects.filter(state__in=rules.APPEAL_OPEN, review_due__lt=today)
               .select_related("case", "case__department").order_by("pk"))
    wanted = [_Notice(a.case, CaseNotice.Kind.ESCALATION, DeadlineKind.APPEAL_REVIEW, a.review_due) for a in appeals]
    return _escalate(wanted, now=now, today=today, above=True)


def _escalate(wanted: list[_Notice], *, now, today, above: bool) -> int:
    done = _existing(wanted)
    wanted = [n for n in wanted if n.key not in done]
    if not wanted:
        return 0
    supervising = _supervisors({n.case.region_id for n in wanted}, above=above)
    agencies = _agency_ids({region for region, _emails in supervising.values() if region})
    written, messages = 0, []
    for n in wanted:
        region, to = supervising[n.case.region_id]
        if _write(n, now=now, today=today, sent_to=len(to), agency_id=agencies.get(region)):
            written += 1
            messages += mail.mails(*_escalation_mail(n), to)
    mail.send_mails(messages)
    return written


def close_unconfirmed(now: datetime | None = None) -> int:
    """Close answered cases whose evaluator did not say 满意/不满意 by ``satisfaction_due`` (R4.4), by the
    system. Returns the number closed."""
    now, today = _now_today(now)
    ids = list(
        RectificationCase.objects.filter(state=State.ANSWERED, satisfaction="", satisfaction_due__lt=today)
        .order_by("pk").values_list("pk", flat=True)
    )
    closed = 0
    for case_id in ids:
        with transaction.atomic():
            case = RectificationCase.objects.select_for_update().filter(pk=case_id).first()
            if (case is None or case.state != State.ANSWERED or case.satisfaction or case.satisfaction_due is None
                    or not case.satisfaction_due < today
                    or rules.transition_problem(case.state, State.CLOSED, "close")):
                continue
            CaseTransition.objects.create(case=case, at=now, actor=None, action="close", from_state=case.state,
                                          to_state=State.CLOSED, note=UNCONFIRMED_NOTE)
            AuditEntry.objects.create(
                actor=SYSTEM, action="case.close", object_type="rectification.RectificationCase",
                object_id=str(case.pk),
                data={"from": case.state, "to": State.CLOSED, "reason": "satisfaction_overdue",
                      "satisfaction_due": case.satisfaction_due.isoformat()},
            )
            case.state = State.CLOSED
            case.closed_at = now
            case.save(update_fields=["state", "closed_at"])
            closed += 1
    return closed
