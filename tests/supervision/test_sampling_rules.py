"""The rules of callback sampling, without a database: allocation per level, the seeded draw, the period, what
a call must carry and what counts as a mismatch."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

import pytest

from haochaping.supervision.sampling import rules
from haochaping.supervision.sampling.rules import Answer, CallOutcome, Candidate, Mismatch


def pool(counts: dict[int, int], start: int = 1) -> list[Candidate]:
    out, pk = [], start
    for level, n in counts.items():
        for _ in range(n):
            out.append(Candidate(pk, level))
            pk += 1
    return out


@pytest.mark.parametrize(("counts", "ratio", "expected"), [
    ({5: 100, 1: 3}, 0.05, {1: 1, 5: 5}),  # a rare 差评 level still gets one
    ({5: 20, 4: 21}, 0.05, {4: 2, 5: 1}),  # 0.05 × 20 is exactly 1 (no floating-point round-up), 21 → 2
    ({5: 2}, 1.0, {5: 2}),  # never more than the level has
    ({5: 10, 3: 0}, 0.1, {3: 0, 5: 1}),  # an empty level draws nothing
    ({2: 7}, 0.5, {2: 4}),
])
def test_allocation_is_the_ceiling_of_the_share_with_a_minimum_per_level(counts, ratio, expected):
    assert rules.allocate(counts, ratio) == expected


def test_minimum_zero_lets_a_small_level_draw_nothing_but_its_share():
    assert rules.allocate({1: 3, 5: 100}, 0.01, minimum=0) == {1: 1, 5: 1}
    assert rules.allocate({1: 3, 5: 100}, 0.01, minimum=3) == {1: 3, 5: 3}


@pytest.mark.parametrize("ratio", [0, -0.1, 1.01, float("nan")])
def test_a_ratio_outside_0_to_1_is_refused_naming_it(ratio):
    with pytest.raises(rules.RuleError) as exc:
        rules.allocate({5: 10}, ratio)
    assert exc.value.field == "ratio"


def test_a_negative_minimum_is_refused():
    with pytest.raises(rules.RuleError) as exc:
        rules.allocate({5: 10}, 0.1, minimum=-1)
    assert exc.value.field == "minimum"


def test_the_seed_depends_on_unit_and_period_only():
    a = rules.seed_for(7, date(2026, 11, 1), date(2026, 11, 30))
    assert a == rules.seed_for(7, date(2026, 11, 1), date(2026, 11, 30))
    assert a != rules.seed_for(8, date(2026, 11, 1), date(2026, 11, 30))
    assert a != rules.seed_for(7, date(2026, 10, 1), date(2026, 10, 31))
    # A fixed value: the draw must not change between Python versions or runs (hash randomisation).
    assert a == int.from_bytes(__import__("hashlib").sha256(b"callback:7:2026-11-01:2026-11-30").digest()[:8], "big")


def test_the_draw_is_reproducible_and_ignores_input_order():
    candidates = pool({1: 12, 2: 8, 3: 30, 4: 50, 5: 300})
    seed = rules.seed_for(3, date(2026, 11, 1), date(2026, 11, 30))
    first = rules.draw(candidates, 0.05, seed)
    shuffled = candidates[:]
    random.Random(1).shuffle(shuffled)
    assert rules.draw(shuffled, 0.05, seed) == first
    assert rules.draw(candidates, 0.05, seed + 1) != first


def test_the_draw_takes_the_allocation_of_every_level_from_that_level():
    candidates = pool({1: 12, 2: 8, 3: 30, 4: 50, 5: 300})
    picked = rules.draw(candidates, 0.05, 42)
    assert Counter(c.level for c in picked) == {1: 1, 2: 1, 3: 2, 4: 3, 5: 15}
    assert len({c.evaluation_id for c in picked}) == len(picked)  # without replacement
    assert set(picked) <= set(candidates)
    assert picked == sorted(picked, key=lambda c: (c.level, c.evaluation_id))


def test_both_bad_and_good_reviews_are_checked_even_when_bad_ones_are_rare():
    candidates = pool({1: 1, 5: 1000})
    picked = rules.draw(candidates, 0.01, 9)
    assert {c.level for c in picked} == {1, 5}


def test_every_candidate_of_a_level_is_equally_likely():
    # Over many seeds each of the 10 level-5 candidates is drawn (1 of 10) about 10% of the time.
    candidates = pool({5: 10})
    hits = Counter(rules.draw(candidates, 0.1, seed)[0].evaluation_id for seed in range(5000))
    assert set(hits) == {c.evaluation_id for c in candidates}
    assert all(380 < n < 620 for n in hits.values()), hits


def test_an_empty_pool_draws_nothing():
    assert rules.draw([], 0.05, 1) == []


@pytest.mark.parametrize(("today", "expected"), [
    (date(2026, 12, 5), (date(2026, 11, 1), date(2026, 11, 30))),
    (date(2026, 1, 1), (date(2025, 12, 1), date(2025, 12, 31))),
    (date(2026, 3, 31), (date(2026, 2, 1), date(2026, 2, 28))),
])
def test_the_scheduled_period_is_the_previous_calendar_month(today, expected):
    assert rules.previous_month(today) == expected


def test_only_a_finished_period_can_be_sampled():
    rules.check_period(date(2026, 11, 1), date(2026, 11, 30), date(2026, 12, 1))
    with pytest.raises(rules.RuleError) as exc:
        rules.check_period(date(2026, 11, 1), date(2026, 12, 1), date(2026, 12, 1))
    assert exc.value.field == "end"
    with pytest.raises(rules.RuleError) as exc:
        rules.check_period(date(2026, 11, 2), date(2026, 11, 1), date(2026, 12, 1))
    assert exc.value.field == "end"


def test_a_reached_call_needs_both_answers_and_a_satisfaction_of_1_to_5():
    assert rules.check_call(CallOutcome(True, Answer.YES, Answer.NO, 4)) == {}
    errors = rules.check_call(CallOutcome(True, "", "maybe", 6))
    assert set(errors) == {"gave_rating", "pressured", "satisfaction_now"}
    assert rules.check_call(CallOutcome(True, Answer.YES, Answer.NO, 0)).keys() == {"satisfaction_now"}


def test_an_unreached_call_carries_no_answers():
    assert rules.check_call(CallOutcome(False, notes="关机")) == {}
    assert rules.check_call(CallOutcome(False, Answer.YES)).keys() == {"reached"}
    assert rules.check_call(CallOutcome(False, notes="x" * 2001)).keys() == {"notes"}


@pytest.mark.parametrize(("call", "expected"), [
    (CallOutcome(True, Answer.YES, Answer.NO, 5), []),
    (CallOutcome(True, Answer.NO, Answer.NO, 3), [Mismatch.NEVER_RATED]),
    (CallOutcome(True, Answer.YES, Answer.YES, 2), [Mismatch.PRESSURED]),
    (CallOutcome(True, Answer.NO, Answer.YES, 1), [Mismatch.NEVER_RATED, Mismatch.PRESSURED]),
    (CallOutcome(True, Answer.UNSURE, Answer.UNSURE, 3), []),  # not sure is recorded, not flagged
    (CallOutcome(False), []),
])
def test_mismatches_are_a_denied_rating_or_a_pressured_one(call, expected):
    assert rules.mismatches(call) == expected
