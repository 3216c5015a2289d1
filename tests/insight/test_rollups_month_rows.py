"""The month rows (RegionMonthCounter, UnitMonthCounter, RegionMonthMix; issue 14 item 2): kept in step with the
day rows by the same writes, recomputed by ``rebuild_rollups``, and read for the whole months of a wide period —
the figures stay exactly those the evaluations give."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from haochaping.accounts.roles import Role
from haochaping.catalog.models import ServiceItem as Item
from haochaping.evaluation.models import Channel, Evaluation, EvaluationExclusion
from haochaping.insight import metrics, rollups
from haochaping.insight.models import (
    MONTHLY,
    WIDE_VALUES,
    RegionMonthCounter,
    RegionMonthMix,
    UnitMonthCounter,
)
from haochaping.insight.rollups import monthly
from haochaping.insight.rules import BAD_LEVELS

from .helpers import completed_record, exclude, import_default, rate
from .test_dashboard import client_for, make

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 7, 15)


@pytest.fixture
def clock():
    with time_machine.travel(datetime(2026, 7, 15, 15, 0, tzinfo=SH), tick=True):
        yield


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SH)


@pytest.fixture
def months(clock, org, item, national_labels):
    """Evaluations on the edges and inside of April–July 2026 (北京时间), through the evaluation services: levels,
    channels, labelled 差评, an exclusion, an imported default, two units; one on 1 April just after midnight and
    one on 31 May just before."""
    other_item = Item.objects.exclude(pk=item.pk).first() or item
    days = [(date(2026, 4, 1), 0), (date(2026, 4, 17), 12), (date(2026, 5, 2), 9), (date(2026, 5, 31), 23),
            (date(2026, 6, 10), 12), (date(2026, 6, 30), 18), (date(2026, 7, 1), 8), (date(2026, 7, 14), 12)]
    out = []
    for i, (day, hour) in enumerate(days):
        moment = at(day, hour) + timedelta(minutes=5 if hour == 0 else 0)
        for level, channel in ((5, "pc"), (1 + i % 2, "kiosk"), (4, "qr")):
            record = completed_record(org, item if i % 3 else other_item, completed_at=moment - timedelta(minutes=1))
            out.append(rate(record, level, channel=channel, now=moment))
    exclude(out[1])
    import_default(completed_record(org, item, completed_at=at(date(2026, 5, 20))), now=at(date(2026, 6, 5)))
    completed_record(org, item, completed_at=at(date(2026, 6, 3)))  # completed, never rated
    return out


def raw(flt: metrics.StatsFilter) -> dict:
    """The figures straight from the evaluations of the period (北京时间 days)."""
    lo, hi = at(flt.date_from, 0), at(flt.date_to + timedelta(days=1), 0)
    out = {"levels": {lv: 0 for lv in range(1, 6)}, "excluded": 0, "excluded_bad": 0, "system_default": 0,
           "channels": {}, "labels": {}}
    for ev in Evaluation.objects.filter(created_at__gte=lo, created_at__lt=hi).prefetch_related("labels"):
        excluded = EvaluationExclusion.objects.filter(evaluation=ev).exists()
        if ev.channel == Channel.SYSTEM_DEFAULT:
            out["system_default"] += 1
        elif excluded:
            out["excluded"] += 1
            out["excluded_bad"] += ev.level in BAD_LEVELS
        else:
            out["levels"][ev.level] += 1
            out["channels"][ev.channel] = out["channels"].get(ev.channel, 0) + 1
            if ev.is_bad:
                for label in ev.labels.all():
                    out["labels"][label.pk] = out["labels"].get(label.pk, 0) + 1
    return out


def test_split_whole_months_and_edges():
    assert monthly.split(date(2026, 1, 1), date(2026, 7, 15)) == (
        [(date(2026, 7, 1), date(2026, 7, 15))], (date(2026, 1, 1), date(2026, 6, 1)))
    assert monthly.split(date(2026, 4, 17), date(2026, 6, 30)) == (
        [(date(2026, 4, 17), date(2026, 4, 30))], (date(2026, 5, 1), date(2026, 6, 1)))
    assert monthly.split(date(2026, 6, 1), date(2026, 6, 30)) == ([], (date(2026, 6, 1), date(2026, 6, 1)))
    assert monthly.split(date(2026, 7, 1), date(2026, 7, 15)) == ([(date(2026, 7, 1), date(2026, 7, 15))], None)
    assert monthly.split(date(2026, 6, 20), date(2026, 7, 10)) == ([(date(2026, 6, 20), date(2026, 7, 10))], None)
    assert monthly.split(date(2026, 12, 5), date(2027, 2, 28)) == (
        [(date(2026, 12, 5), date(2026, 12, 31))], (date(2027, 1, 1), date(2027, 2, 1)))
    assert monthly.split(None, date(2026, 7, 15)) == ([(date(2026, 7, 1), date(2026, 7, 15))], (None, date(2026, 6, 1)))
    assert monthly.split(date(2026, 4, 2), None) == ([(date(2026, 4, 2), date(2026, 4, 30))], (date(2026, 5, 1), None))
    assert monthly.split(None, None) == ([], (None, None))


def test_the_writes_keep_the_month_rows_equal_to_the_sum_of_the_day_rows(months):
    assert set(RegionMonthCounter.objects.values_list("day", flat=True)) == {
        date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1), date(2026, 7, 1)}
    assert UnitMonthCounter.objects.exists() and RegionMonthMix.objects.filter(kind="label").exists()
    for day_model, month_model in MONTHLY.items():
        assert monthly.stored(month_model, None, None) == monthly.expected(day_model, None, None), month_model
    assert rollups.rebuild(apply=False).agrees
    june = RegionMonthCounter.objects.filter(day=date(2026, 6, 1))
    assert sum(r.completed for r in june) == 7  # 3 + 3 rated 办件 (10 and 30 June) and one never rated
    assert sum(r.system_default for r in june) == 1


@pytest.mark.parametrize("period", [
    (date(2026, 1, 1), TODAY),  # 本年: whole months April–June, the edge 1–15 July
    (date(2026, 4, 17), date(2026, 6, 30)),  # a partial first month
    (date(2026, 5, 1), date(2026, 5, 31)),  # 上月-like: one whole month, no edge
    (date(2026, 4, 1), date(2026, 4, 1)),  # one day
])
def test_wide_period_figures_equal_the_evaluations_and_the_fine_counters(org, months, period):
    supervisor = make(Role.SUPERVISOR, region=org.province)
    flt = metrics.StatsFilter(date_from=period[0], date_to=period[1])
    want = raw(flt)
    total = metrics.figures(supervisor, flt).total
    assert {lv: total.tally.levels.get(lv, 0) for lv in range(1, 6)} == want["levels"]
    assert (total.tally.excluded, total.tally.excluded_bad, total.tally.system_default) == (
        want["excluded"], want["excluded_bad"], want["system_default"])
    assert {r.code: r.count for r in metrics.channel_counts(supervisor, flt)} == want["channels"]
    assert {r.code: r.count for r in metrics.bad_review_labels(supervisor, flt, limit=100)} == want["labels"]
    # The same figures from the fine counters (an item filter naming every item takes the fine path).
    fine = replace(flt, items=frozenset(Item.objects.values_list("pk", flat=True)))
    assert metrics._wide_table(supervisor, fine, None) is None
    for group_by in (None, "month", "department", "agency", "window", "region"):
        wide = metrics.figures(supervisor, flt, group_by=group_by)
        slow = metrics.figures(supervisor, fine, group_by=group_by)
        assert wide.total.as_dict() == slow.total.as_dict(), group_by
        assert [g.as_dict() for g in wide.groups] == [g.as_dict() for g in slow.groups], group_by


DAY_TABLES = re.compile(r'\b(FROM|JOIN)\s+"(insight_regiondaycounter|insight_unitdaycounter|insight_regiondaymix)"')
MONTH_TABLES = re.compile(r'\b(FROM|JOIN)\s+"(insight_regionmonthcounter|insight_unitmonthcounter|insight_regionmonthmix)"')


def test_the_year_page_reads_whole_months_from_the_month_rows(org, months):
    supervisor = make(Role.SUPERVISOR, region=org.province)
    with CaptureQueriesContext(connection) as ctx:
        response = client_for(supervisor).get("/insight/?period=year")
    assert response.status_code == 200
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert {m.group(2) for s in sqls for m in MONTH_TABLES.finditer(s)} == {
        "insight_regionmonthcounter", "insight_unitmonthcounter", "insight_regionmonthmix"}
    # The day rows only for the partial month at the edge (1–15 July), never for the whole months before it.
    day_reads = [s for s in sqls if DAY_TABLES.search(s)]
    assert day_reads and all("2026-07-01" in s for s in day_reads)
    assert not any("2026-01-01" in s for s in day_reads)


def test_last_month_reads_no_day_rows(org, months):
    supervisor = make(Role.SUPERVISOR, region=org.province)
    with CaptureQueriesContext(connection) as ctx:
        response = client_for(supervisor).get("/insight/?period=last_month")
    assert response.status_code == 200
    sqls = [q["sql"] for q in ctx.captured_queries]
    # 上月 is one whole month: every figure reads the month rows but the trend by day, which needs the day rows.
    assert any(MONTH_TABLES.search(s) for s in sqls)
    day_reads = [s for s in sqls if DAY_TABLES.search(s)]
    assert len(day_reads) == 1 and "insight_regiondaycounter" in day_reads[0] and "GROUP BY" in day_reads[0]


def test_the_rebuild_recreates_and_checks_the_month_rows(months):
    def rows():  # without rows an exclusion left at zero (the same as no row)
        out = {}
        for m in (RegionMonthCounter, UnitMonthCounter, RegionMonthMix):
            values, n = ("count",) if m is RegionMonthMix else WIDE_VALUES, len(m.key_fields)
            out[m] = {r for r in m.objects.values_list(*m.key_fields, *values) if any(r[n:])}
        return out

    before = rows()
    labels = RegionMonthMix.objects.filter(kind="label").exclude(count=0).count()
    RegionMonthMix.objects.filter(kind="label").delete()
    may = RegionMonthCounter.objects.filter(day=date(2026, 5, 1)).update(level5=99)
    assert labels and may
    # Only the month rows differ (the day rows are right): each is found.
    assert rollups.rebuild(apply=False).wide_differing == labels + may
    # A rebuild of a few days inside a month recomputes that whole month from its day rows.
    rollups.rebuild(date(2026, 5, 10), date(2026, 5, 12))
    assert RegionMonthCounter.objects.filter(day=date(2026, 5, 1), level5=99).count() == 0
    rollups.rebuild()
    assert rows() == before
    assert rollups.rebuild(apply=False).agrees

