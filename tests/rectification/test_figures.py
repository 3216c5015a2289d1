"""Supervision figures (回访率, 整改率, 按时办结率, 实名差评回访整改率, 申诉率, 申诉成立率, overdue now): each one equals
the count made here independently from the raw rows, per unit and in total, in two queries."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from haochaping.accounts.models import Role, User
from haochaping.evaluation.models import Evaluation
from haochaping.rectification import rules
from haochaping.rectification.figures import case_figures
from haochaping.rectification.models import Appeal, LedgerEntry, RectificationCase
from tests import factories
from tests.factories import SHANGHAI

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 18)
STATES = ["open", "called_back", "rectifying", "rectified", "explained", "not_adopted", "answered", "reopened", "closed"]


def moment(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), SHANGHAI)


@pytest.fixture
def world(org, item):
    """~60 cases in two departments (one at the hall), random but fixed: states, callbacks, handling before or
    after the deadline (some around midnight), 台账 with and without approved extensions, appeals in every state."""
    rng = random.Random(20260318)
    other = factories.department(org.other_county, "市中区人社局")
    appellant = User.objects.create(username="appellant", role=Role.HANDLER, department=org.department)
    units = [(org.county, org.department, org.agency), (org.county, org.department, None), (org.other_county, other, None)]
    for n in range(60):
        region, department, agency = rng.choice(units)
        opened = TODAY - timedelta(days=rng.randint(0, 40))
        due = {"callback_due": opened + timedelta(days=1), "fix_now_due": opened + timedelta(days=7),
               "rectify_due": opened + timedelta(days=21)}
        state = rng.choice(STATES)
        kind = "complaint" if n % 9 == 0 else "bad_review"
        fields = dict(kind=kind, state=state, region=region, department=department, agency=agency,
                      is_real_name=rng.random() < 0.4, opened_at=moment(opened), **due)
        if state != "open" and rng.random() < 0.9:
            fields["callback_at"] = moment(opened + timedelta(days=rng.randint(0, 3)), rng.randint(8, 20))
        outcome = rng.choice(["fixed_now", "deadline", "explained", "mistaken"]) if state != "open" else ""
        fields["outcome"] = outcome
        if state not in ("open", "called_back", "rectifying") or (state == "called_back" and rng.random() < 0.1):
            # Handled: on the due day late at night, just after midnight, or some days either side.
            limit = due["rectify_due"] if outcome == "deadline" else due["fix_now_due"]
            pick = rng.random()
            if pick < 0.15:
                fields["handled_at"] = moment(limit, 23, 30)
            elif pick < 0.3:
                fields["handled_at"] = moment(limit + timedelta(days=1), 0, 30)
            else:
                fields["handled_at"] = moment(limit + timedelta(days=rng.randint(-5, 4)), 15)
        evaluation = None
        if kind == "bad_review":
            record = factories.make_record(org, item)
            evaluation = Evaluation.objects.create(
                record=record, stage="complete", type="active", channel="pc", level=1, is_bad=True, comment="差",
                item=item, region=record.region, department=record.department, idempotency_key=f"fig-{n}",
                request_hash="0" * 64, receipt_code=f"FIGURES{n:05d}", leaf_hash="0" * 64, created_at=moment(opened))
        case = RectificationCase.objects.create(evaluation=evaluation, **fields)
        if outcome == "deadline" and state != "open":
            LedgerEntry.objects.create(
                case=case, problem="问题", measures="措施", responsible_person="责任人",
                deadline=due["rectify_due"] + timedelta(days=rng.choice([-10, -3, 0, 5, 12])),
                extension_approved=rng.random() < 0.5)
        if evaluation is not None and rng.random() < 0.35:
            Appeal.objects.create(case=case, evaluation=evaluation, appellant=appellant, party="unit",
                                  explanation="不符", submitted_at=moment(opened + timedelta(days=1)),
                                  review_due=opened + timedelta(days=8),
                                  state=rng.choice(["submitted", "under_review", "upheld", "rejected"]))
    return {"other": other}


def expected(key_field: str | None) -> dict:
    """Every figure counted in Python from the raw rows, with the definitions of docs/metrics.md."""
    ledgers = {e["case_id"]: e for e in LedgerEntry.objects.values()}
    appeals = {a["case_id"]: a["state"] for a in Appeal.objects.values("case_id", "state")}
    out = defaultdict(lambda: defaultdict(int))
    for c in RectificationCase.objects.values():
        n = out[c[key_field] if key_field else None]
        upheld = appeals.get(c["id"]) == "upheld"
        called_back = c["callback_at"] is not None
        handled = c["handled_at"] is not None and not upheld
        if c["outcome"] == "deadline":
            entry = ledgers.get(c["id"])
            limit = rules.ledger_due(c["rectify_due"], entry["deadline"], entry["extension_approved"]) if entry \
                else c["rectify_due"]
        else:
            limit = c["fix_now_due"]
        n["cases"] += 1
        n["counted"] += not upheld
        n["called_back"] += called_back
        n["handled"] += handled
        n["finished"] += c["state"] == "closed"
        n["on_time"] += handled and timezone.localdate(c["handled_at"]) <= limit
        n["real_name"] += c["is_real_name"] and not upheld
        n["real_name_done"] += c["is_real_name"] and not upheld and called_back and c["handled_at"] is not None
        n["bad_reviews"] += c["kind"] == "bad_review"
        n["appeals"] += c["id"] in appeals
        n["decided_appeals"] += appeals.get(c["id"]) in ("upheld", "rejected")
        n["upheld"] += upheld
        in_hand = c["state"] in ("open", "called_back", "rectifying", "rectified", "explained", "not_adopted")
        callback_late = c["state"] == "open" and c["callback_due"] < TODAY
        handling_late = (c["state"] in ("open", "called_back", "rectifying") and c["handled_at"] is None
                         and limit < TODAY)
        n["overdue_now"] += in_hand and (callback_late or handling_late)
    return out


def check(row, n):
    counts = ("cases", "called_back", "handled", "finished", "on_time", "real_name", "real_name_done", "appeals",
              "decided_appeals", "upheld", "overdue_now", "bad_reviews", "counted")
    assert {k: getattr(row, k) for k in counts} == {k: n[k] for k in counts}, row.name
    assert row.callback_rate == rules.rate(n["called_back"], n["cases"])
    assert row.rectify_rate == rules.rate(n["handled"], n["counted"])
    assert row.on_time_rate == rules.rate(n["on_time"], n["handled"])
    assert row.real_name_rate == rules.rate(n["real_name_done"], n["real_name"])
    assert row.appeal_rate == rules.rate(n["appeals"], n["bad_reviews"])
    assert row.upheld_rate == rules.rate(n["upheld"], n["decided_appeals"])


def test_total_matches_the_raw_rows(world):
    [row] = case_figures(RectificationCase.objects.all(), today=TODAY)
    n = expected(None)[None]
    check(row, n)
    # The data exercise every figure (a figure that is always 0 would prove nothing).
    assert all(n[k] > 0 for k in ("called_back", "on_time", "real_name_done", "upheld", "overdue_now", "counted"))
    assert 0 < n["on_time"] < n["handled"] and n["decided_appeals"] > n["upheld"] and n["counted"] < n["cases"]


@pytest.mark.parametrize(("by", "field"), [("department", "department_id"), ("agency", "agency_id"),
                                           ("region", "region_id")])
def test_per_unit_matches_the_raw_rows_in_two_queries(world, org, by, field, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        rows = case_figures(RectificationCase.objects.all(), by=by, today=TODAY)
    counts = expected(field)
    assert {r.key for r in rows} == set(counts)
    for row in rows:
        check(row, counts[row.key])
    names = {r.key: r.name for r in rows}
    if by == "department":
        assert names[org.department.pk] == org.department.name and names[world["other"].pk] == "市中区人社局"
    if by == "agency":
        assert names[org.agency.pk] == org.agency.name and names[None] == "未经政务服务机构"
    if by == "region":
        assert names[org.county.code] == "历下区"


def test_handled_just_after_midnight_is_late_on_beijing_time(org):
    due = date(2026, 3, 2)
    common = dict(kind="complaint", state="explained", outcome="explained", region=org.county,
                  department=org.department, opened_at=moment(due - timedelta(days=7)), callback_due=due,
                  fix_now_due=due, rectify_due=due + timedelta(days=14))
    # 23:30 on the due day is 15:30 UTC the same day; 00:30 the day after is still the due day in UTC.
    RectificationCase.objects.create(handled_at=moment(due, 23, 30), **common)
    RectificationCase.objects.create(handled_at=moment(due + timedelta(days=1), 0, 30), **common)
    [row] = case_figures(RectificationCase.objects.all(), today=TODAY)
    assert (row.handled, row.on_time, row.on_time_rate) == (2, 1, 0.5)


def test_nothing_to_divide_by_gives_no_rate(db):
    [row] = case_figures(RectificationCase.objects.none(), today=TODAY)
    assert row.cases == 0
    assert (row.callback_rate, row.rectify_rate, row.on_time_rate, row.real_name_rate, row.appeal_rate,
            row.upheld_rate) == (None,) * 6
    assert case_figures(RectificationCase.objects.none(), by="department") == []


def test_a_scoped_queryset_counts_only_what_the_actor_sees(world, org):
    from haochaping.core.scoping import scope

    handler = User.objects.create(username="h-other", role=Role.HANDLER, department=world["other"], region=org.other_county)
    [row] = case_figures(scope(RectificationCase.objects.all(), handler), today=TODAY)
    assert row.cases == RectificationCase.objects.filter(department=world["other"]).count() > 0


def test_an_unknown_grouping_is_refused(db):
    with pytest.raises(ValueError):
        case_figures(RectificationCase.objects.all(), by="staff")
