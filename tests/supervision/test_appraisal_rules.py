"""The appraisal's pure rules: regional overrides and extensions, weights, normalisation, the score formula."""

from datetime import date

import pytest

from haochaping.core.problems import DomainError
from haochaping.supervision.appraisal import rules
from haochaping.supervision.appraisal.rules import Dimension, IndicatorDef

SOURCES = {"satisfaction", "bad_rate", "overdue_rate"}


def d(code, *, dim=Dimension.QUALITY, source="satisfaction", weight=1, floor=50, target=100, region=None, name="x"):
    return IndicatorDef(code, name, dim, source, weight, floor, target, region)


NATIONAL = [d("SAT", weight=2), d("BAD", source="bad_rate", floor=10, target=0),
            d("OVD", dim=Dimension.PROCESS, source="overdue_rate", floor=10, target=0)]


def test_national_defaults_are_valid_and_cover_all_six_dimensions():
    for x in rules.NATIONAL_DEFAULTS:
        rules.check_definition(x, known_sources={x.source} - {rules.MANUAL})
    assert {x.dimension for x in rules.NATIONAL_DEFAULTS} == set(Dimension.values)
    assert sum(rules.DIMENSION_WEIGHTS.values()) == 100


@pytest.mark.parametrize("change, field", [
    (dict(code=""), "code"), (dict(code="有 空格"), "code"), (dict(code="X" * 21), "code"), (dict(name=" "), "name"),
    (dict(dim="nope"), "dimension"), (dict(source="unknown"), "source"), (dict(weight=0), "weight"),
    (dict(weight=101), "weight"), (dict(weight=float("nan")), "weight"), (dict(floor=100), "target"),
    (dict(target=float("inf")), "target"),
])
def test_a_bad_definition_is_refused_naming_the_field(change, field):
    with pytest.raises(DomainError) as err:
        rules.check_definition(d(change.pop("code", "NEW"), **change), known_sources=SOURCES)
    assert err.value.field == field and err.value.status == 422


def test_a_region_extends_and_overrides_only_its_subtree():
    regional = [d("SAT", weight=3, floor=60, region="370100"), d("EXTRA", source="bad_rate", floor=5, target=0,
                                                                  region="370102")]
    everything = NATIONAL + regional
    county = {x.code: x for x in rules.effective_indicators("370102", everything)}
    assert set(county) == {"SAT", "BAD", "OVD", "EXTRA"}
    assert county["SAT"].region == "370100" and county["SAT"].floor == 60
    sibling = {x.code: x for x in rules.effective_indicators("370103", everything)}
    assert set(sibling) == {"SAT", "BAD", "OVD"} and sibling["SAT"].region == "370100"
    other_city = {x.code: x for x in rules.effective_indicators("370200", everything)}
    assert other_city["SAT"].region is None and other_city["SAT"].floor == 50  # the parent's own is untouched
    national = {x.code: x for x in rules.effective_indicators(None, everything)}
    assert set(national) == {"SAT", "BAD", "OVD"}


def test_the_nearest_region_wins():
    defs = NATIONAL + [d("SAT", floor=60, region="370000"), d("SAT", floor=70, region="370100")]
    got = {x.code: x for x in rules.effective_indicators("370102", defs)}
    assert got["SAT"].floor == 70
    assert rules.inherited_definition("370100", "SAT", defs).floor == 60


@pytest.mark.parametrize("child, field", [
    (d("SAT", floor=40, region="370100"), "floor"),  # looser floor
    (d("SAT", target=90, region="370100"), "target"),  # looser target (higher is better)
    (d("SAT", dim=Dimension.PROCESS, region="370100"), "dimension"),
    (d("SAT", source="bad_rate", region="370100"), "source"),
    (d("SAT", floor=100, target=50, region="370100"), "target"),  # direction flipped
])
def test_a_region_may_only_make_an_inherited_indicator_stricter(child, field):
    with pytest.raises(DomainError) as err:
        rules.check_regional(child, NATIONAL[0])
    assert err.value.field == field


def test_stricter_for_lower_is_better_means_lower_thresholds():
    parent = d("BAD", source="bad_rate", floor=10, target=0)
    rules.check_regional(d("BAD", source="bad_rate", floor=5, target=0, weight=4, region="370100"), parent)
    with pytest.raises(DomainError) as err:
        rules.check_regional(d("BAD", source="bad_rate", floor=15, target=0, region="370100"), parent)
    assert err.value.field == "floor"
    rules.check_regional(d("NEW", region="370100"), None)  # an extension is free
    with pytest.raises(DomainError):
        rules.check_regional(d("NEW"), None)  # but needs its region


@pytest.mark.parametrize("raw, floor, target, expected", [
    (75, 50, 100, 50.0), (40, 50, 100, 0.0), (120, 50, 100, 100.0), (5, 10, 0, 50.0), (0, 10, 0, 100.0),
    (30, 10, 0, 0.0), (100, 60, 100, 100.0),
])
def test_normalise_is_linear_and_clamped_in_either_direction(raw, floor, target, expected):
    assert rules.normalise(raw, floor, target) == pytest.approx(expected)


def test_weights_are_tiered_and_renormalised_over_valued_indicators():
    w = rules.effective_weights(NATIONAL, {"SAT": True, "BAD": True, "OVD": True})
    q, p = rules.DIMENSION_WEIGHTS[Dimension.QUALITY], rules.DIMENSION_WEIGHTS[Dimension.PROCESS]
    assert w["SAT"] == pytest.approx(q / (q + p) * 2 / 3)
    assert w["BAD"] == pytest.approx(q / (q + p) * 1 / 3)
    assert w["OVD"] == pytest.approx(p / (q + p))
    assert sum(w.values()) == pytest.approx(1)
    w = rules.effective_weights(NATIONAL, {"SAT": True, "BAD": False, "OVD": False})
    assert w == {"SAT": 1.0, "BAD": 0.0, "OVD": 0.0}
    assert rules.effective_weights(NATIONAL, {}) == {}


def test_appraise_sums_contributions_and_shows_each_line():
    total, lines = rules.appraise(NATIONAL, {"SAT": 75.0, "BAD": 5.0, "OVD": None})
    by = {line.code: line for line in lines}
    assert by["SAT"].score == 50 and by["BAD"].score == 50 and by["OVD"].score is None
    assert by["OVD"].weight == 0 and by["OVD"].contribution == 0
    assert by["SAT"].weight == pytest.approx(2 / 3)
    assert total == pytest.approx(50.0)
    assert total == pytest.approx(sum(line.contribution for line in lines))
    assert rules.appraise(NATIONAL, {}) [0] is None
    with pytest.raises(DomainError) as err:
        rules.appraise(NATIONAL, {"SAT": float("nan")})
    assert err.value.field == "raw"


def test_periods():
    assert rules.last_month(date(2026, 1, 15)) == (date(2025, 12, 1), date(2025, 12, 31))
    assert rules.last_month(date(2026, 3, 1)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert rules.month_of(date(2024, 2, 10)) == (date(2024, 2, 1), date(2024, 2, 29))
    rules.check_period(date(2026, 1, 1), date(2026, 1, 1))
    for start, end, field in [(None, date(2026, 1, 1), "period_start"), (date(2026, 1, 1), None, "period_end"),
                              (date(2026, 1, 2), date(2026, 1, 1), "period_end")]:
        with pytest.raises(DomainError) as err:
            rules.check_period(start, end)
        assert err.value.field == field
