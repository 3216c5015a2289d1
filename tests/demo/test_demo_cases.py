"""`haochaping demo` opens a rectification case for every demo bad review, routed and timed like a real one, with
a realistic spread of states whose transition rows chain, so the workbench and the figures have something to show."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from haochaping.core import calendar
from haochaping.evaluation.models import Evaluation, EvaluationExclusion
from haochaping.org import policy
from haochaping.records.models import ServiceRecord
from haochaping.rectification import rules
from haochaping.rectification.figures import case_figures
from haochaping.rectification.models import Appeal, CaseNotice, CaseTransition, LedgerEntry, RectificationCase
from haochaping.rectification.rules import Kind, State
from haochaping.rectification.services import record_units
from haochaping.rectification.services.deadlines import deadline_rows
from tests.demo.building import demo_built

RECORDS = 6000
NON_MOVING = {"assign", "propose", "reject_proposal", "extension", "progress", "escalate", "supervise",
              "appeal_submitted", "appeal_review", "appeal_rejected", "transfer"}


@pytest.fixture(scope="module")
def demo_output(django_db_setup, django_db_blocker):
    with demo_built(django_db_blocker, RECORDS) as output:
        yield output


@pytest.fixture
def demo(demo_output, db):
    return demo_output


def test_every_bad_review_has_one_case_routed_and_timed_like_a_real_one(demo):
    bad = Evaluation.objects.filter(is_bad=True)
    assert bad.count() > 50
    # Every other demo case is a complaint: the 综合点评 of each source (demo.supervision) and the third-party
    # assessment's finding (demo.appraisal).
    from haochaping.supervision.models import SocialReview

    reviews = RectificationCase.objects.filter(kind=Kind.BAD_REVIEW)
    assert reviews.count() == bad.count()
    assert RectificationCase.objects.exclude(kind=Kind.BAD_REVIEW).count() == 1 + SocialReview.objects.count()
    assert not bad.filter(case__isnull=True).exists()
    assert f"整改案件 {bad.count()} 件" in demo
    records = ServiceRecord.objects.select_related("window", "platform").in_bulk()
    transferred = set(CaseTransition.objects.filter(action="transfer").values_list("case_id", flat=True))
    routed_away = 0
    for case in reviews.select_related("evaluation").prefetch_related("evaluation__labels"):
        units = record_units(records[case.record_id])
        # The routing rule on the evaluation's own labels and comment, as services.open_case_for_evaluation.
        who = rules.route(units, label_texts=[label.text for label in case.evaluation.labels.all()],
                          comment=case.evaluation.comment)
        routed_away += who.department_id != units.department_id
        if case.pk in transferred:
            # Transferred back by the unit the rule chose: the 办件's department holds it now.
            who = rules.responsible_for(units, units.department_id)
        assert (case.region_id, case.department_id, case.agency_id, case.platform_id) == (
            who.region_id, who.department_id, who.agency_id, who.platform_id)
        opened_on = timezone.localdate(case.opened_at)
        assert case.opened_at == case.evaluation.created_at and case.is_real_name == case.evaluation.is_real_name

        region = case.region_id
        assert (case.callback_due, case.fix_now_due, case.rectify_due, case.appeal_due) == tuple(
            calendar.add_working_days(opened_on, policy.period_days(region, name), region)
            for name in ("callback_days", "fix_now_days", "rectify_days", "appeal_days"))
    # The demo shows the routing: some cases at a platform's operator or a window's department, not all of them,
    # and a transfer back to the 办件's department.
    assert 0 < routed_away < reviews.count() / 2
    assert transferred


def test_transitions_chain_through_allowed_steps_in_time_order(demo):
    steps = {}
    for t in CaseTransition.objects.order_by("case_id", "at", "pk"):
        steps.setdefault(t.case_id, []).append(t)
    anchor = timezone.now()
    for case in RectificationCase.objects.filter(kind="bad_review").all():
        rows = steps[case.pk]
        assert (rows[0].action, rows[0].from_state, rows[0].to_state) == ("open", "", State.OPEN)
        for before, after in zip(rows, rows[1:], strict=False):
            assert after.from_state == before.to_state, (case.pk, before.action, after.action)
            assert before.at <= after.at < anchor
        for t in rows[1:]:
            # An appeal upheld after the evaluator closed the case leaves a row and moves nothing (appeals.decide).
            if t.action in NON_MOVING or (t.action == "appeal_upheld" and t.from_state == State.CLOSED):
                assert t.from_state == t.to_state, (case.pk, t.action)
            else:
                assert rules.can_transition(t.from_state, t.to_state, t.action), (case.pk, t.action)
        assert rows[-1].to_state == case.state


def test_a_realistic_spread_of_states_outcomes_and_appeals(demo):
    cases = RectificationCase.objects.filter(kind="bad_review").all()
    states = Counter(cases.values_list("state", flat=True))
    n = cases.count()
    assert states[State.CLOSED] > n / 2  # most are done
    assert states[State.OPEN] + states[State.CALLED_BACK] + states[State.RECTIFYING] > 0  # recent ones in hand
    assert states[State.ANSWERED] > 0  # waiting for the evaluator
    # Whatever the date, the workbench has a case in each in-hand state to show.
    assert {State.OPEN, State.CALLED_BACK, State.RECTIFYING, State.ANSWERED, State.REOPENED} <= set(states), states
    outcomes = Counter(cases.exclude(outcome="").values_list("outcome", flat=True))
    assert {"fixed_now", "deadline", "explained"} <= set(outcomes) <= set(rules.Outcome.values)
    assert outcomes["mistaken"] + outcomes["malicious"] > 0  # a few 误评/恶意差评
    assert LedgerEntry.objects.filter(case__state=State.RECTIFYING).exists() or states[State.RECTIFYING] == 0
    assert LedgerEntry.objects.filter(progress__isnull=False).exists()
    assert cases.filter(satisfaction="satisfied").exists() and cases.filter(reopen_count=1).exists()
    assert CaseTransition.objects.filter(action="close", note="评价人逾期未确认", actor=None).exists()
    appeals = Counter(Appeal.objects.values_list("state", flat=True))
    assert appeals["upheld"] > 0 and appeals["rejected"] > 0
    assert cases.exclude(escalated_at=None).exists()


def test_exclusions_match_confirmed_not_adopted_and_upheld_appeals(demo):
    excluded = {e.evaluation_id: e for e in EvaluationExclusion.objects.all()}
    not_adopted = RectificationCase.objects.filter(kind="bad_review").filter(outcome__in=("mistaken", "malicious"), confirmed_by__isnull=False)
    assert not_adopted.exists()
    for case in not_adopted:
        e = excluded[case.evaluation_id]
        assert (e.reason, e.source) == (case.outcome, f"case:{case.pk}")
        assert CaseNotice.objects.filter(case=case, kind="report").exists()
    for appeal in Appeal.objects.filter(state="upheld").select_related("case"):
        assert appeal.case.state == State.CLOSED and appeal.evaluation_id in excluded
    assert len(excluded) == not_adopted.count() + Appeal.objects.filter(state="upheld").exclude(
        case__in=not_adopted).count()
    assert Evaluation.objects.countable().filter(is_bad=True).count() == Evaluation.objects.filter(is_bad=True).count() - len(excluded)


def test_escalations_match_what_the_deadline_rules_say(demo):
    """The worker run on the demo finds nothing to escalate that the demo did not already escalate (apart from
    deadlines that passed during the last night, which the worker's first run adds)."""
    today = timezone.localdate()
    notices = set(CaseNotice.objects.filter(kind="escalation").values_list("case_id", "deadline", "due"))
    for case in RectificationCase.objects.filter(kind="bad_review").filter(state__in=rules.IN_HAND).select_related("ledger"):
        for row in deadline_rows(case, today):
            if rules.escalate(row) and row.due < today - timedelta(days=1):
                assert (case.pk, row.kind, row.due) in notices, (case.pk, row)


def test_the_figures_have_something_to_show(demo):
    [total] = case_figures(RectificationCase.objects.filter(kind="bad_review").all())
    assert total.cases == RectificationCase.objects.filter(kind="bad_review").count()
    assert 0.8 < total.callback_rate < 1 and 0.5 < total.rectify_rate < 1 and 0.6 < total.on_time_rate < 1
    assert total.appeals > 0 and total.upheld_rate is not None and total.overdue_now > 0


def test_the_demo_has_complaints_from_each_source_and_bulletins(demo):
    from haochaping.supervision.models import Bulletin, SocialReview

    reviews = SocialReview.objects.select_related("case")
    assert {r.source for r in reviews} == {"walk_in", "box", "hotline", "gov_platform", "email"}
    assert all(r.case.kind == "complaint" for r in reviews)
    from haochaping.supervision.models import AssessmentScore

    assessed = AssessmentScore.objects.filter(case__isnull=False).values("case").distinct().count()
    assert assessed == 1  # the third-party assessment's finding (demo.appraisal)
    assert RectificationCase.objects.filter(kind="complaint").count() == reviews.count() + assessed
    bulletins = Bulletin.objects.all()
    assert {b.kind for b in bulletins} == {"typical_bad", "good_practice"}
    assert bulletins.filter(published_at__isnull=False).count() == 1
    for bulletin in bulletins:  # some units acknowledged, others not yet: the agency's page has both
        assert 0 < bulletin.recipients.filter(acknowledged_at__isnull=False).count() < bulletin.recipients.count()
