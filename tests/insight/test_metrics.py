"""Every figure the metrics module publishes equals the same count made independently from the raw rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from haochaping.accounts.models import Role, User
from haochaping.core.problems import DomainError
from haochaping.evaluation.models import Channel, Evaluation
from haochaping.insight import metrics
from haochaping.insight.metrics import StatsFilter
from haochaping.org.models import Staff, Window
from haochaping.records.models import ServiceRecord
from haochaping.rectification.models import RectificationCase
from tests import factories

from .helpers import completed_record, exclude, import_default, rate

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(org, item):
    """Two units in two counties; good, neutral, bad, follow-up, real-name, excluded and imported evaluations;
    completed 办件 without any evaluation; a window and a staff member with 办件 but no evaluation."""
    other_dept = factories.department(org.other_county, "市中区人社局")
    other_item = factories.make_item(org, department=other_dept, region=org.other_county)
    idle_window = Window.objects.create(agency=org.agency, code="C09", name="9号窗口", department=org.department)
    idle_staff = Staff.objects.create(staff_no=f"S{factories.seq():05d}", name="赵静", agency=org.agency,
                                      department=org.department, window=idle_window)
    here = dict(item=item)
    there = dict(item=other_item, region=org.other_county, department=other_dept, agency=None, window=None, staff=None)
    old = timezone.now() - timedelta(days=40)
    for level in (5, 5, 4, 3, 2, 1):
        rate(completed_record(org, **here), level, channel="kiosk")
    rate(completed_record(org, **here), 5, channel="pc", phone="13912345678")
    followed = completed_record(org, **here)
    rate(followed, 4, channel="qr")
    rate(followed, 1, channel="qr", type_="followup")
    exclude(rate(completed_record(org, **here), 1, channel="kiosk"))
    import_default(completed_record(org, **here))
    import_default(completed_record(org, **there), level=4)
    for level in (5, 2, 2):
        rate(completed_record(org, **there), level, channel="mobile")
    rate(completed_record(org, **there, completed_at=old), 5, channel="mobile", now=old + timedelta(minutes=10))
    completed_record(org, **here)  # completed, never rated
    completed_record(org, **here, window=idle_window, staff=idle_staff)  # ditto, at an idle window
    factories.make_record(org, item, completed=False)  # not completed: never in 参评率
    return dict(other_dept=other_dept, other_item=other_item, idle_window=idle_window, idle_staff=idle_staff)


def user(role, **kw):
    return User.objects.create(username=f"u{factories.seq()}", role=role, is_staff=True, **kw)


@pytest.fixture
def root(db):
    return User.objects.create(username="root", is_superuser=True, is_staff=True)


def raw(qs=None):
    """The figures counted from the evaluation and 办件 rows, without the rollups."""
    qs = Evaluation.objects.all() if qs is None else qs
    valid = qs.countable()
    levels = list(valid.values_list("level", flat=True))
    return dict(
        evaluations=len(levels), good=sum(lv >= 4 for lv in levels), bad=sum(lv <= 2 for lv in levels),
        excluded=qs.excluded().exclude(channel=Channel.SYSTEM_DEFAULT).count(),
        system_default=qs.filter(channel=Channel.SYSTEM_DEFAULT).count(),
        satisfaction=sum((lv - 1) * 25 for lv in levels) / len(levels) if levels else None,
        followups=valid.filter(type="followup").count(), real_name=valid.filter(is_real_name=True).count(),
    )


def raw_participation(records):
    completed = records.filter(status=3)
    rated = sum(1 for r in completed if r.evaluations.exclude(channel=Channel.SYSTEM_DEFAULT).exists())
    return completed.count(), rated


def check(fig, expected):
    d = fig.as_dict()
    for k, v in expected.items():
        assert d[k] == pytest.approx(v), k
    assert d["good_rate"] == pytest.approx(expected["good"] / expected["evaluations"])
    assert d["bad_rate"] == pytest.approx(expected["bad"] / expected["evaluations"])
    assert d["total"] == d["evaluations"] + d["excluded"] + d["system_default"]


def test_totals_equal_raw_counts(world, root):
    stats = metrics.figures(root, StatsFilter())
    check(stats.total, raw())
    assert (stats.total.completed, stats.total.rated) == raw_participation(ServiceRecord.objects.all())
    assert stats.total.participation_rate == pytest.approx(stats.total.rated / stats.total.completed)
    assert stats.groups == []


def test_excluded_and_system_defaults_are_shown_apart(world, root):
    t = metrics.figures(root, StatsFilter()).total.as_dict()
    assert (t["excluded"], t["excluded_bad"], t["system_default"]) == (1, 1, 2)
    assert t["evaluations"] == Evaluation.objects.count() - 3


def test_grouped_by_department_each_group_equals_raw(world, root, org):
    stats = metrics.figures(root, StatsFilter(), group_by="department")
    by_key = {g.key: g for g in stats.groups}
    for dept in (org.department, world["other_dept"]):
        g = by_key[dept.credit_code]
        assert g.name == dept.name
        check(g, raw(Evaluation.objects.filter(department=dept)))
        assert (g.completed, g.rated) == raw_participation(ServiceRecord.objects.filter(department=dept))


def test_grouped_by_region_folds_to_the_level_below(world, root, org):
    stats = metrics.figures(root, StatsFilter.from_codes(region_code=org.city.code), group_by="region")
    assert [g.key for g in stats.groups] == [org.county.code, org.other_county.code]
    top = metrics.figures(root, StatsFilter(), group_by="region")
    assert [g.key for g in top.groups] == [org.province.code]
    assert top.groups[0].tally.valid == top.total.tally.valid


def test_grouped_by_level_and_channel_have_no_participation(world, root):
    by_level = metrics.figures(root, StatsFilter(), group_by="level")
    valid = Evaluation.objects.countable()
    assert {g.key: g.tally.valid for g in by_level.groups} == {
        str(lv): valid.filter(level=lv).count() for lv in range(1, 6)}
    assert all(g.completed is None for g in by_level.groups)
    by_channel = metrics.figures(root, StatsFilter(), group_by="channel")
    assert {g.key: g.tally.total for g in by_channel.groups} == {
        c: Evaluation.objects.filter(channel=c).count() for c in set(Evaluation.objects.values_list("channel", flat=True))}
    assert by_channel.total.completed is not None  # the total still has it


def test_grouped_by_month_and_day(world, root):
    months = metrics.figures(root, StatsFilter(), group_by="month").groups
    assert sum(g.tally.total for g in months) == Evaluation.objects.count()
    assert len(months) == 2  # this month and the one 40 days ago
    days = metrics.figures(root, StatsFilter(), group_by="day").groups
    assert sum(g.tally.total for g in days) == Evaluation.objects.count()


def test_filters_by_code_period_and_channel(world, root, org):
    dept = world["other_dept"]
    f = StatsFilter.from_codes(department=dept.credit_code)
    check(metrics.figures(root, f).total, raw(Evaluation.objects.filter(department=dept)))
    today = timezone.localdate()
    recent = StatsFilter.from_codes(date_from=today - timedelta(days=7), date_to=today)
    since = timezone.now() - timedelta(days=8)
    assert metrics.figures(root, recent).total.tally.valid == Evaluation.objects.countable().filter(created_at__gte=since).count()
    kiosk = metrics.figures(root, StatsFilter.from_codes(channel="kiosk")).total
    check(kiosk, raw(Evaluation.objects.filter(channel="kiosk")))
    completed = ServiceRecord.objects.filter(status=3)
    assert kiosk.rated == sum(1 for r in completed if r.evaluations.filter(channel="kiosk").exists())
    staff = metrics.figures(root, StatsFilter.from_codes(staff_no=org.staff.staff_no)).total
    check(staff, raw(Evaluation.objects.filter(staff=org.staff)))


def test_unknown_codes_give_empty_figures_and_bad_input_names_the_field(world, root):
    empty = metrics.figures(root, StatsFilter.from_codes(department="91370000MA0000000X")).total
    assert (empty.tally.total, empty.completed, empty.participation_rate, empty.tally.good_rate) == (0, 0, None, None)
    with pytest.raises(DomainError) as e:
        StatsFilter.from_codes(date_from=timezone.localdate(), date_to=timezone.localdate() - timedelta(days=1))
    assert e.value.field == "from"
    with pytest.raises(DomainError) as e:
        StatsFilter.from_codes(channel="fax")
    assert e.value.field == "channel"
    with pytest.raises(DomainError) as e:
        metrics.figures(root, StatsFilter(), group_by="colour")
    assert e.value.field == "group_by"


def test_scope_limits_every_figure(world, org):
    far = user(Role.SUPERVISOR, region=org.other_county)
    check(metrics.figures(far, StatsFilter()).total, raw(Evaluation.objects.filter(region=org.other_county)))
    assert metrics.figures(far, StatsFilter()).total.completed == ServiceRecord.objects.filter(
        status=3, region=org.other_county).count()
    # A filter naming a unit outside the scope gives nothing, exactly like a unit that does not exist.
    outside = metrics.figures(far, StatsFilter.from_codes(department=org.department.credit_code)).total
    assert (outside.tally.total, outside.completed) == (0, 0)
    handler = user(Role.HANDLER, region=org.county, department=org.department)
    check(metrics.figures(handler, StatsFilter()).total, raw(Evaluation.objects.filter(department=org.department)))
    staff = user(Role.STAFF, region=org.county, staff=org.staff)
    check(metrics.figures(staff, StatsFilter()).total, raw(Evaluation.objects.filter(staff=org.staff)))
    nobody = user(Role.EVALUATOR)
    assert metrics.figures(nobody, StatsFilter()).total.tally.total == 0


def test_coverage_lists_units_with_completed_records_but_no_evaluation(world, root, org):
    windows = metrics.coverage(root, StatsFilter(), of="window")
    assert (windows.active, windows.evaluated) == (2, 1)
    assert windows.missing == [(f"{org.agency.code}/C09", f"{org.agency.name} 9号窗口")]
    assert windows.rate == pytest.approx(0.5)
    staff = metrics.coverage(root, StatsFilter(), of="staff")
    assert [k for k, _ in staff.missing] == [world["idle_staff"].staff_no]
    items = metrics.coverage(root, StatsFilter(), of="item")
    assert (items.active, items.evaluated, items.missing) == (2, 2, [])
    with pytest.raises(DomainError):
        metrics.coverage(root, StatsFilter(), of="region")


def test_rankings_use_wilson_bound_and_minimum_sample(world, root, org, settings):
    from .test_rules import wilson_by_hand

    settings.HAOCHAPING_RANKING_MIN_SAMPLE = 5
    result = metrics.rankings(root, StatsFilter(), by="department")
    assert result.min_sample == 5
    valid = Evaluation.objects.countable()
    here = valid.filter(department=org.department)
    assert [(r.key, r.rank) for r in result.ranked] == [(org.department.credit_code, 1)]
    r = result.ranked[0]
    assert (r.good, r.evaluations) == (here.filter(level__gte=4).count(), here.count())
    assert r.score == pytest.approx(wilson_by_hand(r.good, r.evaluations), abs=1e-4)
    assert [(a.key, a.evaluations) for a in result.apart] == [
        (world["other_dept"].credit_code, valid.filter(department=world["other_dept"]).count())]
    assert result.apart[0].rank is None


def test_case_figures_are_delegated_with_scope_and_filters(world, org):
    far = user(Role.SUPERVISOR, region=org.other_county)
    [total] = metrics.case_figures(far, StatsFilter())
    assert total.cases == RectificationCase.objects.filter(region=org.other_county).count() > 0
    [everything] = metrics.case_figures(User.objects.create(username="r2", is_superuser=True), StatsFilter())
    assert everything.cases == RectificationCase.objects.count()
    by_dept = metrics.case_figures(far, StatsFilter(), by="department")
    assert [row.cases for row in by_dept] == [total.cases]


@pytest.mark.parametrize("group_by", [None, "region", "department", "agency", "window", "staff", "day", "month"])
def test_wide_counters_give_the_same_figures_as_the_fine_ones(world, root, org, monkeypatch, group_by):
    """The common questions read RegionDayCounter / UnitDayCounter; every figure must equal the fine counters'."""
    handler = user(Role.HANDLER, department=org.department)
    for actor, filters in ((root, StatsFilter()), (root, StatsFilter.from_codes(region_code=org.county.code)),
                           (handler, StatsFilter())):
        assert metrics._wide_table(actor, filters, group_by) is not None
        wide = metrics.figures(actor, filters, group_by)
        with monkeypatch.context() as m:
            m.setattr(metrics, "_wide_table", lambda *a: None)
            fine = metrics.figures(actor, filters, group_by)
        assert wide.total.as_dict() == fine.total.as_dict()
        assert [g.as_dict() for g in wide.groups] == [g.as_dict() for g in fine.groups]
