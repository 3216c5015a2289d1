"""The upper node's side (issue 16 item 5, R6.2, §四(三)) over real HTTP: a lower node's signed pushes are checked
and stored like history (original times, no case opened here), only for the node's own region; reconciliation
counts and the reports sent down are served to it alone."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from haochaping.accounts.models import Scope, User
from haochaping.core import signing
from haochaping.evaluation.models import Evaluation
from haochaping.exchange import wire
from haochaping.exchange.models import LowerNode, ReportedCaseOutcome
from haochaping.insight.models import Report
from haochaping.insight.reports import periods
from haochaping.insight.reports import services as report_services
from haochaping.records.models import ServiceRecord
from haochaping.rectification.models import RectificationCase
from tests import factories
from tests.records.helpers import iso, record_payload

pytestmark = pytest.mark.django_db(transaction=True)

LOWER_KEY = signing.new_private_key()
PAYLOAD_KEY = "8899aabbccddeeff0011223344556677"


@pytest.fixture
def unit(db):
    org = factories.make_org()
    return org, factories.make_item(org)


def register(region, *, payload_key: str = "", app_id: str = "jinan-node"):
    key, secret = factories.make_api_key(scopes=[Scope.EVALUATIONS_WRITE, Scope.RECORDS_WRITE], region=region)
    node = LowerNode(name=f"下级{uuid.uuid4().hex[:4]}", app_id=app_id, api_key=key,
                     public_key=signing.public_key_of(LOWER_KEY))
    node.set_payload_key(payload_key)
    node.save()
    return node, secret


class Lower:
    """What a lower node's sender does, by hand, so each check can be broken on purpose."""

    def __init__(self, live_server, secret, *, app_id="jinan-node", payload_key=""):
        self.base, self.secret, self.app_id = live_server.url, secret, app_id
        self.payload_key = bytes.fromhex(payload_key) if payload_key else None

    def push(self, items, *, shape="internal", timestamp=None, sign_with=LOWER_KEY, app_id=None, body=None,
             tamper=False):
        ts = timestamp or str(int(time.time() * 1000))
        app_id = app_id or self.app_id
        body = body if body is not None else wire.seal({"items": items}, app_id=app_id, timestamp=ts,
                                                       payload_key=self.payload_key)
        headers = wire.headers(body, app_id=app_id, timestamp=ts, private_key=sign_with)
        if tamper:
            body = body.replace(b"P-", b"Q-", 1)
        headers["Authorization"] = f"Bearer {self.secret}"
        return httpx.post(f"{self.base}/api/v1/exchange/push", params={"shape": shape}, content=body,
                          headers=headers, timeout=30)


def evaluation_row(project_no, *, level=5, when=None, **kw):
    return {"idempotency_key": uuid.uuid4().hex, "project_no": project_no, "stage": "complete", "channel": "kiosk",
            "level": level, "labels": ["110"] if level <= 2 else ["510"], "comment": "", "type": "active",
            "evaluated_at": iso(when or timezone.now() - timedelta(minutes=30)), **kw}


def test_a_signed_push_is_stored_with_original_times_and_opens_no_case_here(unit, live_server):
    org, item = unit
    node, secret = register(org.city)
    lower = Lower(live_server, secret)
    record = record_payload(org, item)
    record["applicant"] = {"type": 1}
    when = timezone.now() - timedelta(hours=1, minutes=7)
    bad = evaluation_row(record["project_no"], level=1, when=when, comment="超过承诺时间才办结")
    r = lower.push([{"kind": "record", "data": record}, {"kind": "evaluation", "data": bad}])
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()["results"]] == ["created", "created"]
    ev = Evaluation.objects.get(idempotency_key=bad["idempotency_key"])
    assert ev.created_at == when.replace(microsecond=0) and ev.channel == "kiosk"
    assert ev.source == f"node:{node.name}" and ServiceRecord.objects.get().source == f"node:{node.name}"
    assert not RectificationCase.objects.exists()  # the lower node handles its own cases
    # The same push again (a sender that died before it could note the answer) changes nothing.
    again = lower.push([{"kind": "record", "data": record}, {"kind": "evaluation", "data": bad}])
    assert [x["status"] for x in again.json()["results"]] == ["replayed", "replayed"]
    assert Evaluation.objects.count() == 1
    # The case outcome the lower node reports afterwards.
    outcome = {"evaluation_key": bad["idempotency_key"], "project_no": record["project_no"], "state": "closed",
               "outcome": "fixed_now", "opened_at": iso(when), "closed_at": iso(timezone.now())}
    r = lower.push([{"kind": "case_outcome", "data": outcome}])
    assert r.json()["results"][0]["status"] == "created"
    stored = ReportedCaseOutcome.objects.get()
    assert (stored.evaluation_id, stored.state, stored.outcome) == (ev.pk, "closed", "fixed_now")
    assert LowerNode.objects.get().last_push_at is not None


