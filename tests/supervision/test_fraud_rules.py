"""The fraud detectors' rules and statistics, pure: each detector at, just below and just above its threshold."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta

import pytest
from scipy import stats as scipy_stats

from haochaping.supervision.fraud import rules
from haochaping.supervision.fraud.rules import Ev, Hours, Insider, LaterRecord, Pattern
from haochaping.supervision.fraud.rules.stats import beta_binomial_sf, binomial_sf, overdispersion

T0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Beijing, a Tuesday
_ids = itertools.count(1)


def ev(minutes: float = 0, *, level: int = 5, days: int = 0, **kw) -> Ev:
    at = T0 + timedelta(days=days, minutes=minutes)
    local = kw.pop("local", (at + timedelta(hours=8)).replace(tzinfo=None))
    pk = next(_ids)
    fields = {"region_id": "370102", "department_id": 1, "agency_id": 10, "window_id": 100, "staff_id": 1000,
              "item_id": 7, "record_id": pk, "channel": "kiosk"}
    fields.update(kw)
    return Ev(pk, at, local, level, **fields)


# ---- statistics ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("k,n,p", [(0, 10, 0.3), (3, 10, 0.3), (10, 10, 0.3), (11, 10, 0.3), (56, 60, 0.86),
                                   (4, 24, 0.0025), (1, 1, 0.5)])
def test_binomial_tail_matches_scipy(k, n, p):
    assert binomial_sf(k, n, p) == pytest.approx(scipy_stats.binom.sf(k - 1, n, p), rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("k,n,p,rho", [(50, 60, 0.86, 0.02), (60, 60, 0.86, 0.1), (5, 30, 0.2, 0.05)])
def test_beta_binomial_tail_matches_scipy(k, n, p, rho):
    s = (1 - rho) / rho
    expected = scipy_stats.betabinom.sf(k - 1, n, p * s, (1 - p) * s)
    assert beta_binomial_sf(k, n, p, rho) == pytest.approx(expected, rel=1e-7)


def test_beta_binomial_without_overdispersion_is_the_binomial():
    assert beta_binomial_sf(55, 60, 0.86, 0.0) == binomial_sf(55, 60, 0.86)


def test_tails_at_the_edges():
    assert binomial_sf(1, 5, 0.0) == 0.0 and binomial_sf(5, 5, 1.0) == 1.0
    assert beta_binomial_sf(0, 5, 0.5, 0.1) == 1.0 and beta_binomial_sf(6, 5, 0.5, 0.1) == 0.0


def test_overdispersion_is_zero_when_units_vary_by_chance_only_and_grows_with_real_spread():
    assert overdispersion([(86, 100), (86, 100), (86, 100)], 0.86) == 0.0
    assert overdispersion([(86, 100)], 0.86) == 0.0  # one unit says nothing about spread
    spread = overdispersion([(60, 100), (95, 100), (99, 100), (70, 100)], 0.81)
    assert 0.05 < spread <= 0.5


# ---- 1. bursts --------------------------------------------------------------------------------------------------

def test_five_top_ratings_within_ten_minutes_at_one_window_are_a_burst():
    rows = [ev(m * 2, source="kiosk:K1") for m in range(5)]
    [signal] = rules.bursts(rows)
    assert signal.pattern == Pattern.BURST and signal.statistic == 5 and signal.evidence["kiosks"] == ["K1"]
    assert set(signal.evaluation_ids) == {e.id for e in rows} and signal.target.window_id == 100


def test_four_top_ratings_or_five_over_more_than_ten_minutes_are_not():
    assert rules.bursts([ev(m * 2) for m in range(4)]) == []
    assert rules.bursts([ev(m * 2.6) for m in range(5)]) == []  # 10.4 minutes
    assert rules.bursts([ev(m, level=4) for m in range(8)]) == []  # 满意, not 非常满意
    assert rules.bursts([ev(m, window_id=100 + m) for m in range(8)]) == []  # different windows


def test_runs_are_greedy_and_do_not_overlap():
    times = [T0 + timedelta(minutes=m) for m in (0, 1, 2, 30, 31, 32, 33)]
    assert rules.runs(times, 3, timedelta(minutes=10)) == [(0, 3), (3, 4)]
    assert rules.runs(times, 5, timedelta(minutes=10)) == []


# ---- 2. one phone, many 办件 --------------------------------------------------------------------------------

def test_one_phone_rating_five_records_over_days_is_flagged():
    rows = [ev(days=d, phone_index="P", applicant_phone_index=f"A{d}") for d in range(5)]
    [signal] = rules.phone_many(rows)
    assert signal.statistic == 5 and signal.evidence["not_applicant"] == 5 and signal.target.window_id is None


def test_four_records_mostly_lukewarm_or_all_at_once_in_one_place_are_not():
    assert rules.phone_many([ev(days=d, phone_index="P") for d in range(4)]) == []
    lukewarm = [ev(days=d, phone_index="P", level=5 if d < 3 else 4) for d in range(5)]  # 60 % top
    assert rules.phone_many(lukewarm) == []
    one_place_one_day = [ev(m, phone_index="P") for m in range(5)]
    assert rules.phone_many(one_place_one_day, min_spread=2) == []
    assert rules.phone_many([ev(days=d) for d in range(9)]) == []  # anonymous: nobody in particular


# ---- 3. staff phones ------------------------------------------------------------------------------------------

def test_a_staff_members_own_phone_rating_their_unit_is_flagged_and_elsewhere_is_not():
    phones = {"S": [Insider(staff_id=1000, department_id=1, agency_id=10)]}
    own = ev(phone_index="S", staff_id=1001)  # a colleague's 办件 at the same unit
    elsewhere = ev(phone_index="S", department_id=2, agency_id=20, staff_id=2000)
    [signal] = rules.staff_phones([own, elsewhere], phones)
    assert signal.evaluation_ids == (own.id,) and signal.evidence["staff_id"] == 1000


def test_insider_owns_only_their_own_work_or_unit():
    staff = Insider(staff_id=5, department_id=None, agency_id=None)
    assert staff.owns(ev(staff_id=5)) and not staff.owns(ev(staff_id=6))
    dept_user = Insider(staff_id=None, department_id=1, agency_id=None)
    assert dept_user.owns(ev(department_id=1)) and not dept_user.owns(ev(department_id=2))
    hall_dept = Insider(staff_id=None, department_id=1, agency_id=10)
    assert hall_dept.owns(ev()) and not hall_dept.owns(ev(department_id=2))


# ---- 4. own device / address -----------------------------------------------------------------------------------

def test_one_evaluation_from_a_device_an_insider_of_the_unit_signed_in_on_is_flagged():
    devices = {"D": [Insider(1000, 1, 10)]}
    [signal] = rules.own_client([ev(device_index="D"), ev(device_index="X")], devices, {})
    assert signal.evidence["device"] == 1 and signal.evidence["address"] == 0


def test_the_staff_members_address_counts_only_when_it_is_theirs_alone():
    addresses = {"A": [Insider(1000, 1, 10)]}
    own = [ev(m, address_index="A") for m in range(3)]
    [signal] = rules.own_client(own, {}, addresses)
    assert signal.evidence["address"] == 3
    assert rules.own_client(own[:2], {}, addresses) == []  # fewer than OWN_ADDRESS_MIN
    shared = own + [ev(m, address_index="A", staff_id=1001 + m) for m in range(4)]  # the hall's Wi-Fi
    assert rules.own_client(shared, {}, addresses) == []


# ---- 5. templates -------------------------------------------------------------------------------------------------

TEMPLATE = "窗口工作人员{}服务热情周到，业务非常熟练，办事效率很高，一次就办好了，给您点赞！"
COMMON = ["工作人员很耐心，一次就办好了。", "网上办理很方便，不用跑腿。", "效率很高，比预想的快多了。"]


def _background(units: int = 30, per_unit: int = 12) -> list[Ev]:
    return [ev(i, department_id=u, agency_id=u, comment=COMMON[(u + i) % 3])
            for u in range(2, 2 + units) for i in range(per_unit)]


def test_templated_comments_at_one_unit_are_flagged_and_common_phrases_are_not():
    background = _background()
    names = ["张伟", "王芳", "李娜", "刘洋"]
    planted = [ev(i, comment=TEMPLATE.format(n)) for i, n in enumerate(names)]
    signals = rules.templates(background + planted + [ev(9, comment=COMMON[0])])
    assert [s.pattern for s in signals] == [Pattern.TEMPLATE]
    assert set(signals[0].evaluation_ids) == {e.id for e in planted} and signals[0].evidence["variants"] == 4


def test_three_templated_comments_or_short_ones_are_not():
    background = _background()
    assert rules.templates(background + [ev(i, comment=TEMPLATE.format("张伟")) for i in range(3)]) == []
    assert rules.templates(background + [ev(i, comment="很好很满意") for i in range(9)]) == []  # too short


def test_normalise_ignores_spaces_punctuation_and_which_digits():
    assert rules.normalise("工号 1024 服务好！") == rules.normalise("工号2048，服务好")
    assert rules.jaccard(rules.trigrams("abcdef"), rules.trigrams("abcdef")) == 1.0


# ---- 6. outliers ---------------------------------------------------------------------------------------------------

def _unit(dept: int, top: int, n: int, code: str = "X") -> list[Ev]:
    return [ev(i, department_id=dept, agency_id=dept, item_code=code, level=5 if i < top else 4) for i in range(n)]


def test_a_unit_far_above_its_peers_share_of_top_ratings_is_an_outlier():
    peers = _unit(2, 43, 50) + _unit(3, 42, 50) + _unit(4, 44, 50)
    [signal] = rules.outliers(peers + _unit(5, 100, 100))
    assert signal.pattern == Pattern.OUTLIER and signal.target.department_id == 5 and signal.statistic < 1e-4
    assert signal.evidence["peers"] == 3


def test_no_outlier_within_chance_without_enough_peers_or_sample():
    peers = _unit(2, 43, 50) + _unit(3, 42, 50) + _unit(4, 44, 50)
    assert rules.outliers(peers + _unit(5, 46, 50)) == []  # 92 % against 86 %: chance
    assert rules.outliers(_unit(2, 43, 50) + _unit(3, 42, 50) + _unit(5, 100, 100)) == []  # two peers
    assert rules.outliers(peers + _unit(5, 29, 29)) == []  # below the minimum sample
    assert rules.outliers(peers + _unit(5, 100, 100, code="Y")) == []  # another item


def test_peers_that_honestly_differ_need_more_to_flag():
    calm = _unit(2, 43, 50) + _unit(3, 43, 50) + _unit(4, 43, 50)
    wild = _unit(2, 30, 50) + _unit(3, 49, 50) + _unit(4, 50, 50)
    planted = _unit(5, 80, 80)
    assert rules.outliers(calm + planted) and not rules.outliers(wild + planted)


# ---- 7. closed hours -------------------------------------------------------------------------------------------

def _workday(day: date, region: str) -> bool:
    return day.weekday() < 5


def test_kiosk_ratings_after_closing_or_on_rest_days_are_flagged():
    late = ev(local=datetime(2026, 3, 10, 21, 30))
    sunday = ev(local=datetime(2026, 3, 15, 10, 0))
    [signal] = rules.closed_hours([late, sunday], {}, _workday)
    assert signal.statistic == 2 and set(signal.evaluation_ids) == {late.id, sunday.id}


def test_open_hours_the_grace_other_channels_and_a_single_rating_are_not():
    grace = ev(local=datetime(2026, 3, 10, 18, 25))
    qr = ev(local=datetime(2026, 3, 10, 23, 0), channel="qr")
    assert rules.closed_hours([grace, qr, ev(local=datetime(2026, 3, 10, 23, 0))], {}, _workday) == []
    weekend_hall = {10: Hours(time(9), time(17), open_on_rest_days=True)}
    sundays = [ev(local=datetime(2026, 3, 15, 10, m)) for m in range(3)]
    assert rules.closed_hours(sundays, weekend_hall, _workday) == []


@pytest.mark.parametrize("moment,open_", [(time(8, 29), False), (time(8, 30), True), (time(18, 30), True),
                                          (time(18, 31), False)])
def test_is_open_at_the_edges(moment, open_):
    assert rules.is_open(datetime.combine(date(2026, 3, 10), moment), Hours(), True) is open_


# ---- 9. retaliation ------------------------------------------------------------------------------------------

def _later(n: int, adverse: int, *, phone: str = "", item: int = 7, start: int = 1) -> list[LaterRecord]:
    return [LaterRecord(next(_ids), phone, 1, item, T0 + timedelta(days=start + i), i < adverse) for i in range(n)]


def test_an_evaluators_later_records_going_badly_far_more_often_is_retaliation():
    bad = ev(level=1, is_bad=True, phone_index="P")
    others = _later(200, 8)  # 4 % overdue
    [signal] = rules.retaliation([bad], others + _later(3, 3, phone="P"))
    assert signal.pattern == Pattern.RETALIATION and signal.evaluation_ids == (bad.id,)
    assert signal.evidence["adverse"] == 3 and signal.statistic < rules.RETALIATION_P


def test_no_retaliation_when_anonymous_before_the_review_at_the_base_rate_or_too_few():
    others = _later(200, 8)
    anonymous = ev(level=1, is_bad=True)
    assert rules.retaliation([anonymous], others + _later(3, 3, phone="")) == []
    bad = ev(level=1, is_bad=True, phone_index="P", days=30)
    assert rules.retaliation([bad], others + _later(3, 3, phone="P", start=1)) == []  # before the 差评
    assert rules.retaliation([ev(level=1, is_bad=True, phone_index="P")], others + _later(1, 1, phone="P")) == []
    bad_everywhere = _later(200, 100)
    assert rules.retaliation([ev(level=1, is_bad=True, phone_index="P")], bad_everywhere + _later(3, 3, phone="P")) == []


def test_confirming_excludes_evaluations_for_every_pattern_but_retaliation():
    assert Pattern.RETALIATION not in rules.EXCLUDING and set(rules.EXCLUDING) | {Pattern.RETALIATION} == set(Pattern.values)
