"""Batch intake over real HTTP: each item answered on its own, through the single endpoints' schema and service,
idempotent per item, scoped like them; foreign shapes mapped at the border (issue 16 item 1, R6.2)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from haochaping.evaluation.models import Evaluation
from haochaping.records.models import ServiceRecord
from tests import factories
from tests.records.helpers import (
    assert_problem,
    evaluation_payload,
    full_evaluation_payload,
    record_payload,
)

pytestmark = pytest.mark.django_db(transaction=True)


def by_index(answer: dict) -> dict[int, dict]:
    return {r["index"]: r for r in answer["results"]}


def test_records_in_one_batch_are_answered_one_by_one(http, org, item):
    good = [record_payload(org, item) for _ in range(3)]
    bad = record_payload(org, item, department_credit_code="91370000MA3C0000X0")
    r = http.post("/api/v1/batch/records", json={"items": [*good, bad, good[0]]})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert (answer["created"], answer["replayed"], answer["refused"]) == (3, 1, 1)
    results = by_index(answer)
    assert [results[i]["status"] for i in range(5)] == ["created", "created", "created", "refused", "replayed"]
    assert results[3]["problem"]["status"] == 422 and results[3]["problem"]["field"] == "department_credit_code"
    assert results[4]["id"] == results[0]["id"]
    assert set(ServiceRecord.objects.values_list("project_no", flat=True)) == {b["project_no"] for b in good}


def test_evaluations_in_one_batch_share_the_single_endpoints_rules(http, org, item):
    records = [record_payload(org, item) for _ in range(4)]
    assert http.post("/api/v1/batch/records", json={"items": records}).json()["created"] == 4
    first = full_evaluation_payload(records[0]["project_no"])
    items = [
        first,
        evaluation_payload(records[1]["project_no"], labels=["999"]),  # no such label
        {**evaluation_payload(records[2]["project_no"]), "rating": 5},  # a misspelt field is not dropped
        evaluation_payload(records[3]["project_no"], channel="kiosk"),  # only an activated 评价器 may claim it
        first,  # a retry inside the same batch
    ]
    answer = http.post("/api/v1/batch/evaluations", json={"items": items}).json()
    results = by_index(answer)
    assert results[0]["status"] == "created" and isinstance(results[0]["case_id"], int)  # the 差评 opened its case
    assert (results[1]["problem"]["field"], results[2]["problem"]["field"]) == ("labels", "rating")
    assert results[3]["problem"]["status"] == 403 and results[3]["problem"]["field"] == "channel"
    assert results[4]["status"] == "replayed" and results[4]["id"] == results[0]["id"]
    assert Evaluation.objects.count() == 1
    # The single endpoint knows the item the batch wrote: its retry is a replay of the same row.
    single = http.post("/api/v1/evaluations", json=first)
    assert single.status_code == 200 and single.json()["id"] == results[0]["id"]


def test_the_live_national_shape_is_mapped_at_the_border(http, org, item):
    record = record_payload(org, item)
    assert http.post("/api/v1/records", json=record).status_code == 201
    row = {"projectNo": record["project_no"], "pf": "2", "satisfaction": "2", "serviceNumber": "2",
           "evaluateType": "1", "evalDetail": "209", "writingEvaluation": "超过承诺时间才办结",
           "assessTime": "2026-03-02 09:15:00", "assessNumber": "1"}
    answer = http.post("/api/v1/batch/evaluations", params={"shape": "national"},
                       json={"items": [row, {**row, "assessNumber": "2", "satisfaction": "6"}]}).json()
    results = by_index(answer)
    assert results[0]["status"] == "created"
    assert results[1]["problem"]["field"] == "satisfaction" and "6" not in results[1]["problem"]["detail"]
    ev = Evaluation.objects.get()
    assert (ev.level, ev.is_bad, ev.channel, ev.stage) == (2, True, "mobile", "complete")
    assert [label.code for label in ev.labels.all()] == ["209"]
    # The upstream's key (projectNo + assessNumber) is the idempotency key: a redelivery writes nothing.
    again = http.post("/api/v1/batch/evaluations", params={"shape": "national"}, json={"items": [row]}).json()
    assert again["results"][0]["status"] == "replayed" and Evaluation.objects.count() == 1
    # Where pf 7 means 系统默认评价, live intake refuses it: the system never takes a default as an evaluation.
    default = {**row, "pf": "7", "serviceNumber": "1", "assessNumber": "3"}
    refused = http.post("/api/v1/batch/evaluations", params={"shape": "national-pf7-default"},
                        json={"items": [default]}).json()
    assert refused["results"][0]["problem"]["field"] == "pf" and Evaluation.objects.count() == 1


def test_gbt_39046_rows_are_reversed_on_the_way_in(http, org, item):
    record = record_payload(org, item)
    assert http.post("/api/v1/records", json=record).status_code == 201
    row = {"办件编号": record["project_no"], "评价渠道": "1", "评价时间": "20260302T091500", "评价次数": "1",
           "满意度代码": "1", "文字评价": "", "行政区划": org.county.code}
    answer = http.post("/api/v1/batch/evaluations", params={"shape": "gbt39046"}, json={"items": [row]}).json()
    assert answer["created"] == 1, answer
    assert Evaluation.objects.get().level == 5  # 满意度代码 1 is 非常满意


def test_national_records_carry_their_area_code(http, org, item):
    row = {"projectNo": f"N-{uuid.uuid4().hex[:10]}", "taskCode": item.implementation_code,
           "areaCode": org.county.code.ljust(12, "0"), "deptCode": org.department.credit_code, "userProp": "1",
           "platformCode": org.platform.code, "promiseDay": "5", "proStatus": "2", "acceptDate": "2026-03-02 09:00:00"}
    answer = http.post("/api/v1/batch/records", params={"shape": "national"}, json={"items": [row]}).json()
    assert answer["created"] == 1, answer["results"][0]["problem"]
    record = ServiceRecord.objects.get()
    assert (record.region_id, record.promised_days, record.status, record.platform_id) == (
        org.county.code, 5, 2, org.platform.pk)
    # Without a hall, window, staff member or platform nobody would answer for a 差评: refused, naming them.
    del row["platformCode"]
    row["projectNo"] += "x"
    refused = http.post("/api/v1/batch/records", params={"shape": "national"}, json={"items": [row]}).json()
    assert refused["refused"] == 1 and ServiceRecord.objects.count() == 1
    # Named as the sender spells it: agencyCode, not this system's agency_code.
    assert refused["results"][0]["problem"]["field"] == "agencyCode"


def test_a_batch_is_bounded_and_must_be_a_list(http, db):
    too_many = assert_problem(http.post("/api/v1/batch/records", json={"items": [{}] * 1001}), 422, "items")
    none = assert_problem(http.post("/api/v1/batch/records", json={"items": []}), 422, "items")
    assert (too_many["errors"][0]["message"], none["errors"][0]["message"]) == ("条目过多", "条目过少")
    assert_problem(http.post("/api/v1/batch/records", json={"items": {"a": 1}}), 422, "items")
    assert_problem(http.post("/api/v1/batch/evaluations", params={"shape": "xml"}, json={"items": [{}]}), 422, "shape")


def test_a_keys_region_bounds_every_item(live_server, org, item):
    _key, secret = factories.make_api_key(region=org.county)
    inside = record_payload(org, item)
    # A 办件 said to be in the neighbouring county (370103) while naming this county's department and hall.
    astray = record_payload(org, item, region_code=org.other_county.code)
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30) as c:
        answer = c.post("/api/v1/batch/records", json={"items": [inside, astray]}).json()
    results = by_index(answer)
    assert results[0]["status"] == "created"
    assert results[1]["status"] == "refused" and results[1]["problem"]["status"] in (403, 422)
    assert results[1]["problem"]["field"]
    assert list(ServiceRecord.objects.values_list("project_no", flat=True)) == [inside["project_no"]]


def test_a_key_without_the_scope_cannot_batch(live_server, db):
    _key, secret = factories.make_api_key(scopes=["records:read"])
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30) as c:
        assert c.post("/api/v1/batch/evaluations", json={"items": [{}]}).status_code in (401, 403)