def test_a_later_state_of_the_same_record_is_applied_as_a_change(unit, live_server):
    org, item = unit
    _, secret = register(org.city)
    lower = Lower(live_server, secret)
    record = record_payload(org, item, completed=False)
    record["applicant"] = {"type": 2}
    assert lower.push([{"kind": "record", "data": record}]).json()["results"][0]["status"] == "created"
    done = {**record, "status": 3, "completed_at": iso(timezone.now() - timedelta(minutes=5))}
    assert lower.push([{"kind": "record", "data": done}]).json()["results"][0]["status"] == "updated"
    assert ServiceRecord.objects.get().status == 3
    assert lower.push([{"kind": "record", "data": done}]).json()["results"][0]["status"] == "replayed"


def test_a_node_cannot_push_another_regions_data(unit, live_server):
    org, item = unit
    _, secret = register(org.other_county)  # 市中区's node
    record = record_payload(org, item)  # a 历下区 办件
    r = Lower(live_server, secret).push([{"kind": "record", "data": record},
                                         {"kind": "evaluation", "data": evaluation_row(record["project_no"])}])
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["refused", "refused"]
    assert results[0]["problem"]["field"] == "region_code" and results[1]["problem"]["field"] == "project_no"
    assert not ServiceRecord.objects.exists() and not Evaluation.objects.exists()


@pytest.mark.parametrize("breakage, field", [
    ({"sign_with": signing.new_private_key()}, wire.SIGNATURE),
    ({"tamper": True}, wire.SIGNATURE),
    ({"timestamp": str(int(time.time() * 1000) - 3_600_000)}, wire.TIMESTAMP),
    ({"timestamp": "yesterday"}, wire.TIMESTAMP),
    ({"app_id": "someone-else"}, wire.APP_ID),
])
def test_a_push_that_does_not_verify_is_refused_whole_naming_the_header(unit, live_server, breakage, field):
    org, item = unit
    _, secret = register(org.city)
    record = record_payload(org, item)
    r = Lower(live_server, secret).push([{"kind": "record", "data": record}], **breakage)
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == field
    assert record["project_no"] not in r.text and not ServiceRecord.objects.exists()


def test_a_key_that_is_not_a_registered_node_is_refused(unit, live_server):
    org, item = unit
    _, secret = factories.make_api_key(region=org.city)
    r = Lower(live_server, secret).push([{"kind": "record", "data": record_payload(org, item)}])
    assert r.status_code == 403 and r.json()["field"] == "Authorization"


def test_an_agreed_payload_key_means_plaintext_is_refused_and_ciphertext_accepted(unit, live_server):
    org, item = unit
    _, secret = register(org.city, payload_key=PAYLOAD_KEY)
    record = record_payload(org, item)
    record["applicant"] = {"type": 1}
    plain = Lower(live_server, secret).push([{"kind": "record", "data": record}])
    assert plain.status_code == 422 and plain.json()["field"] == "encrypted"
    sealed = Lower(live_server, secret, payload_key=PAYLOAD_KEY).push([{"kind": "record", "data": record}])
    assert sealed.status_code == 200 and sealed.json()["created"] == 1
    garbage = Lower(live_server, secret).push([], body=json.dumps({"encrypted": "bm90IGEgcmVhbCBjaXBoZXJ0ZXh0IGF0IGFsbA=="}).encode())
    assert garbage.status_code == 422 and "解密失败" in garbage.json()["detail"]


def test_malformed_items_are_refused_one_by_one(unit, live_server):
    org, item = unit
    _, secret = register(org.city)
    record = record_payload(org, item)
    record["applicant"] = {"type": 1}
    r = Lower(live_server, secret).push([
        {"kind": "record", "data": record}, "not an object", {"kind": "payment", "data": {}},
        {"kind": "evaluation", "data": {**evaluation_row(record["project_no"]), "level": 9}},
    ])
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["created", "refused", "refused", "refused"]
    assert results[1]["problem"]["field"] == "kind" and results[3]["problem"]["field"] == "level"


