"""整改与申诉 figures from the case counters (issue 14: nothing that scans 差评 rows per request): they equal
rectification.figures computed over the cases — in total and per unit, for every kind of caller the counters
answer, over day and month rows — after every kind of change to a case, its appeal or its 台账; the rebuild and its
check agree with them; and the dashboard reads no case row for them (only the in-hand cases, for 当前逾期)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from haochaping.accounts.models import Role, User
from haochaping.core.scoping import scope
from haochaping.insight import metrics, rollups
from haochaping.insight.metrics import PublicViewer, StatsFilter
from haochaping.insight.models import CaseDayCounter, CaseMonthCounter, CaseTally
from haochaping.rectification import figures
from haochaping.rectification.models import Appeal, LedgerEntry, RectificationCase
from tests.rectification.test_figures import TODAY, moment, world  # noqa: F401 (world is a fixture)

from .test_dashboard import client_for

pytestmark = pytest.mark.django_db

PERIODS = [
    StatsFilter(),  # every case
    StatsFilter(date_from=TODAY - timedelta(days=29), date_to=TODAY),  # day rows only (crosses a month)
    StatsFilter(date_from=date(2026, 2, 1), date_to=TODAY),  # February's month rows and March's day rows
    StatsFilter(date_from=date(2026, 2, 1), date_to=date(2026, 2, 28)),  # one month row per unit
    StatsFilter(date_from=TODAY, date_to=TODAY),
]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(moment(TODAY, 11), tick=False):
        yield


def callers(org):
    handler, _ = User.objects.get_or_create(username="case-handler", defaults=dict(
        role=Role.HANDLER, region=org.county, department=org.department))
    hall, _ = User.objects.get_or_create(username="case-hall", defaults=dict(
        role=Role.HANDLER, region=org.county, agency=org.agency))
    return [PublicViewer(), PublicViewer(org.county.code), PublicViewer(org.province.code), handler, hall]


def over_the_cases(actor, flt: StatsFilter, by=None):
    return figures.case_figures(flt.cases(scope(RectificationCase.objects.all(), actor)), by=by)


def assert_equal_everywhere(org, extra_filters=()):
    for actor in callers(org):
        for flt in [*PERIODS, *extra_filters]:
            for by in (None, "department", "agency", "region"):
                assert metrics.case_figures(actor, flt, by=by) == over_the_cases(actor, flt, by), (actor, flt, by)


def test_counters_equal_the_cases_for_every_caller_period_and_grouping(org, world):  # noqa: F811
    assert CaseTally.objects.count() == RectificationCase.objects.count() == 60
    flt_units = [StatsFilter(departments=frozenset({org.department.pk})),
                 StatsFilter(agencies=frozenset({org.agency.pk}), date_from=date(2026, 2, 1)),
                 StatsFilter(region_prefix=org.other_county.code[:6])]
    assert_equal_everywhere(org, flt_units)
    total = metrics.case_figures(PublicViewer(), StatsFilter())[0]
    # The mix is realistic: every figure has something to count.
    assert total.cases == 60 and 0 < total.handled < total.counted and 0 < total.on_time < total.handled
    assert 0 < total.upheld < total.decided_appeals < total.appeals and total.overdue_now > 0
    assert 0 < total.real_name_done < total.real_name


def test_every_kind_of_change_keeps_the_counters_equal(org, world):  # noqa: F811
    cases = list(RectificationCase.objects.order_by("pk"))
    open_case = next(c for c in cases if c.state == "open")
    # Called back and handled late (save with update_fields, as the services do).
    open_case.state, open_case.callback_at = "called_back", moment(TODAY)
    open_case.save(update_fields=["state", "callback_at"])
    open_case.state, open_case.outcome, open_case.handled_at = "explained", "explained", moment(TODAY, 12)
    open_case.save(update_fields=["state", "outcome", "handled_at"])
    assert_equal_everywhere(org)
    # Transferred to another department and hall (moves its part to another key).
    moved = cases[1]
    moved.department, moved.agency, moved.region = world["other"], None, org.other_county
    moved.save()
    # An appeal decided (upheld: the case leaves 整改率's count; rejected), and one withdrawn (deleted).
    appeals = list(Appeal.objects.order_by("pk"))
    undecided = [a for a in appeals if a.state in ("submitted", "under_review")]
    undecided[0].state = "upheld"
    undecided[0].save(update_fields=["state"])
    undecided[1].state = "rejected"
    undecided[1].save()
    appeals[-1].delete()
    # A new appeal on a case that had none.
    bare = next(c for c in cases if c.kind == "bad_review" and not Appeal.objects.filter(case=c).exists())
    Appeal.objects.create(case=bare, evaluation_id=bare.evaluation_id, appellant=undecided[0].appellant, party="unit",
                          explanation="不符", submitted_at=moment(TODAY), review_due=TODAY + timedelta(days=5),
                          state="upheld")
    # A 台账's extension approved and its deadline moved (on time ↔ late).
    for entry in LedgerEntry.objects.order_by("pk")[:3]:
        entry.extension_approved = not entry.extension_approved
        entry.deadline = entry.deadline + timedelta(days=9)
        entry.save()
    # A case reopened (handled_at cleared) and one closed; a save that changes no figure.
    handled = [c for c in RectificationCase.objects.filter(handled_at__isnull=False).order_by("pk")]
    handled[0].state, handled[0].handled_at = "reopened", None
    handled[0].save()
    handled[1].state = "closed"
    handled[1].save(update_fields=["state"])
    handled[2].save(update_fields=["answer"])
    assert_equal_everywhere(org)
    assert rollups.rebuild(apply=False).case_differing == 0


def test_cases_opened_together_are_counted(org, item):
    # The batch intake opens its 差评's cases with one bulk INSERT (no post_save): the cases_written signal counts them.
    import uuid

    from haochaping.evaluation import intake, services
    from tests import factories

    records = [factories.make_record(org, item, accepted_at=moment(TODAY - timedelta(days=1))) for _ in range(4)]
    inputs = [services.EvaluationInput(idempotency_key=uuid.uuid4().hex, project_no=r.project_no, stage="complete",
                                       channel="pc", level=level, labels={1: ["110"], 2: ["209"]}.get(level, []))
              for r, level in zip(records, (1, 1, 2, 5), strict=True)]
    out = intake.submit_evaluations(inputs, source="apikey:test", now=moment(TODAY, 10), by_api_key=True)
    assert all(isinstance(o, intake.Created) for o in out), out
    assert metrics.case_figures(PublicViewer(), StatsFilter())[0].cases == RectificationCase.objects.count() == 3
    assert_equal_everywhere(org)
    assert rollups.rebuild(apply=False).agrees


def test_rebuild_finds_and_repairs_wrong_counters(org, world):  # noqa: F811
    # (The fixture writes its evaluations without counting them: only the case counters are in step.)
    assert rollups.rebuild(apply=False).case_differing == 0
    want = metrics.case_figures(PublicViewer(), StatsFilter(date_from=date(2026, 2, 1), date_to=TODAY))
    row = CaseDayCounter.objects.order_by("day").last()
    CaseDayCounter.objects.filter(pk=row.pk).update(handled=row.handled + 2)
    CaseMonthCounter.objects.filter(day=date(2026, 2, 1)).update(cases=0)
    CaseTally.objects.filter(case_id=RectificationCase.objects.order_by("pk")[0].pk).delete()
    check = rollups.rebuild(apply=False)
    assert check.case_differing >= 2 and check.cases == 60
    assert metrics.case_figures(PublicViewer(), StatsFilter(date_from=date(2026, 2, 1), date_to=TODAY)) != want
    report = rollups.rebuild()
    assert report.case_differing >= 2
    assert rollups.rebuild(apply=False).agrees  # the evaluation counters rebuilt as well
    assert metrics.case_figures(PublicViewer(), StatsFilter(date_from=date(2026, 2, 1), date_to=TODAY)) == want
    assert CaseTally.objects.count() == 60
    # Rebuilt month by month, a later change still counts exactly (the tallies were rebuilt too).
    case = RectificationCase.objects.filter(state="open").first()
    case.callback_at = moment(TODAY)
    case.save()
    assert_equal_everywhere(org)


CASE_ROWS = re.compile(r'\b(FROM|JOIN)\s+"rectification_(rectificationcase|appeal|ledgerentry)"')


def test_the_dashboard_reads_only_the_in_hand_cases(org, world):  # noqa: F811
    supervisor = User.objects.create(username="case-supervisor", role=Role.SUPERVISOR, region=org.province)
    with CaptureQueriesContext(connection) as ctx:
        response = client_for(supervisor).get("/insight/?period=year")
    assert response.status_code == 200
    reads = [q["sql"] for q in ctx.captured_queries if CASE_ROWS.search(q["sql"])]
    # One read of cases: 当前逾期, over the in-hand ones only (never the closed cases of the period).
    assert len(reads) == 1 and '"state" IN (' in reads[0] and "'closed'" not in reads[0]
    total = over_the_cases(supervisor, StatsFilter(date_from=date(2026, 1, 1), date_to=TODAY))[0]
    page = response.content.decode()
    assert f"{total.handled} / {total.counted}" in page.replace(",", "")


def test_a_few_cases_are_read_by_the_prepared_statement_as_the_orm_reads_them(org, world):  # noqa: F811
    # A write recounts one case or a handful through SQL compiled once per process (rollups.cases._current_sql);
    # its answer is the ORM's, field for field, for each count it is used for, with the ids in any order.
    from haochaping.insight.rollups import cases as case_rollups

    ids = sorted(RectificationCase.objects.values_list("pk", flat=True))
    assert len(ids) >= 3
    for chosen in (ids[:1], ids[:2], list(reversed(ids[:3])), ids[:case_rollups._CURRENT_CACHED_UP_TO]):
        by_orm = {r["k_case_id"]: r for r in case_rollups._keyed(RectificationCase.objects.filter(pk__in=chosen),
                                                                    per_case=True)}
        cached = case_rollups._current(chosen)
        assert set(cached) == set(chosen) == set(by_orm)
        for pk, part in cached.items():
            row = by_orm[pk]
            assert part == (case_rollups._day(row["k_day"]), row["k_region"], row["k_department"], row["k_agency"],
                            row["k_platform"], *(row[v] for v in case_rollups.CASE_VALUES))
    assert case_rollups._CURRENT  # the statements were kept
