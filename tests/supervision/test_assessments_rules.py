"""Third-party assessments' pure rules: a commission's scope and period, an assessment inside them, scores,
and the accept/return/resubmit states."""

from datetime import date

import pytest

from haochaping.core.problems import DomainError
from haochaping.supervision.assessments import rules
from haochaping.supervision.assessments.rules import CommissionScope, ScoreInput, State

SCOPE = CommissionScope("370100", date(2026, 1, 1), date(2026, 6, 30), frozenset({7, 8}), frozenset({3}))
OPEN_SCOPE = CommissionScope("370100", date(2026, 1, 1), date(2026, 6, 30))


def check(scope=SCOPE, **kw):
    args = dict(department_id=7, department_region="370102", item_id=3, start=date(2026, 2, 1), end=date(2026, 2, 28))
    args.update(kw)
    rules.check_in_commission(scope, **args)


def test_inside_the_commission_passes():
    check()
    check(item_id=None)
    check(OPEN_SCOPE, department_id=99, item_id=42, start=date(2026, 1, 1), end=date(2026, 6, 30))


@pytest.mark.parametrize("kw, field", [
    (dict(department_id=None), "department"),
    (dict(department_region="370200"), "department"),  # another city
    (dict(department_id=9), "department"),  # not among the named departments
    (dict(item_id=4), "item"),
    (dict(start=date(2025, 12, 31)), "period_start"),
    (dict(end=date(2026, 7, 1)), "period_end"),
    (dict(start=date(2026, 3, 1), end=date(2026, 2, 1)), "period_end"),
    (dict(start=None), "period_start"),
    (dict(end=None), "period_end"),
])
def test_outside_the_commission_is_refused_naming_the_field(kw, field):
    with pytest.raises(DomainError) as err:
        check(**kw)
    assert err.value.field == field and err.value.status == 422


def test_the_error_names_the_commissions_period():
    with pytest.raises(DomainError) as err:
        check(end=date(2026, 7, 1))
    assert "2026-01-01 至 2026-06-30" in err.value.detail


@pytest.mark.parametrize("scope, field", [
    (CommissionScope("370200", date(2026, 1, 1), date(2026, 2, 1)), "scope_region"),
    (CommissionScope("370102", date(2026, 2, 1), date(2026, 1, 1)), "period_end"),
    (CommissionScope("370102", None, date(2026, 1, 1)), "period_start"),
])
def test_a_commission_stays_in_the_agencys_subtree_with_a_sane_period(scope, field):
    with pytest.raises(DomainError) as err:
        rules.check_commission(scope, agency_region="370100")
    assert err.value.field == field
    rules.check_commission(OPEN_SCOPE, agency_region="370000")


@pytest.mark.parametrize("rows, field", [
    ([], "scores"),
    ([ScoreInput("X", 50)], "scores[0].indicator"),
    ([ScoreInput("A", 50), ScoreInput("A", 60)], "scores[1].indicator"),
    ([ScoreInput("A", None)], "scores[0].score"),
    ([ScoreInput("A", 101)], "scores[0].score"),
    ([ScoreInput("A", -1)], "scores[0].score"),
    ([ScoreInput("A", float("nan"))], "scores[0].score"),
    ([ScoreInput("A", True)], "scores[0].score"),
    ([ScoreInput("A", 80), ScoreInput("B", 80, findings="x" * 4001)], "scores[1].findings"),
    ([ScoreInput("A", 1)] * 51, "scores"),
])
def test_bad_scores_are_refused_naming_the_row(rows, field):
    with pytest.raises(DomainError) as err:
        rules.check_scores(rows, indicators={"A", "B"})
    assert err.value.field == field


def test_states():
    assert rules.move(State.SUBMITTED, "accept") == State.ACCEPTED
    assert rules.move(State.SUBMITTED, "return") == State.RETURNED
    assert rules.move(State.RETURNED, "resubmit") == State.SUBMITTED
    for state, action in [(State.ACCEPTED, "return"), (State.ACCEPTED, "resubmit"), (State.RETURNED, "accept"),
                          (State.SUBMITTED, "resubmit")]:
        with pytest.raises(DomainError) as err:
            rules.move(state, action)
        assert err.value.status == 409 and err.value.field == "state"
    assert rules.assessment_score([80, 90, 70]) == 80
    assert rules.assessment_score([]) is None
