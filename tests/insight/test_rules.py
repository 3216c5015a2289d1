"""The pure formulas: Wilson lower bound, fair ranking with a minimum sample, 满意度, the three-way partition of
evaluations, and how region codes fold one level down."""

import math

import pytest

from haochaping.insight import rules


def wilson_by_hand(k, n, z=1.96):
    # Independent restatement of the formula (Wilson 1927), with z rounded as textbooks print it.
    p = k / n
    return (p + z * z / (2 * n) - z * math.sqrt((p * (1 - p) + z * z / (4 * n)) / n)) / (1 + z * z / n)


@pytest.mark.parametrize("k,n", [(0, 1), (1, 1), (3, 3), (9, 10), (90, 100), (960, 1000), (50, 100), (1, 30)])
def test_wilson_lower_bound_matches_the_formula(k, n):
    assert rules.wilson_lower_bound(k, n) == pytest.approx(wilson_by_hand(k, n), abs=1e-4)


def test_wilson_known_values():
    # Published reference values (e.g. Evan Miller, "How Not To Sort By Average Rating"): 1/1 → 0.2065.
    assert rules.wilson_lower_bound(1, 1) == pytest.approx(0.2065, abs=1e-4)
    assert rules.wilson_lower_bound(0, 10) == 0.0
    assert rules.wilson_lower_bound(0, 0) is None
    with pytest.raises(ValueError):
        rules.wilson_lower_bound(5, 4)


def test_small_perfect_sample_ranks_below_large_good_one():
    ranked, apart = rules.rank([rules.RankInput("small", 3, 3), rules.RankInput("large", 960, 1000)], min_sample=1)
    assert [r.key for r in ranked] == ["large", "small"]
    assert [r.rank for r in ranked] == [1, 2]
    assert apart == []


def test_units_below_minimum_sample_are_listed_apart_not_ranked():
    units = [rules.RankInput("a", 29, 29), rules.RankInput("b", 20, 30), rules.RankInput("c", 5, 10), rules.RankInput("d", 1, 1)]
    ranked, apart = rules.rank(units, min_sample=30)
    assert [r.key for r in ranked] == ["b"]
    assert ranked[0].score == pytest.approx(wilson_by_hand(20, 30), abs=1e-4)
    assert [u.key for u in apart] == ["a", "c", "d"]  # most evaluations first


def test_equal_scores_share_a_rank():
    units = [rules.RankInput("x", 40, 50), rules.RankInput("y", 40, 50), rules.RankInput("z", 10, 50)]
    ranked, _ = rules.rank(units, min_sample=30)
    assert [(r.key, r.rank) for r in ranked] == [("x", 1), ("y", 1), ("z", 3)]


def test_default_minimum_sample_is_documented_constant():
    assert rules.MIN_RANK_SAMPLE == 30


def test_satisfaction_maps_mean_level_to_0_100():
    assert rules.satisfaction_score({5: 1}) == 100
    assert rules.satisfaction_score({1: 1}) == 0
    assert rules.satisfaction_score({5: 1, 3: 1}) == 75
    assert rules.satisfaction_score({4: 2, 2: 2}) == 50
    assert rules.satisfaction_score({}) is None


def test_tally_puts_each_evaluation_in_exactly_one_part():
    t = rules.Tally()
    t.add(level=5, count=3, excluded=False, system_default=False, followup=True, real_name=True)
    t.add(level=1, count=2, excluded=False, system_default=False)
    t.add(level=1, count=4, excluded=True, system_default=False)
    t.add(level=5, count=7, excluded=False, system_default=True)
    t.add(level=5, count=1, excluded=True, system_default=True)
    assert (t.valid, t.excluded, t.excluded_bad, t.system_default, t.total) == (5, 4, 4, 8, 17)
    assert (t.good, t.bad, t.followups, t.real_name) == (3, 2, 3, 3)
    assert t.good_rate == pytest.approx(3 / 5)
    assert t.bad_rate == pytest.approx(2 / 5)
    assert rules.Tally().good_rate is None and rules.Tally().bad_rate is None


