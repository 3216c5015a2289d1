"""我的评价结果 (/insight/mine/): a window staff member's own results (R1.1 人员 as a target; REQUIREMENTS "staff
see their own results"): the figures of the last 30 days and 12 months, month by month, and their recent bad
reviews with how each case stands, with the way to appeal one.

Thin: every number comes from :mod:`..metrics` under the staff member's own scope (core.scoping: a staff account
sees only evaluations of itself), the same figures the dashboards and reports publish (同源发布).
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from haochaping.accounts.roles import Role
from haochaping.evaluation.rules import level_text

from .. import charts, metrics
from ..painpoints import Period
from .dashboard import headline

RECENT_BAD = 20


def is_staff_member(user) -> bool:
    return bool(user.is_active and getattr(user, "role", None) == Role.STAFF and getattr(user, "staff_id", None))


def _bad_rows(user, since) -> list[dict]:
    rows = (metrics.evaluations(user, metrics.StatsFilter(date_from=since)).filter(is_bad=True)
            .select_related("item", "window", "case").prefetch_related("labels").order_by("-created_at")[:RECENT_BAD])
    out = []
    for ev in rows:
        case = getattr(ev, "case", None)
        out.append({"ev": ev, "level": level_text(ev.level), "labels": [label.text for label in ev.labels.all()],
                    "case": case})
    return out


# Of the dashboard's headline figures, those about a person (参评率 is the 办件's, not the staff member's).
SHOWN = ("evaluations", "good-rate", "bad-rate", "satisfaction", "excluded")


def _shown(total) -> list[dict]:
    return [fig for fig in headline(total) if fig["id"] in SHOWN]


@login_required
@require_GET
def mine(request):
    user = request.user
    if not is_staff_member(user):
        # Everyone else has the dashboard of their unit or region (or is told there who may use it).
        return redirect("insight:dashboard")
    today = timezone.localdate()
    # 近12个月 as the public portal counts it: this month and the eleven before (not twelve before: 13 months).
    year_from = Period.last_months(12, today).start
    month = metrics.figures(user, metrics.StatsFilter(date_from=today - timedelta(days=29), date_to=today))
    year = metrics.figures(user, metrics.StatsFilter(date_from=year_from, date_to=today), group_by="month")
    return render(request, "insight/mine.html", {
        "staff": user.staff, "today": today, "month_from": today - timedelta(days=29), "year_from": year_from,
        "month_figures": _shown(month.total), "year_figures": _shown(year.total),
        "months": [{"key": g.key, "valid": g.tally.valid, "good": g.tally.good, "bad": g.tally.bad,
                    "satisfaction": charts.fmt_score(g.tally.satisfaction)}
                   for g in sorted(year.groups, key=lambda g: g.key, reverse=True)],
        "bad": _bad_rows(user, year_from),
        "workbench_section": "mine",
    })
