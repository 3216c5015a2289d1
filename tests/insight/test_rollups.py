"""Counters kept in step with every evaluation write and exclusion, and a rebuild that agrees with them exactly."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haochaping.evaluation.models import Evaluation
from haochaping.insight import rollups
from haochaping.insight.models import DailyCounter
from haochaping.records.models import ServiceRecord
from tests import factories

from .helpers import completed_record, exclude, import_default, rate

pytestmark = pytest.mark.django_db


def raw_counts() -> Counter:
    """Independently of rollups.expected: one evaluation at a time, in Python."""
    out: Counter = Counter()
    for ev in Evaluation.objects.select_related("exclusion").order_by():
        excluded = hasattr(ev, "exclusion")
        key = (timezone.localtime(ev.created_at).date(), ev.region_id, ev.department_id, ev.agency_id or 0,
               ev.window_id or 0, ev.staff_id or 0, ev.item_id, ev.platform_id or 0, ev.channel, ev.level, ev.type,
               ev.is_real_name, excluded)
        out[key] += 1
    return out


def test_a_written_evaluation_is_counted_once_in_its_counter(org, item):
    ev = rate(completed_record(org, item), 4, channel="kiosk", phone="13912345678")
    row = DailyCounter.objects.get()
    assert (row.day, row.region, row.department, row.window, row.staff, row.item, row.channel, row.level) == (
        timezone.localtime(ev.created_at).date(), org.county.code, org.department.pk, org.window.pk, org.staff.pk,
        item.pk, "kiosk", 4)
    assert (row.is_real_name, row.excluded, row.count) == (True, False, 1)
    rate(completed_record(org, item), 4, channel="kiosk", phone="13900000000")
    assert DailyCounter.objects.get().count == 2


def test_exclusion_moves_the_count_to_the_excluded_bucket(org, item):
    ev = rate(completed_record(org, item), 1)
    exclude(ev)
    counts = dict(DailyCounter.objects.values_list("excluded", "count"))
    assert counts == {False: 0, True: 1}
    assert rollups.stored() == raw_counts()


def test_a_failed_write_leaves_no_count(org, item):
    record = completed_record(org, item)
    with pytest.raises(RuntimeError), transaction.atomic():
        rate(record, 5)
        raise RuntimeError("the caller's transaction fails after the write")
    assert not DailyCounter.objects.exists()


def test_system_defaults_are_counted_under_their_own_channel(org, item):
    import_default(completed_record(org, item))
    assert list(DailyCounter.objects.values_list("channel", "count")) == [("system_default", 1)]


def test_rebuild_reports_and_repairs_drift(org, item):
    rate(completed_record(org, item), 5)
    rate(completed_record(org, item), 2)
    DailyCounter.objects.filter(level=5).update(count=7)  # drift: 6 too many
    DailyCounter.objects.filter(level=2).delete()  # drift: 1 missing
    report = rollups.rebuild(apply=False)
    assert (report.differing, report.missing, report.surplus, report.applied) == (2, 1, 6, False)
    assert DailyCounter.objects.get(level=5).count == 7  # only compared
    report = rollups.rebuild()
    assert (report.evaluations, report.counters, report.differing) == (2, 2, 2)
    assert rollups.stored() == raw_counts()
    assert rollups.rebuild(apply=False).differing == 0


def test_rebuild_of_a_period_leaves_other_days_alone(org, item):
    now = timezone.now()
    old = rate(completed_record(org, item, completed_at=now - timedelta(days=3)), 5, now=now - timedelta(days=3) + timedelta(minutes=5))
    rate(completed_record(org, item), 4)
    old_day = timezone.localtime(old.created_at).date()
    DailyCounter.objects.update(count=9)
    report = rollups.rebuild(old_day, old_day)
    assert report.evaluations == 1
    assert DailyCounter.objects.get(day=old_day).count == 1
    assert DailyCounter.objects.exclude(day=old_day).get().count == 9


def test_rebuild_command_reports_and_check_fails_on_difference(org, item, capsys):
    rate(completed_record(org, item), 5)
    DailyCounter.objects.update(count=3)
    with pytest.raises(CommandError):
        call_command("rebuild_rollups", "--check")
    assert "不同的 1 行" in capsys.readouterr().out
    call_command("rebuild_rollups")
    assert "已按评价重建计数" in capsys.readouterr().out
    call_command("rebuild_rollups", "--check")  # agrees now: no error
    with pytest.raises(CommandError):
        call_command("rebuild_rollups", "--from", "2026-02-30")


# --- hypothesis: random writes, exclusions and system defaults; counters equal a rebuild exactly -------------------

writes = st.lists(
    st.fixed_dictionaries({
        "unit": st.integers(0, 2),  # which of three (department, window, staff) combinations
        "level": st.integers(1, 5),
        "channel": st.sampled_from(["pc", "mobile", "kiosk", "qr", "sms", "default"]),
        "days_ago": st.integers(0, 3),
        "followup": st.booleans(),
        "real_name": st.booleans(),
        "exclude": st.booleans(),
    }),
    min_size=1, max_size=8,
)


@pytest.fixture
def units(org, item):
    other_dept = factories.department(org.other_county, "市中区人社局")
    window2 = type(org.window).objects.create(agency=org.agency, code="B02", name="2号窗口", department=other_dept)
    staff2 = type(org.staff).objects.create(staff_no=f"S{factories.seq():05d}", name="王芳", agency=org.agency,
                                            department=other_dept, window=window2)
    item2 = factories.make_item(org, department=other_dept, region=org.other_county)
    return [
        dict(item=item),
        dict(item=item2, region=org.other_county, department=other_dept, window=window2, staff=staff2),
        dict(item=item, window=None, staff=None, agency=None, platform=org.platform),
    ]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(plan=writes)
def test_counters_equal_a_rebuild_after_random_writes(org, units, plan):
    with transaction.atomic():
        now = timezone.now()
        for w in plan:
            when = now - timedelta(days=w["days_ago"])
            record = completed_record(org, **units[w["unit"]], completed_at=when - timedelta(minutes=30))
            if w["channel"] == "default":
                ev = import_default(record, level=w["level"], now=when)
            else:
                ev = rate(record, w["level"], channel=w["channel"], phone="13912345678" if w["real_name"] else "", now=when)
                if w["followup"]:
                    rate(record, 5 if w["level"] > 2 else 1, type_="followup", channel=w["channel"], now=when)
            if w["exclude"]:
                exclude(ev, "malicious")
        assert rollups.stored() == rollups.expected() == raw_counts()
        assert rollups.rebuild(apply=False).agrees  # and the wide counters derived from them
        transaction.set_rollback(True)


def test_demo_ends_with_counters_equal_to_its_evaluations(db):
    call_command("demo", records=200, verbosity=0)
    assert Evaluation.objects.exists()
    assert sum(DailyCounter.objects.values_list("count", flat=True)) == Evaluation.objects.count()
    report = rollups.rebuild(apply=False)
    assert report.agrees  # evaluation and 参评率 counters alike
    assert report.completed == ServiceRecord.objects.filter(status=3).count()
