"""The report's lists on crafted data: 疑似刷好评 heuristics (positive and negative cases, pure and through the
database), 表扬 and 问责 from the rankings and figures; and the report periods."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.cache import cache

from haochaping.accounts.models import User
from haochaping.accounts.roles import Role
from haochaping.insight import metrics
from haochaping.insight.reports import lists, periods, suspicion
from haochaping.org.models import Staff, Window
from tests import factories

from .reports_fixtures import EVALUATOR_PHONES, last_month, moment, rated

T = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


# --- heuristics, pure -------------------------------------------------------------------------------------------


def test_one_evaluator_praising_one_window_three_times_is_a_sign():
    signs = suspicion.repeat_signs([(7, "idx-a", 3), (7, "idx-b", 5), (7, "idx-c", 2), (8, "idx-a", 2)])
    assert signs == [suspicion.RepeatSign(target=7, evaluators=2, reviews=8, most=5)]


def test_twice_or_without_a_phone_is_not():
    assert suspicion.repeat_signs([(7, "idx-a", 2), (7, "", 9), (0, "idx-b", 4)]) == []


def test_five_five_star_reviews_within_ten_minutes_at_one_window_are_a_burst():
    times = [T + timedelta(minutes=m) for m in (0, 2, 4, 7, 10)]
    [sign] = suspicion.burst_signs([(3, t) for t in reversed(times)])
    assert (sign.target, sign.bursts, sign.reviews, sign.largest, sign.first_at) == (3, 1, 5, 5, T)


def test_spread_over_more_than_ten_minutes_or_fewer_than_five_is_not():
    spread = [(3, T + timedelta(minutes=m)) for m in (0, 3, 6, 9, 11)]  # the fifth is 11 minutes after the first
    few = [(4, T + timedelta(seconds=s)) for s in (0, 10, 20, 30)]
    other_windows = [(w, T) for w in (5, 6, 7, 8, 9)]  # five at once, but at five windows
    assert suspicion.burst_signs(spread + few + other_windows) == []


def test_bursts_are_counted_without_overlap():
    first = [T + timedelta(minutes=m) for m in range(7)]  # 7 within 6 minutes: one burst of 7
    second = [T + timedelta(hours=2, seconds=s) for s in range(0, 300, 60)]  # 5 within 4 minutes
    [sign] = suspicion.burst_signs([(1, t) for t in first + second])
    assert (sign.bursts, sign.reviews, sign.largest) == (2, 12, 7)


# --- periods, pure ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "today", "start", "end", "label"), [
    ("month", date(2026, 3, 1), date(2026, 2, 1), date(2026, 2, 28), "2026年2月"),
    ("month", date(2026, 1, 15), date(2025, 12, 1), date(2025, 12, 31), "2025年12月"),
    ("quarter", date(2026, 4, 1), date(2026, 1, 1), date(2026, 3, 31), "2026年第1季度"),
    ("quarter", date(2026, 2, 10), date(2025, 10, 1), date(2025, 12, 31), "2025年第4季度"),
    ("year", date(2026, 1, 1), date(2025, 1, 1), date(2025, 12, 31), "2025年"),
])
def test_the_previous_period(kind, today, start, end, label):
    p = periods.last_finished(kind, today)
    assert (p.start, p.end, p.label) == (start, end, label)
    assert p.is_over(today) and not periods.ReportPeriod(kind, periods.period_start(kind, today)).is_over(today)
    assert periods.ReportPeriod.parse(p.value) == p


def test_a_period_must_start_on_its_first_day():
    for bad in ("month:2026-03-02", "quarter:2026-02-01", "year:2026-06-01", "week:2026-03-02", "month:", ""):
        with pytest.raises(ValueError):
            periods.ReportPeriod.parse(bad)
    assert [p.label for p in periods.recent_finished("quarter", date(2026, 5, 1), 3)] == [
        "2026年第1季度", "2025年第4季度", "2025年第3季度"]


# --- lists, through the database ----------------------------------------------------------------------------------

@pytest.fixture
def setting(org, item):
    cache.clear()
    period = last_month()
    sup = User.objects.create(username="sup", role=Role.SUPERVISOR, region=org.county)
    filters = metrics.StatsFilter(region_prefix="370102", region_code="370102", date_from=period.start,
                                  date_to=period.end)
    return period, sup, filters


def _second_window(org, name="2号窗口", staff_name="周芳"):
    window = Window.objects.create(agency=org.agency, code=f"B{factories.seq()}", name=name, department=org.department)
    staff = Staff.objects.create(staff_no=f"S{factories.seq():05d}", name=staff_name, agency=org.agency,
                                 department=org.department, window=window)
    return window, staff


@pytest.mark.django_db
def test_suspected_lists_name_the_window_and_staff_and_count_never_the_phone(org, item, setting):
    period, sup, filters = setting
    # Evaluator 0 praises the org's window three times on three days: a sign, for the window and its staff member.
    for day in (3, 9, 15):
        rated(org, item, 5, moment(period, day=day), n=0)
    # Evaluator 1 praises it twice, and a third time at another window: not a sign.
    window2, staff2 = _second_window(org)
    for day in (4, 10):
        rated(org, item, 5, moment(period, day=day), n=1)
    rated(org, item, 5, moment(period, day=11), n=1, window=window2, staff=staff2)
    rows = lists.suspected(sup, filters)
    repeat = [r for r in rows if r[0] == "同一评价人反复好评"]
    assert [(r[1], r[3], r[4], r[5]) for r in repeat] == [
        ("窗口", f"{org.agency.name} {org.window.name}", 3, 1), ("工作人员", org.staff.name, 3, 1)]
    assert not any(EVALUATOR_PHONES[0] in str(cell) or EVALUATOR_PHONES[0][-4:] in str(cell) for r in rows for cell in r)
    assert not [r for r in rows if r[0] == "短时集中好评"]


@pytest.mark.django_db
def test_a_burst_at_one_window_is_listed_and_the_same_number_spread_out_is_not(org, item, setting):
    period, sup, filters = setting
    window2, staff2 = _second_window(org, "3号窗口")
    for i in range(5):  # five 五星 within eight minutes, five different evaluators (no phone twice)
        rated(org, item, 5, moment(period, day=6, hour=9, minute=2 * i), n=i, phone=f"1370000{i:04d}")
    for i in range(5):  # five an hour apart at the other window
        rated(org, item, 5, moment(period, day=6, hour=9 + i), n=i, phone=f"1360000{i:04d}", window=window2,
              staff=staff2)
    rows = [r for r in lists.suspected(sup, filters) if r[0] == "短时集中好评"]
    assert len(rows) == 1
    assert rows[0][3] == f"{org.agency.name} {org.window.name}" and rows[0][4] == 5 and rows[0][6] == 1
    assert "10分钟内出现5条及以上五星好评" in rows[0][7]


@pytest.mark.django_db
def test_excluded_and_other_periods_do_not_count_as_signs(org, item, setting):
    from .helpers import exclude

    period, sup, filters = setting
    rated(org, item, 5, moment(period, day=3), n=0)
    rated(org, item, 5, moment(period, day=4), n=0)
    exclude(rated(org, item, 5, moment(period, day=5), n=0))
    rated(org, item, 5, moment(period.previous(), day=5), n=0)
    assert lists.suspected(sup, filters) == []


@pytest.mark.django_db
def test_commendation_needs_a_rank_and_a_high_bound_accountability_three_bad_reviews(org, item, setting,
                                                                                       settings):
    period, sup, filters = setting
    settings.HAOCHAPING_RANKING_MIN_SAMPLE = 5
    window2, staff2 = _second_window(org)
    window3, staff3 = _second_window(org, "4号窗口", "吴刚")
    start = moment(period, day=2)
    for i in range(40):  # staff 1: 40 好评 → ranked first, bound ≈ 0.91
        rated(org, item, 5, start + timedelta(hours=3 * i), n=i, phone="")
    for i, level in enumerate((5, 5, 5, 1, 1, 2)):  # staff 2: three 差评 in six
        rated(org, item, level, start + timedelta(hours=5 * i + 1), n=i, phone="", window=window2, staff=staff2)
    for i, level in enumerate((5, 5, 4, 4, 1, 2)):  # staff 3: two 差评: not by count
        rated(org, item, level, start + timedelta(hours=5 * i + 2), n=i, phone="", window=window3, staff=staff3)
    rankings = {dim: metrics.rankings(sup, filters, by=dim) for dim in ("window", "staff")}
    figures = {dim: metrics.figures(sup, filters, group_by=dim) for dim in ("window", "staff")}
    commended = [(r[0], r[2]) for r in lists.commendation(rankings)]
    assert ("工作人员", org.staff.name) in commended
    assert ("工作人员", staff2.name) not in commended and ("工作人员", staff3.name) not in commended
    accountable = {(r[0], r[2]): r for r in lists.accountability(rankings, figures)}
    assert accountable[("工作人员", staff2.name)][3] == 3
    assert "期间内差评3条" in accountable[("工作人员", staff2.name)][8]
    assert ("工作人员", staff3.name) not in accountable  # two 差评, and fewer than five ranked
    assert ("工作人员", org.staff.name) not in accountable



@pytest.mark.django_db
def test_a_high_ranked_unit_with_three_bad_reviews_is_on_the_accountability_list_only(org, item, setting, settings):
    period, sup, filters = setting
    settings.HAOCHAPING_RANKING_MIN_SAMPLE = 5
    start = moment(period, day=2)
    for i in range(80):  # a busy window: 77 好评 and three 差评, still 95 % sure of a 好评率 above 85 %
        rated(org, item, 1 if i in (10, 40, 70) else 5, start + timedelta(hours=3 * i), n=i, phone="")
    rankings = {"staff": metrics.rankings(sup, filters, by="staff")}
    figures = {"staff": metrics.figures(sup, filters, group_by="staff")}
    [ranked] = rankings["staff"].ranked
    assert ranked.rank == 1 and ranked.score >= lists.COMMEND_MIN_SCORE  # would be commended on its rank alone
    accountable = lists.accountability(rankings, figures)
    assert [(r[0], r[2], r[3]) for r in accountable] == [("工作人员", org.staff.name, 3)]
    assert [r[2] for r in lists.commendation(rankings)] == [org.staff.name]
    assert lists.commendation(rankings, frozenset((r[0], r[1]) for r in accountable)) == []
    # And the report's two sheets agree.
    sections = {s.name: s for s in lists.sections(sup, filters, rankings, figures)}
    assert org.staff.name not in [r[2] for r in sections["表扬名单"].rows]
    assert org.staff.name in [r[2] for r in sections["问责名单"].rows]


@pytest.mark.django_db
def test_units_and_staff_complained_about_twice_in_the_period_are_on_the_accountability_list(org, item, setting):
    from haochaping.rectification import services as case_services
    from haochaping.rectification.models import RectificationCase

    period, sup, filters = setting
    window2, staff2 = _second_window(org)
    window3, staff3 = _second_window(org, "4号窗口", "吴刚")

    def complaint(day, period=period, **about):
        if "window" in about:
            about = {"record": factories.make_record(org, item, **about)}
        case = case_services.open_complaint(summary="窗口推诿，让我跑了三趟", actor=sup, **about)
        RectificationCase.objects.filter(pk=case.pk).update(opened_at=moment(period, day=day))

    complaint(3, window=window2, staff=staff2)
    complaint(9, window=window2, staff=staff2)  # twice in the period: listed
    complaint(4, window=window3, staff=staff3)  # once in the period …
    complaint(4, period.previous(), window=window3, staff=staff3)  # … and once the month before: not listed
    complaint(5, department=org.department)  # about the department itself: no window, no staff member
    rated(org, item, 5, moment(period, day=6), n=0, phone="", window=window3, staff=staff3)

    dims = ("window", "staff")
    complaints = {dim: metrics.complaint_counts(sup, filters, dim) for dim in dims}
    assert complaints["staff"] == {staff2.staff_no: (staff2.name, 2), staff3.staff_no: (staff3.name, 1)}
    assert metrics.complaint_counts(sup, filters, "department") == {
        org.department.credit_code: (org.department.name, 4)}
    rankings = {dim: metrics.rankings(sup, filters, by=dim) for dim in dims}
    figures = {dim: metrics.figures(sup, filters, group_by=dim) for dim in dims}
    accountable = {(r[0], r[2]): r for r in lists.accountability(rankings, figures, complaints)}
    row = accountable[("工作人员", staff2.name)]
    assert (row[3], row[4], row[7]) == (0, 0, 2) and row[8] == "期间内被投诉2件（不少于2件）"
    assert ("窗口", f"{org.agency.name} {window2.name}") in accountable
    assert ("工作人员", staff3.name) not in accountable and ("窗口", f"{org.agency.name} {window3.name}") not in accountable
    # Without a region filter the scope alone decides: another county's supervisor counts none of them.
    anywhere = metrics.StatsFilter(date_from=period.start, date_to=period.end)
    assert metrics.complaint_counts(sup, anywhere, "staff") == complaints["staff"]
    far = User.objects.create(username="sup-far", role=Role.SUPERVISOR, region=org.other_county)
    assert metrics.complaint_counts(far, anywhere, "staff") == {}
