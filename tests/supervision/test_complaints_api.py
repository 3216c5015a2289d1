"""12345 work orders in batch over real HTTP (issue 13 item 1): each order registered on its own and opening a
rectification case for the unit concerned, a re-sent order answered "replayed" with nothing added, refusals
naming index and field, nothing half-written, keys bounded by their region."""

from __future__ import annotations

import httpx
import pytest

from haochaping.core.models import AuditEntry
from haochaping.rectification.models import RectificationCase
from haochaping.rectification.rules import Kind, State
from haochaping.supervision.models import SocialReview
from tests import factories
from tests.records.helpers import assert_problem

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/complaints/work-orders"


def order(no: str, **kw) -> dict:
    return {"work_order_no": no, "content": "窗口人员态度生硬，让我来回跑了三趟", **kw}


def by_index(answer: dict) -> dict[int, dict]:
    return {r["index"]: r for r in answer["results"]}


def test_a_batch_of_work_orders_opens_one_case_each_and_a_resent_order_is_replayed(http, org, item):
    record = factories.make_record(org, item)
    items = [
        order("12345-0001", department=org.department.credit_code, complainant_name="张三",
              complainant_phone="13800001111", received_at="2026-01-05T09:30:00+08:00"),
        order("12345-0002", project_no=record.project_no, nature="suggestion"),
        order("12345-0003", staff_no=org.staff.staff_no, source="gov_platform"),
        order("12345-0004"),  # names nothing it is about
        order("12345-0005", department="91370000MA3C0000X0"),  # a department that does not exist
        {"content": "没有工单号"},
        order("12345-0006", complainant_phone="12"),
        order("12345-0001", department=org.department.credit_code),  # re-sent in the same batch
    ]
    r = http.post(URL, json={"items": items})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert (answer["created"], answer["replayed"], answer["refused"]) == (3, 1, 4)
    results = by_index(answer)
    assert results[3]["problem"]["field"] == "department" and results[3]["problem"]["status"] == 422
    assert results[4]["problem"]["field"] == "department" and results[4]["problem"]["status"] == 404
    assert results[5]["problem"]["field"] == "work_order_no"
    assert results[6]["problem"]["field"] == "phone"
    assert results[7]["id"] == results[0]["id"] and results[7]["case_id"] == results[0]["case_id"]

    assert SocialReview.objects.count() == 3 and RectificationCase.objects.count() == 3
    first = SocialReview.objects.get(reference="12345-0001")
    assert first.source == "hotline" and first.case.kind == Kind.COMPLAINT and first.case.state == State.OPEN
    assert first.case.department_id == org.department.pk and first.case.is_real_name
    # The contact is stored encrypted and shown masked; the response and the audit never carry it.
    assert str(first.complainant_phone) == "138****1111" and first.complainant_phone.reveal() == "13800001111"
    assert "13800001111" not in r.text and "张三" not in r.text
    assert not any("13800001111" in str(a.data) for a in AuditEntry.objects.all())
    by_record = SocialReview.objects.get(reference="12345-0002")
    assert by_record.record_id == record.pk and by_record.nature == "suggestion" and by_record.item_id == item.pk
    assert by_record.case.record_id == record.pk
    staffed = SocialReview.objects.get(reference="12345-0003")
    assert staffed.source == "gov_platform" and staffed.staff_id == org.staff.pk
    assert staffed.case.department_id == org.staff.department_id

    again = http.post(URL, json={"items": [items[0], items[1]]}).json()
    assert (again["created"], again["replayed"], again["refused"]) == (0, 2, 0)
    assert SocialReview.objects.count() == 3 and RectificationCase.objects.count() == 3


def test_the_batch_itself_is_checked(http, db):
    assert_problem(http.post(URL, json={"items": []}), 422, "items")
    assert_problem(http.post(URL, json={"items": [order(f"N{i}") for i in range(501)]}), 422, "items")
    assert_problem(http.post(URL, json={"orders": [order("x")]}), 422, "items")
    answer = http.post(URL, json={"items": [order("A1", colour="red")]}).json()
    assert answer["results"][0]["problem"]["field"] == "colour"


def test_a_keys_region_bounds_every_order(live_server, org, item):
    _key, secret = factories.make_api_key(region=org.county)
    elsewhere = factories.department(org.other_county)
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=live_server.url, headers=headers, timeout=30) as c:
        answer = c.post(URL, json={"items": [order("R1", department=org.department.credit_code),
                                             order("R2", department=elsewhere.credit_code)]}).json()
    results = by_index(answer)
    assert results[0]["status"] == "created"
    assert results[1]["status"] == "refused" and results[1]["problem"]["status"] == 404
    assert results[1]["problem"]["field"] == "department"
    assert list(SocialReview.objects.values_list("reference", flat=True)) == ["R1"]

    # Another region's key re-sending a number this region registered is refused, not told about it.
    _other, other_secret = factories.make_api_key(region=org.other_county)
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {other_secret}"}, timeout=30) as c:
        clash = c.post(URL, json={"items": [order("R1", department=elsewhere.credit_code)]}).json()
    assert clash["results"][0]["problem"]["status"] == 409 and clash["results"][0]["problem"]["field"] == "work_order_no"


def test_a_key_without_cases_write_cannot_push(live_server, db):
    _key, secret = factories.make_api_key(scopes=["cases:read"])
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30) as c:
        assert_problem(c.post(URL, json={"items": [order("X")]}), 403, "Authorization")
