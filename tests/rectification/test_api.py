"""Over the real API: a 差评 opens exactly one case in the same transaction and the answer carries its id; cases are
read, filtered and paged within scope; keys read and register complaints but take no step."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
from django.utils import timezone

from haochaping.accounts.models import Scope
from haochaping.core.models import AuditEntry
from haochaping.evaluation.models import Evaluation
from haochaping.rectification.models import CaseNotice, CaseTransition, RectificationCase
from haochaping.rectification.services import batch
from tests import factories
from tests.records.helpers import assert_problem, evaluation_payload, record_payload

from .api_helpers import actions, callback_body, keyed, open_case, person, problem

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pushed(http, org, item):
    body = record_payload(org, item)
    assert http.post("/api/v1/records", json=body).status_code == 201
    return body


def bad(project_no):
    return evaluation_payload(project_no, level=1, labels=[], comment="要求提供办事指南之外的材料")


def test_bad_review_opens_one_case_and_a_retry_gets_the_same_id(http, pushed, org):
    body = bad(pushed["project_no"])
    first = http.post("/api/v1/evaluations", json=body)
    assert first.status_code == 201, first.text
    case = RectificationCase.objects.get()
    assert first.json()["case_id"] == case.pk
    assert case.evaluation_id == first.json()["id"] and case.department_id == org.window.department_id
    retry = http.post("/api/v1/evaluations", json=body)
    assert retry.status_code == 200 and retry.json()["case_id"] == case.pk
    assert RectificationCase.objects.count() == 1 and CaseTransition.objects.count() == 1


def test_good_review_opens_no_case(http, pushed):
    r = http.post("/api/v1/evaluations", json=evaluation_payload(pushed["project_no"], level=5, labels=[]))
    assert r.status_code == 201, r.text
    assert r.json()["case_id"] is None
    retry = http.post("/api/v1/evaluations", json=evaluation_payload(pushed["project_no"], level=4, labels=[],
                                                                     type="followup"))
    assert retry.json()["case_id"] is None
    assert not RectificationCase.objects.exists()


def test_a_failure_opening_the_case_rolls_the_evaluation_back(http, pushed, monkeypatch):
    real_inserter = batch.inserter

    class Unavailable:
        def insert(self, rows):
            raise RuntimeError("audit table unavailable")

    def inserter(model):
        # The case row and its first step are written first, then the audit entry fails: the transaction fails.
        return Unavailable() if model is AuditEntry else real_inserter(model)

    monkeypatch.setattr(batch, "inserter", inserter)
    r = http.post("/api/v1/evaluations", json=bad(pushed["project_no"]))
    assert_problem(r, 500)
    assert "audit table" not in r.text
    assert Evaluation.objects.count() == 0
    assert RectificationCase.objects.count() == 0 and CaseTransition.objects.count() == 0
    monkeypatch.undo()
    # Nothing half-written: the same submit now succeeds and opens its case.
    again = http.post("/api/v1/evaluations", json=bad(pushed["project_no"]))
    assert again.status_code == 201 and again.json()["case_id"] == RectificationCase.objects.get().pk


# --- reading cases, registering complaints, who may do what (api.py, api_common.py) ------------------------------



@pytest.fixture
def cases(org, record, item, people):
    """Three 差评 cases of the county's department: one open (real-name), one called back, one escalated; and one
    of another county's department, out of the county handler's scope."""
    opened = open_case(record, evaluator_phone="13800001111")
    called = open_case(factories.make_record(org, item))
    RectificationCase.objects.filter(pk=called.pk).update(state="called_back", callback_at=timezone.now())
    late = open_case(factories.make_record(org, item))
    RectificationCase.objects.filter(pk=late.pk).update(
        opened_at=timezone.now() - timedelta(days=20), callback_due=date(2020, 1, 2), fix_now_due=date(2020, 1, 8),
        escalated_at=timezone.now())
    other_dept = people["other_handler"].department
    other_item = factories.make_item(org, department=other_dept, region=org.other_county)
    elsewhere = open_case(factories.make_record(org, other_item, region=org.other_county, department=other_dept,
                                                agency=None, window=None, staff=None))
    return {"open": opened, "called": called, "late": late, "elsewhere": elsewhere}


def ids(body):
    return [item["id"] for item in body["items"]]


def test_a_handler_lists_the_units_cases_with_each_deadline_and_the_time_left(live_server, cases, people):
    with person(live_server, people["handler"]) as http:
        body = http.get("/api/v1/cases").json()
    assert sorted(ids(body)) == sorted(c.pk for k, c in cases.items() if k != "elsewhere")
    assert body["total"] == 3 and body["next_cursor"] is None
    item = next(i for i in body["items"] if i["id"] == cases["open"].pk)
    assert (item["state"], item["state_name"], item["kind"], item["is_real_name"]) == ("open", "待回访核实", "bad_review", True)
    kinds = [(d["kind"], d["name"]) for d in item["deadlines"]]
    assert kinds == [("callback", "回访核实"), ("handling", "立行立改或解释说明")]
    callback = item["deadlines"][0]
    assert callback["due"] == cases["open"].callback_due.isoformat()
    assert callback["working_days_left"] >= 0 and callback["overdue"] is False and item["overdue"] is False
    assert "callback" in item["actions"]
    # No personal data of the evaluator in a case.
    assert "13800001111" not in str(body) and "receipt" not in str(body)
    late = next(i for i in body["items"] if i["id"] == cases["late"].pk)
    assert late["overdue"] is True and late["deadlines"][0]["overdue"] is True
    assert late["deadlines"][0]["working_days_left"] < 0 and late["escalated_at"] is not None


def test_filters(live_server, cases, people, org):
    def listed(**params):
        with person(live_server, people["supervisor"]) as http:
            r = http.get("/api/v1/cases", params=params)
        assert r.status_code == 200, r.text
        return sorted(ids(r.json()))

    assert listed(state="called_back") == [cases["called"].pk]
    assert listed(overdue="true") == [cases["late"].pk]
    assert listed(overdue="false") == sorted([cases["open"].pk, cases["called"].pk])
    assert listed(escalated="true") == [cases["late"].pk]
    assert listed(real_name="true") == [cases["open"].pk]
    assert listed(kind="complaint") == []
    assert listed(department=org.department.credit_code) == sorted(c.pk for k, c in cases.items() if k != "elsewhere")
    assert listed(agency=org.agency.code) == sorted(c.pk for k, c in cases.items() if k != "elsewhere")
    today = timezone.localdate().isoformat()
    assert listed(**{"from": today, "to": today}) == sorted([cases["open"].pk, cases["called"].pk])
    with person(live_server, people["supervisor"]) as http:
        problem(http.get("/api/v1/cases", params={"state": "lost"}), 422, "state")
        problem(http.get("/api/v1/cases", params={"from": "2026-02-01", "to": "2026-01-01"}), 422, "from")
        problem(http.get("/api/v1/cases", params={"cursor": "nonsense"}), 422, "cursor")


def test_the_overdue_filter_agrees_with_the_deadline_rows_and_the_figures(cases, people):
    from haochaping.core.scoping import scope
    from haochaping.rectification.api import handling_due, overdue_q
    from haochaping.rectification.figures import case_figures
    from haochaping.rectification.services.deadlines import deadline_rows

    today = timezone.localdate()
    qs = RectificationCase.objects.select_related("ledger")
    flagged = set(qs.annotate(handling_due=handling_due()).filter(overdue_q(today)).values_list("pk", flat=True))
    assert flagged == {c.pk for c in qs if any(r.overdue for r in deadline_rows(c, today))} == {cases["late"].pk}
    assert case_figures(scope(RectificationCase.objects.all(), people["supervisor"]))[0].overdue_now == 1


def test_cursor_pages_cover_every_case_once(live_server, cases, people):
    with person(live_server, people["supervisor"]) as http:
        seen, cursor = [], None
        while True:
            body = http.get("/api/v1/cases", params={"limit": 1, **({"cursor": cursor} if cursor else {})}).json()
            seen += ids(body)
            cursor = body["next_cursor"]
            if cursor is None:
                break
    assert seen == list(RectificationCase.objects.filter(region=cases["open"].region)
                        .order_by("opened_at", "pk").values_list("pk", flat=True))


def test_the_detail_of_a_case_and_out_of_scope_reads_like_missing(live_server, cases, people):
    CaseNotice.objects.create(case=cases["late"], kind="escalation", deadline="callback", due=date(2020, 1, 2),
                              created_at=timezone.now())
    with person(live_server, people["handler"]) as http:
        body = http.get(f"/api/v1/cases/{cases['late'].pk}").json()
        assert body["transitions"][0]["action"] == "open" and body["transitions"][0]["actor"] is None
        assert body["notices"] == [{"kind": "escalation", "deadline": "callback", "due": "2020-01-02",
                                    "created_at": body["notices"][0]["created_at"]}]
        assert body["ledger"] is None and body["appeal"] is None and body["attachments"] == []
        missing = http.get("/api/v1/cases/99999999")
        hidden = http.get(f"/api/v1/cases/{cases['elsewhere'].pk}")
    assert problem(missing, 404, "case_id") == hidden.json()
    assert hidden.headers["content-type"] == missing.headers["content-type"]


def test_keys_read_with_cases_read_and_never_take_a_step(live_server, cases, org):
    with keyed(live_server, [Scope.CASES_READ], region=org.county) as http:
        assert sorted(ids(http.get("/api/v1/cases").json())) == sorted(
            c.pk for k, c in cases.items() if k != "elsewhere")
        assert http.get(f"/api/v1/cases/{cases['elsewhere'].pk}").status_code == 404
        r = http.post(f"/api/v1/cases/{cases['open'].pk}/callback", json=callback_body())
        assert "接口密钥不能办理" in problem(r, 403, "Authorization")["detail"]
        problem(http.post("/api/v1/cases", json={"summary": "窗口推诿", "department": org.department.credit_code}), 403)
    with keyed(live_server, [Scope.RECORDS_READ]) as http:
        problem(http.get("/api/v1/cases"), 403)
        problem(http.get("/api/v1/cases/figures"), 403)
    assert RectificationCase.objects.get(pk=cases["open"].pk).state == "open"


def test_a_signed_in_step_needs_the_csrf_token(live_server, cases, people):
    with person(live_server, people["handler"], csrf=False) as http:
        r = http.post(f"/api/v1/cases/{cases['open'].pk}/callback", json=callback_body())
    problem(r, 403, "X-CSRFToken")
    with person(live_server, people["supervisor"]) as http:
        assert http.get("/api/v1/cases").status_code == 200  # reading needs no token
    assert actions(cases["open"]) == ["open"]


def test_anonymous_gets_401(anon_http, cases):
    problem(anon_http.get("/api/v1/cases"), 401)
    problem(anon_http.post(f"/api/v1/cases/{cases['open'].pk}/close", json={}), 401)


def test_a_business_system_registers_complaints_in_its_region_only(live_server, org, record, people):
    key, secret = factories.make_api_key(scopes=[Scope.CASES_WRITE], region=org.county)
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30) as http:
        by_record = http.post("/api/v1/cases", json={"summary": "窗口要求提供指南外的证明", "project_no": record.project_no,
                                                      "is_real_name": True})
        assert by_record.status_code == 201, by_record.text
        body = by_record.json()
        assert (body["kind"], body["state"], body["project_no"], body["is_real_name"]) == (
            "complaint", "open", record.project_no, True)
        assert body["department_credit_code"] == org.window.department.credit_code
        assert body["transitions"][0]["actor"] is None  # the system, not a person
        # The audit names the integration (its key's prefix), never the complaint's text.
        audit = AuditEntry.objects.get(action="case.open", object_id=str(body["id"]))
        assert audit.actor == f"apikey:{key.prefix}" and "窗口要求" not in str(audit.data)
        by_dept = http.post("/api/v1/cases", json={"summary": "电话无人接听", "department": org.department.credit_code})
        assert by_dept.status_code == 201 and by_dept.json()["project_no"] is None
        far = people["other_handler"].department
        problem(http.post("/api/v1/cases", json={"summary": "x", "department": far.credit_code}), 404, "department")
        problem(http.post("/api/v1/cases", json={"summary": "x", "project_no": "NOPE"}), 404, "project_no")
        problem(http.post("/api/v1/cases", json={"summary": "窗口推诿"}), 422, "department")
        problem(http.post("/api/v1/cases", json={"department": org.department.credit_code}), 422, "summary")
        problem(http.post("/api/v1/cases", json={"summary": "x", "department": org.department.credit_code,
                                                 "phone": "13800001111"}), 422, "phone")
    assert RectificationCase.objects.filter(kind="complaint").count() == 2


def test_case_figures_by_department(live_server, cases, people, org):
    with person(live_server, people["supervisor"]) as http:
        rows = http.get("/api/v1/cases/figures", params={"by": "department"}).json()
        total = http.get("/api/v1/cases/figures").json()
        problem(http.get("/api/v1/cases/figures", params={"by": "window"}), 422, "by")
    assert [(r["key"], r["cases"], r["called_back"], r["overdue_now"]) for r in rows] == [
        (org.department.pk, 3, 1, 1)]
    assert rows[0]["callback_rate"] == pytest.approx(1 / 3) and rows[0]["appeal_rate"] == 0
    assert total[0]["key"] is None and total[0]["cases"] == 3 and total[0]["name"] == "合计"
    with keyed(live_server, [Scope.STATS_READ]) as http:
        assert http.get("/api/v1/cases/figures").json()[0]["cases"] == 4
