"""The handler's queue (/work/): "我的案件" and "本单位案件", due soonest first. Supervisors go to their list."""

from __future__ import annotations

from django.db.models import Case, F, IntegerField, Prefetch, Value, When
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from haochaping.accounts.roles import Role
from haochaping.evaluation.models import Label
from haochaping.rectification import rules
from haochaping.rectification.views.common import (
    LIST_RELATED,
    current_due,
    is_supervisor,
    may_use_workbench,
    visible_cases,
    with_current_due,
    workbench_view,
)

# The queue shows what waits on the unit; answered and closed cases are the supervisors' (and the evaluator's).
QUEUE_STATES = rules.IN_HAND | {rules.State.REOPENED}


def with_list_related(qs):
    """``qs`` with what a case table shows of each case (one query for the cases, one for labels)."""
    return qs.select_related(*LIST_RELATED).prefetch_related(
        Prefetch("evaluation__labels", queryset=Label.objects.order_by("code"))
    )


def rows_of(cases) -> list[dict]:
    """Rows for a case table from cases read by :func:`with_list_related`: each with its current deadline."""
    today = timezone.localdate()
    return [{"case": case, "due": current_due(case, today)} for case in cases]


def list_rows(qs):
    """Rows for a case table: the case with its current deadline (one query for the cases, one for labels)."""
    return rows_of(with_list_related(qs))


def ordered_by_due(qs):
    return with_current_due(qs).order_by(F("current_due").asc(nulls_last=True), "opened_at", "pk")


def _lands_here(user) -> bool:
    return may_use_workbench(user) or (user.is_active and user.role == Role.STAFF)


@workbench_view(allow=_lands_here)
@require_GET
def queue(request):
    user = request.user
    if is_supervisor(user):
        return redirect("rectification:supervision")
    if user.role == Role.STAFF:
        # Window staff have no cases to handle: they start at their own results (and appeal a bad review there).
        return redirect("insight:mine")
    cases = visible_cases(user).filter(state__in=QUEUE_STATES)
    mine = list_rows(ordered_by_due(cases.filter(assignee=user)))
    # Unassigned first: they wait on someone to take them.
    unassigned_first = Case(When(assignee__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField())
    unit = list_rows(with_current_due(cases).annotate(unassigned_first=unassigned_first).order_by(
        "unassigned_first", F("current_due").asc(nulls_last=True), "opened_at", "pk"))
    return render(request, "rectification/queue.html", {
        "mine": mine, "unit": unit, "workbench_section": "queue",
    })
