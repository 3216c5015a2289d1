"""What every workbench page shares: who may use it, the scoped case lookup, deadlines with time left.

The pages themselves live in views.queue (handler's queue), views.case (case page, its forms and files),
views.supervision (supervisors' list, CSV, figures, notices) and views.complaints. Pages are thin: each form
calls one service and shows a refused step's ``DomainError`` next to the field it names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.db.models import Case, F, Q, When
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from haochaping.accounts.models import display_related
from haochaping.accounts.roles import Role
from haochaping.core.scoping import scope
from haochaping.rectification import rules, services
from haochaping.rectification.models import RectificationCase
from haochaping.rectification.rules import DeadlineKind, State

# Everything a list row shows, in one query (the evaluation's labels come by prefetch).
LIST_RELATED = ("department", "agency", *display_related("assignee"), "record__item", "evaluation", "ledger", "appeal")


def is_supervisor(user) -> bool:
    return bool(user.is_superuser or getattr(user, "role", None) == Role.SUPERVISOR)


def is_handler(user) -> bool:
    return getattr(user, "role", None) == Role.HANDLER


def may_use_workbench(user) -> bool:
    return user.is_active and (is_supervisor(user) or is_handler(user))


def may_open_complaint(user) -> bool:
    # As services.open_complaint: the management agency's supervisors and 12345 operators, not the units themselves.
    return user.is_active and (is_supervisor(user) or getattr(user, "role", None) == Role.HOTLINE)


def forbidden(request):
    # A handler or supervisor refused one page (e.g. an administrator's) is told that, not who may use the workbench.
    return render(request, "rectification/forbidden.html", {"other_page": may_use_workbench(request.user)}, status=403)


def workbench_view(allow=may_use_workbench):
    """Signed in (else the login page), and a role that works cases (else a 403 page naming who may)."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not allow(request.user):
                return forbidden(request)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def visible_cases(user):
    return scope(RectificationCase.objects.all(), user)


def get_case(user, case_id: int, *, related=LIST_RELATED) -> RectificationCase:
    """The case if ``user`` may see it; out of scope is the same 404 as nonexistent."""
    case = visible_cases(user).select_related(*related).filter(pk=case_id).first()
    if case is None:
        raise Http404(_("没有这个整改案件"))
    return case


# Exactly the states in which with_current_due gives a date: its When branches, whose columns are all NOT NULL
# (a missing 台账 falls through to rectify_due); every other state's is None.
DUE_STATES = (State.OPEN, State.CALLED_BACK, State.RECTIFYING)


def with_current_due(qs):
    """Annotate ``current_due``: the date the case must next meet (None when nothing is pending on the unit).

    Mirrors rules.deadline_rows: callback first, then the handling deadline (立行立改/解释说明/误评) or, under
    限期整改, the 台账 date — the requested one only when it is within rectify_due or its extension was approved."""
    return qs.annotate(current_due=Case(
        When(state=State.OPEN, then=F("callback_due")),
        When(state=State.CALLED_BACK, then=F("fix_now_due")),
        When(Q(state=State.RECTIFYING) & (Q(ledger__extension_approved=True) | Q(ledger__deadline__lte=F("rectify_due"))),
             then=F("ledger__deadline")),
        When(state=State.RECTIFYING, then=F("rectify_due")),
        default=None,
    ))


def list_deadlines(case: RectificationCase, today: date | None = None) -> list[rules.DeadlineRow]:
    """Each deadline of a listed case (services.case_deadlines); the list select_related("ledger"), so a list of
    N cases stays one query."""
    return services.case_deadlines(case, today)


@dataclass(frozen=True)
class DueView:
    """A deadline as a page shows it."""

    kind: str
    label: str
    due: date
    done_on: date | None
    left: int | None
    overdue: bool
    text: str  # "剩余2个工作日", "今天到期", "已逾期1个工作日", "已于…完成", "—"

    @property
    def css(self) -> str:
        if self.overdue:
            return "due-overdue"
        if self.left is not None and self.left <= 1:
            return "due-soon"
        return "due-ok"


def time_left_text(row: rules.DeadlineRow) -> str:
    if row.done_on is not None:
        late = _("（逾期完成）") if row.done_late else ""
        return _("已于%(day)s完成") % {"day": row.done_on.isoformat()} + late
    if row.working_days_left is None:
        return _("无需办理")
    if row.overdue:
        late = max(-row.working_days_left, 0)
        return _("已逾期%(n)d个工作日") % {"n": late} if late else _("已逾期")
    if row.working_days_left == 0:
        return _("今天到期")
    return _("剩余%(n)d个工作日") % {"n": row.working_days_left}


def due_view(row: rules.DeadlineRow) -> DueView:
    return DueView(
        kind=row.kind, label=str(DeadlineKind(row.kind).label), due=row.due, done_on=row.done_on,
        left=row.working_days_left, overdue=row.overdue, text=time_left_text(row),
    )


def current_due(case: RectificationCase, today: date | None = None) -> DueView | None:
    """The first deadline not yet met (what the queue sorts by), or None when none is pending."""
    if case.state not in rules.IN_HAND:
        return None
    for row in list_deadlines(case, today):
        if row.done_on is None and row.working_days_left is not None:
            return due_view(row)
    return None