@pytest.mark.parametrize("code,base,expected", [
    ("370102", "370000", "370100"),   # county → its city, under the province
    ("370000", "370000", "370000"),   # the province's own units stay the province
    ("370102", "370100", "370102"),   # county under its city
    ("370102001", "370102", "370102001"),  # street under its county
    ("370102", "370102", "370102"),   # the county's own units
    ("370102", None, "370000"),       # whole country: by province
    ("110101", None, "110000"),
    # Counties whose fifth digit is not 0 (历城区 370112) fold under their city, not under a "370110".
    ("370112", "370000", "370100"),
    ("370112001", "370000", "370100"),
    ("370112001001", "370000", "370100"),
    ("370112", "370100", "370112"),
    ("370112001001", "370100", "370112"),
    ("370112001", "370112", "370112001"),
    ("370112001001", "370112", "370112001"),
    # Township and village bases: a township's figures by village; a village has no lower level.
    ("370112001001", "370112001", "370112001001"),
    ("370112001", "370112001", "370112001"),       # the township's own units
    ("370112001001", "370112001000", "370112001001"),  # the township written with 12 digits
    ("370112001001", "370112001001", "370112001001"),
    ("370112001", "370112001001", "370112001"),
    ("370112", None, "370000"),
    ("370112001001", None, "370000"),
])
def test_child_region(code, base, expected):
    assert rules.child_region(code, base) == expected


# --- issue 18, item 7: cases the mutation run showed no test held ---------------------------------------------


def test_merging_tallies_adds_every_part():
    a, b = rules.Tally(), rules.Tally()
    a.add(level=5, count=2, excluded=False, system_default=False, followup=True, real_name=True)
    a.add(level=1, count=1, excluded=True, system_default=False)
    a.add(level=4, count=1, excluded=False, system_default=True)
    b.add(level=5, count=3, excluded=False, system_default=False, followup=True, real_name=True)
    b.add(level=2, count=4, excluded=True, system_default=False)
    b.add(level=3, count=1, excluded=False, system_default=True)
    a.merge(b)
    assert a.levels == {1: 0, 2: 0, 3: 0, 4: 0, 5: 5}
    assert (a.followups, a.real_name, a.excluded, a.excluded_bad, a.system_default) == (5, 5, 5, 5, 2)
    assert (b.followups, b.excluded, b.system_default) == (3, 4, 1)  # the other tally is left as it was


def test_a_tally_grows_from_empty_levels_and_counts_repeat_adds():
    t = rules.Tally(levels={})
    t.add(level=3, count=2, excluded=False, system_default=False)
    t.add(level=3, count=1, excluded=False, system_default=False, followup=True, real_name=True)
    t.add(level=3, count=1, excluded=False, system_default=False, followup=True, real_name=True)
    t.add(level=2, count=1, excluded=True, system_default=False)
    t.add(level=2, count=2, excluded=True, system_default=False)
    t.add(level=4, count=1, excluded=True, system_default=False)  # not 差评: excluded but not excluded_bad
    assert t.levels == {3: 4}
    assert (t.followups, t.real_name, t.excluded, t.excluded_bad) == (2, 2, 4, 3)
    merged = rules.Tally(levels={})
    merged.merge(t)
    merged.merge(t)
    assert merged.levels == {3: 8} and (merged.followups, merged.real_name) == (4, 4)


def test_a_single_evaluation_is_ranked_when_the_minimum_sample_is_one_or_zero():
    for sample in (0, 1):
        ranked, apart = rules.rank([rules.RankInput("a", 1, 1), rules.RankInput("b", 0, 0)], min_sample=sample)
        assert [r.key for r in ranked] == ["a"] and [u.key for u in apart] == ["b"]


def test_equal_scores_put_the_larger_sample_first_and_keep_its_counts():
    # No good evaluations: the Wilson bound is 0 whatever the sample, so the order falls to the sample size.
    ranked, _apart = rules.rank([rules.RankInput("small", 0, 5), rules.RankInput("large", 0, 10),
                                 rules.RankInput("best", 9, 10)], min_sample=1)
    assert [(r.key, r.rank, r.good, r.valid) for r in ranked] == [
        ("best", 1, 9, 10), ("large", 2, 0, 10), ("small", 2, 0, 5)]
    assert ranked[1].score == 0.0


def test_wilson_refuses_more_successes_than_trials():
    with pytest.raises(ValueError, match=r"^successes must be between 0 and n$"):
        rules.wilson_lower_bound(4, 3)
    with pytest.raises(ValueError, match=r"^successes must be between 0 and n$"):
        rules.wilson_lower_bound(-1, 3)
