"""The rebuild works month by month (bounded memory, one month's lock at a time), and a rebuild stopped after its
first month converges when run again."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from haochaping.insight import rollups
from haochaping.insight.models import DailyCounter, DailyParticipation

from .helpers import completed_record, exclude, rate
from .test_rollups import raw_counts

pytestmark = pytest.mark.django_db


class Stop(Exception):
    pass


def month_back(n: int) -> datetime:
    """Noon on the 10th, n months before this one (北京时间); this month: ten minutes ago."""
    if n == 0:
        return timezone.now() - timedelta(minutes=10)
    today = timezone.localdate()
    index = today.year * 12 + today.month - 1 - n
    return timezone.make_aware(datetime(index // 12, index % 12 + 1, 10, 12))


@pytest.fixture
def three_months(org, item):
    evaluations = []
    for n in (2, 1, 0):
        at = month_back(n)
        for level in (5, 2):
            record = completed_record(org, item, completed_at=at)
            evaluations.append(rate(record, level, now=at + timedelta(minutes=5)))
    exclude(evaluations[1])
    return evaluations


def test_the_period_is_cut_at_month_boundaries(three_months):
    first, last = month_back(2).date(), timezone.localdate()
    periods = rollups.periods(None, None)
    assert len(periods) >= 2
    assert periods[0][0] is None and periods[-1][1] is None  # open ends: stray counters outside the data too
    assert all(s.month == e.month and s.year == e.year for s, e in periods[1:-1])
    bounded = rollups.periods(date(first.year, first.month, 20), last)
    assert bounded[0] == (date(first.year, first.month, 20), bounded[0][1])
    assert bounded[0][1].day in (28, 29, 30, 31) and bounded[-1][1] == last
    weekly = rollups.periods(date(first.year, first.month, 1), last, days=7)
    assert [s.day for s, _e in weekly[:4]] == [1, 8, 15, 22] and weekly[4][0].day in (29, 1)  # 1: February
    assert all((e - s).days < 7 for s, e in weekly) and weekly[-1][1] == last


def test_a_rebuild_stopped_after_its_first_month_converges_when_run_again(three_months):
    want_counts = raw_counts()
    want_participation = rollups.participation.expected()
    DailyCounter.objects.update(count=9)  # drift in every month
    DailyParticipation.objects.update(completed=7)
    oldest = timezone.localtime(three_months[0].created_at).date()

    def stop(start, end, report):
        raise Stop(f"killed after {start}–{end}")

    with pytest.raises(Stop):
        rollups.rebuild(after_period=stop)
    # The first month is rebuilt (committed), the later ones not yet.
    assert set(DailyCounter.objects.filter(day__lte=oldest).values_list("count", flat=True)) == {1}
    assert set(DailyCounter.objects.filter(day__gt=oldest).values_list("count", flat=True)) == {9}
    assert not rollups.rebuild(apply=False).agrees

    done = []
    report = rollups.rebuild(after_period=lambda s, e, r: done.append((s, e)))
    assert len(done) >= 2 and report.evaluations == 6 and report.applied
    assert rollups.stored() == want_counts
    assert rollups.participation.stored() == want_participation
    check = rollups.rebuild(apply=False)
    assert check.agrees and check.evaluations == 6 and check.completed == 6
    assert rollups.rebuild(apply=False, days=3).agrees
