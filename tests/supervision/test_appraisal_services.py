"""The appraisal through the service layer. The proof the issue asks for: a unit's score equals an independent
computation, in this test, from the raw evaluations, cases, records, assessment and manual score it created (the
expected value is computed here from those rows and the formula of docs/metrics.md, not through the product)."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from haochaping.core.problems import DomainError
from haochaping.evaluation.models import Evaluation
from haochaping.records.models import ServiceRecord
from haochaping.rectification.models import RectificationCase
from haochaping.supervision.appraisal import services, sources
from haochaping.supervision.appraisal.models import Appraisal, Indicator, ManualScore
from haochaping.supervision.assessments import services as assessments
from haochaping.supervision.assessments.rules import ScoreInput
from tests import factories

from .appraisal_helpers import pdf, second_department, submit, this_period

pytestmark = pytest.mark.django_db

# The national defaults as docs/metrics.md states them: code -> (dimension, weight in dimension, floor, target).
TABLE = {
    "ITEM-GUIDE": ("items", 1, 0, 100), "PROC-OVERDUE": ("process", 1, 10, 0), "STD-ASSESS": ("standards", 1, 0, 100),
    "QUAL-SATIS": ("quality", 2, 50, 100), "QUAL-BAD": ("quality", 1, 10, 0),
    "RECT-ONTIME": ("rectification", 1, 60, 100), "RECT-CALLBACK": ("rectification", 1, 60, 100),
    "SUP-WORK": ("supervision", 1, 0, 100), "SUP-SURVEY": ("supervision", 1, 60, 100),
    "SUP-SAMPLING": ("supervision", 1, 10, 0),
}
DIMENSIONS = {"items": 10, "process": 15, "standards": 15, "quality": 30, "rectification": 20, "supervision": 10}


def expected_score(raw: dict) -> float:
    """docs/metrics.md "绩效评价", written out again: linear clamped scores, tiered weights renormalised over the
    indicators with a value."""
    valued = {code: v for code, v in raw.items() if v is not None}
    dims = {TABLE[c][0] for c in valued}
    dim_total = sum(DIMENSIONS[d] for d in dims)
    total = 0.0
    for code, value in valued.items():
        dim, w, floor, target = TABLE[code]
        in_dim = sum(TABLE[c][1] for c in valued if TABLE[c][0] == dim)
        score = max(0.0, min(1.0, (value - floor) / (target - floor))) * 100
        total += DIMENSIONS[dim] / dim_total * w / in_dim * score
    return total


def test_indicators_are_seeded_by_the_migration():
    assert set(Indicator.objects.filter(region=None).values_list("code", flat=True)) == set(TABLE)
    assert services.ensure_national_indicators() == 0
    for code, (dim, w, floor, target) in TABLE.items():
        row = Indicator.objects.get(region=None, code=code)
        assert (row.dimension, row.weight, row.floor, row.target) == (dim, w, floor, target)


def test_score_equals_an_independent_computation_from_raw_rows(org, item, cast, commission):
    start, end = this_period()
    other = second_department(org)
    now = timezone.now()
    today = timezone.localdate()
    # 办件 and evaluations: department A rated 5,5,4,3,1,2; department B rated 4,4.
    levels = {org.department.pk: [5, 5, 4, 3, 1, 2], other.pk: [4, 4]}
    for dept_id, ls in levels.items():
        for i, level in enumerate(ls):
            kw = {} if dept_id == org.department.pk else dict(department=other, window=None, staff=None)
            # Due dates: in A, the first record was completed a day after its due date; the rest in time.
            due = today + timedelta(days=3) if i or dept_id != org.department.pk else today - timedelta(days=1)
            record = factories.make_record(org, item, due_date=due, **kw)
            submit(record, level)
    # One more completed record of A without evaluation, late, and one without a due date (not counted).
    factories.make_record(org, item, due_date=today - timedelta(days=2))
    factories.make_record(org, item, due_date=None)
    # Cases: the two 差评 of A opened cases; one called back and handled in time, one handled late.
    cases = list(RectificationCase.objects.filter(department=org.department).order_by("pk"))
    assert len(cases) == 2
    RectificationCase.objects.filter(pk=cases[0].pk).update(callback_at=now, handled_at=now,
                                                            fix_now_due=today + timedelta(days=1))
    RectificationCase.objects.filter(pk=cases[1].pk).update(handled_at=now, fix_now_due=today - timedelta(days=1))
    # A third-party assessment of A, accepted (scores 70 and 90), and a hand score for 监督管理.
    a = assessments.submit_assessment(actor=cast["assessor"], commission_id=commission.pk, department=org.department,
                                      start=start, end=end, summary="结论", report=pdf(),
                                      scores=[ScoreInput("STD-ASSESS", 70, "问题"), ScoreInput("QUAL-SATIS", 90)])
    assessments.accept(a.pk, actor=cast["supervisor"])
    services.record_manual_score(actor=cast["supervisor"], indicator_code="SUP-WORK", department=org.department,
                                 start=start, end=end, value=85, evidence="查阅台账")

    results = {r.department_id: r for r in services.compute(region=org.county, start=start, end=end,
                                                            actor=cast["supervisor"])}

    # The expected raw values, from the rows above, read back raw.
    tz = timezone.get_current_timezone()
    since = timezone.make_aware(datetime.combine(start, time.min), tz)
    until = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz)
    for dept in (org.department, other):
        evs = list(Evaluation.objects.filter(department=dept, created_at__gte=since, created_at__lt=until)
                   .values_list("level", flat=True))
        assert sorted(evs) == sorted(levels[dept.pk])
        recs = [r for r in ServiceRecord.objects.filter(department=dept, due_date__isnull=False)]
        late = [r for r in recs if timezone.localtime(r.completed_at).date() > r.due_date]
        dept_cases = list(RectificationCase.objects.filter(department=dept))
        handled = [c for c in dept_cases if c.handled_at]
        raw = {
            "QUAL-SATIS": sum((x - 1) * 25 for x in evs) / len(evs),
            "QUAL-BAD": 100 * sum(1 for x in evs if x <= 2) / len(evs),
            "PROC-OVERDUE": 100 * len(late) / len(recs),
            "RECT-ONTIME": (100 * sum(1 for c in handled if timezone.localtime(c.handled_at).date() <= c.fix_now_due)
                            / len(handled)) if handled else None,
            "RECT-CALLBACK": (100 * sum(1 for c in dept_cases if c.callback_at) / len(dept_cases)) if dept_cases else None,
            "STD-ASSESS": (70 + 90) / 2 if dept == org.department else None,
            "SUP-WORK": 85 if dept == org.department else None,
            "ITEM-GUIDE": None, "SUP-SURVEY": None, "SUP-SAMPLING": None,
        }
        got = results[dept.pk]
        assert got.score == pytest.approx(expected_score(raw), abs=1e-9)
        lines = {line["code"]: line for line in got.breakdown}
        for code, value in raw.items():
            assert lines[code]["raw"] == (pytest.approx(value) if value is not None else None), code
        assert sum(line["weight"] for line in got.breakdown) == pytest.approx(1)
        assert sum(line["contribution"] for line in got.breakdown) == pytest.approx(got.score)
    # Hand-checked figures for A: satisfaction 62.5, 差评率 33.3 %, 超期率 2 of 7, on time 1 of 2, callback 1 of 2.
    assert results[org.department.pk].score < results[other.pk].score
    # Recomputing replaces, never duplicates.
    services.compute(region=org.county, start=start, end=end, actor=cast["supervisor"])
    assert Appraisal.objects.filter(period_start=start, period_end=end).count() == 2


def test_a_region_makes_an_indicator_stricter_for_its_subtree_only(org, cast):
    city_supervisor = cast["supervisor"].__class__.objects.create(username="sup-city", role="supervisor",
                                                                  region=org.city)
    services.define_indicator(actor=city_supervisor, region=org.city, code="qual-bad", name="差评率（济南从严）",
                              dimension="quality", source="bad_rate", weight=2, floor=5, target=0)
    services.define_indicator(actor=cast["supervisor"], region=org.county, code="EXTRA-GOOD", name="好评率",
                              dimension="quality", source="good_rate", weight=1, floor=80, target=100)
    county = {d.code: d for d in services.effective_for(org.county.code)}
    assert county["QUAL-BAD"].floor == 5 and "EXTRA-GOOD" in county
    other = {d.code: d for d in services.effective_for(org.other_county.code)}
    assert other["QUAL-BAD"].floor == 5 and "EXTRA-GOOD" not in other
    assert Indicator.objects.get(region=None, code="QUAL-BAD").floor == 10  # the parent's own is unchanged
    before = Indicator.objects.count()
    for kw, field in [(dict(floor=20), "floor"), (dict(source="satisfaction"), "source"), (dict(weight="x"), "weight"),
                      (dict(source="no_such_source"), "source")]:
        args = dict(actor=cast["supervisor"], region=org.county, code="QUAL-BAD", name="x", dimension="quality",
                    source="bad_rate", weight=1, floor=5, target=0)
        args.update(kw)
        with pytest.raises(DomainError) as err:
            services.define_indicator(**args)
        assert err.value.field == field
    with pytest.raises(DomainError) as err:  # another county's supervisor cannot define for this one
        services.define_indicator(actor=cast["far_supervisor"], region=org.county, code="X1", name="x",
                                  dimension="quality", source="bad_rate", weight=1, floor=5, target=0)
    assert err.value.status == 404
    assert Indicator.objects.count() == before


def test_manual_scores_and_compute_refuse_bad_input(org, cast):
    start, end = this_period()
    args = dict(actor=cast["supervisor"], indicator_code="SUP-WORK", department=org.department, start=start, end=end,
                value=80, evidence="台账")
    for kw, field in [(dict(indicator_code="QUAL-SATIS"), "indicator"), (dict(indicator_code="NOPE"), "indicator"),
                      (dict(value=101), "value"), (dict(value="abc"), "value"), (dict(evidence=" "), "evidence"),
                      (dict(end=start - timedelta(days=1)), "period_end")]:
        with pytest.raises(DomainError) as err:
            services.record_manual_score(**{**args, **kw})
        assert err.value.field == field
    with pytest.raises(DomainError) as err:
        services.record_manual_score(**{**args, "actor": cast["handler"]})
    assert err.value.status == 403
    assert ManualScore.objects.count() == 0
    with pytest.raises(DomainError) as err:
        services.compute(region=org.county, start=end, end=start, actor=cast["supervisor"])
    assert err.value.field == "period_end"
    with pytest.raises(DomainError) as err:
        services.compute(region=org.county, start=start, end=end, actor=cast["far_supervisor"])
    assert err.value.status == 404
    assert Appraisal.objects.count() == 0


def test_a_unit_without_data_has_no_score_and_results_are_scoped(org, cast):
    start, end = this_period()
    services.compute(region=org.city, start=start, end=end)
    row = Appraisal.objects.get(department=org.department)
    assert row.score is None and all(line["weight"] == 0 for line in row.breakdown)
    assert list(services.results(cast["supervisor"], start, end)) == [row]
    assert list(services.results(cast["far_supervisor"], start, end)) == []
    assert services.periods(cast["supervisor"]) == [(start, end)]


def test_sources_follow_the_documented_interface(org, item):
    start, end = this_period()
    assert {"satisfaction", "bad_rate", "good_rate", "overdue_rate", "rectify_on_time_rate", "callback_rate",
            "assessment_score"} <= set(sources.names())
    submit(factories.make_record(org, item), 3)
    for name in sources.names():
        out = sources.REGISTRY[name].fn([org.department.pk], start, end)
        assert set(out) <= {org.department.pk}
        assert all(0 <= v <= 100 for v in out.values())
    assert sources.REGISTRY["satisfaction"].fn([org.department.pk], start, end) == {org.department.pk: 50.0}


def test_the_daily_task_appraises_last_month(org):
    from haochaping.supervision.appraisal import rules
    from haochaping.supervision.appraisal.tasks import compute_appraisal

    today = timezone.localdate()
    start, end = rules.last_month(today)
    assert compute_appraisal.call() == 1  # the fixture's one department, in the province's subtree
    assert Appraisal.objects.filter(department=org.department, period_start=start, period_end=end).exists()


def test_callback_sampling_mismatches_lower_the_appraisal(org, item, cast):
    """SUP-SAMPLING: of the reached callbacks of the unit's sample, the share whose evaluator said they never rated
    or were pressured, counted here from the call rows themselves."""
    from haochaping.accounts.models import Role, User
    from haochaping.supervision.sampling import services as sampling
    from haochaping.supervision.sampling.models import CallbackItem, CallStatus
    from haochaping.supervision.sampling.rules import Answer, CallOutcome
    from tests.supervision.sampling_world import last_month, rate

    operator = User.objects.create(username="hotline-9", role=Role.HOTLINE, region=org.city)
    for n, level in enumerate([5, 5, 4, 1]):
        rate(org, item, level, phone=f"1390000{n:04d}", day=3 + n)
    start, end = last_month()
    entries = list(sampling.draw_sample(org.department.pk, start, end, ratio_=1.0).sample.items.order_by("pk"))
    outcomes = [CallOutcome(True, Answer.NO, Answer.NO, 2), CallOutcome(True, Answer.YES, Answer.NO, 5),
                CallOutcome(True, Answer.YES, Answer.YES, 4), CallOutcome(False)]
    for entry, outcome in zip(entries, outcomes, strict=True):
        sampling.record_call(entry.pk, outcome, actor=operator)

    reached = CallbackItem.objects.filter(sample__department=org.department, status=CallStatus.DONE)
    expected = 100 * reached.filter(mismatch=True).count() / reached.count()
    assert expected == pytest.approx(100 * 2 / 3)
    result = {r.department_id: r for r in services.compute(region=org.county, start=start, end=end,
                                                           actor=cast["supervisor"])}[org.department.pk]
    line = {x["code"]: x for x in result.breakdown}["SUP-SAMPLING"]
    assert line["raw"] == pytest.approx(expected)
    # 10 % or more mismatches scores 0 (floor 10, target 0).
    assert line["score"] == 0