def test_counts_for_reconciliation_cover_only_the_nodes_region(unit, live_server):
    org, item = unit
    _, secret = register(org.county)
    lower = Lower(live_server, secret)
    mine = record_payload(org, item)
    mine["applicant"] = {"type": 1}
    lower.push([{"kind": "record", "data": mine}, {"kind": "evaluation", "data": evaluation_row(mine["project_no"])}])
    elsewhere = factories.make_record(org, item, region=org.other_county)
    assert elsewhere.region_id == org.other_county.code
    today = timezone.localdate()
    headers = {"Authorization": f"Bearer {secret}"}
    r = httpx.get(f"{live_server.url}/api/v1/exchange/counts", params={"start": today - timedelta(days=1), "end": today},
                  headers=headers)
    assert r.status_code == 200, r.text
    rows = {(c["region_code"], c["kind"]): c["count"] for c in r.json()["counts"]}
    assert rows == {(org.county.code, "records"): 1, (org.county.code, "evaluations"): 1}
    too_long = httpx.get(f"{live_server.url}/api/v1/exchange/counts", headers=headers,
                         params={"start": today - timedelta(days=200), "end": today})
    assert too_long.status_code == 422 and too_long.json()["field"] == "end"


def test_reports_are_sent_down_only_for_the_nodes_region(unit, live_server):
    org, item = unit
    _, secret = register(org.county)
    sup = User.objects.create(username=f"sup-{factories.seq()}", role="supervisor", region=org.province, is_active=True)
    period = periods.last_finished(periods.MONTH, timezone.localdate())
    mine = report_services.generate_report(sup, kind=period.kind, start=period.start, region_code=org.county.code).report
    report_services.generate_report(sup, kind=period.kind, start=period.start, region_code=org.other_county.code)
    headers = {"Authorization": f"Bearer {secret}"}
    listing = httpx.get(f"{live_server.url}/api/v1/exchange/reports", headers=headers).json()["reports"]
    assert [r["id"] for r in listing] == [mine.pk] and listing[0]["region_code"] == org.county.code
    pdf = httpx.get(f"{live_server.url}/api/v1/exchange/reports/{mine.pk}/pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    other = Report.objects.get(region=org.other_county)
    assert httpx.get(f"{live_server.url}/api/v1/exchange/reports/{other.pk}/pdf", headers=headers).status_code == 404


def test_the_lower_node_fetches_its_reports_once_and_its_supervisors_read_them(unit, live_server):
    """The pull the worker does every hour, against a real server; then the pages (scoped like every report)."""
    from django.test import Client

    from haochaping.exchange.models import ReceivedReport, Upstream
    from haochaping.exchange.services.reports import fetch_reports

    org, item = unit
    _, secret = register(org.county)
    sup = User.objects.create(username=f"sup-{factories.seq()}", role="supervisor", region=org.province, is_active=True)
    period = periods.last_finished(periods.MONTH, timezone.localdate())
    made = report_services.generate_report(sup, kind=period.kind, start=period.start, region_code=org.county.code).report
    upstream = Upstream(name="山东省节点", url=live_server.url, app_id="jinan-node")
    upstream.set_api_key(secret)
    upstream.save()
    assert fetch_reports(upstream) == 1
    assert fetch_reports(upstream) == 0  # already here
    received = ReceivedReport.objects.get()
    assert (received.remote_id, received.title, received.region_code) == (made.pk, made.title, org.county.code)

    mine, other = Client(), Client()
    mine.force_login(User.objects.create(username=f"s-{factories.seq()}", role="supervisor", region=org.county, is_active=True))
    other.force_login(User.objects.create(username=f"s-{factories.seq()}", role="supervisor", region=org.other_county,
                                          is_active=True))
    assert made.title in mine.get("/exchange/reports/").content.decode()
    pdf = mine.get(f"/exchange/reports/{received.pk}/pdf/")
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
    assert made.title not in other.get("/exchange/reports/").content.decode()
    assert other.get(f"/exchange/reports/{received.pk}/pdf/").status_code == 404


def test_the_operations_page_is_for_administrators(unit):
    from django.test import Client

    from haochaping.exchange.models import Upstream

    upstream = Upstream(name="山东省节点", url="https://hcp.example.gov.cn", app_id="jinan")
    upstream.set_api_key("secret")
    upstream.save()
    admin, sup = Client(), Client()
    admin.force_login(User.objects.create(username=f"a-{factories.seq()}", role="administrator", is_active=True))
    sup.force_login(User.objects.create(username=f"s-{factories.seq()}", role="supervisor", region=unit[0].county,
                                        is_active=True))
    page = admin.get("/exchange/")
    assert page.status_code == 200 and "山东省节点" in page.content.decode() and "无积压" in page.content.decode()
    refused = sup.get("/exchange/")
    # The supervisor is told the page is not theirs, not that the workbench is for supervisors.
    assert refused.status_code == 403 and "您的账号没有使用本页面的权限" in refused.content.decode()
    assert "仅供业务办理单位经办人员和政务服务管理机构监督人员使用" not in refused.content.decode()
