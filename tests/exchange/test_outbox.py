"""Reporting upward, the lower node's side (issue 16 item 4, R6.2): every write enters the outbox in its own
transaction, and the sender delivers it in order, retries what failed as a whole with backoff, and turns what the
upstream refuses into dead letters that can be re-sent. The upstream here is a real HTTP server on loopback that
answers as told (an upper node's answers, 500, garbage, silence); tests/exchange/test_two_nodes.py runs two real
nodes."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.utils import timezone

from haochaping.core import signing
from haochaping.core.crypto import sm3_hex
from haochaping.evaluation import services as evaluation_services
from haochaping.exchange import rules, wire
from haochaping.exchange.models import OutboxEntry, Upstream
from haochaping.exchange.services import outbox, sender
from haochaping.records.models import ServiceRecord
from haochaping.rectification.models import CaseTransition
from tests import factories

Status = OutboxEntry.Status
pytestmark = pytest.mark.django_db
PAYLOAD_KEY = "00112233445566778899aabbccddeeff"


def make_upstream(url="http://127.0.0.1:9", profile=Upstream.Profile.INTERNAL, *, payload_key="", **kw) -> Upstream:
    upstream = Upstream(name=kw.pop("name", f"上级{uuid.uuid4().hex[:6]}"), url=url, profile=profile,
                        app_id=kw.pop("app_id", "lower-node-1"), **kw)
    upstream.set_api_key("hcp_test_secret")
    upstream.set_payload_key(payload_key)
    upstream.save()
    return upstream


def evaluate(record, level=5, **kw):
    data = evaluation_services.EvaluationInput(
        idempotency_key=kw.pop("idempotency_key", uuid.uuid4().hex), project_no=record.project_no,
        stage=kw.pop("stage", "complete"), channel=kw.pop("channel", "mobile"), level=level, **kw)
    return evaluation_services.submit_evaluation(data, source="apikey:test").evaluation


@pytest.fixture
def unit(db):
    org = factories.make_org()
    return org, factories.make_item(org)


# -- writing the outbox ---------------------------------------------------------------------------------------------

def test_without_an_upstream_nothing_is_queued(unit):
    org, item = unit
    record = factories.make_record(org, item)
    evaluate(record)
    assert not OutboxEntry.objects.exists()


def test_each_write_is_queued_for_each_active_upstream_in_write_order(unit):
    org, item = unit
    a, b = make_upstream(name="省平台"), make_upstream(name="国家平台", profile=Upstream.Profile.NATIONAL)
    make_upstream(name="停用的", is_active=False)
    record = factories.make_record(org, item)
    ev = evaluate(record, level=2, comment="材料要求反复变")
    for name in ("省平台", "国家平台"):
        rows = list(OutboxEntry.objects.filter(upstream__name=name).order_by("id").values_list("kind", "object_id"))
        assert rows == [("record", record.pk), ("evaluation", ev.pk)]
    assert not OutboxEntry.objects.filter(upstream__name="停用的").exists()
    assert {r.project_no for r in OutboxEntry.objects.all()} == {record.project_no}
    assert a.outbox.count() == b.outbox.count() == 2


def test_a_record_that_changes_while_waiting_is_queued_once(unit):
    org, item = unit
    make_upstream()
    record = factories.make_record(org, item, completed=False)
    record.status = 3
    record.completed_at = timezone.now()
    record.save()
    assert OutboxEntry.objects.filter(kind="record").count() == 1


def test_a_rolled_back_evaluation_leaves_no_outbox_row(unit):
    org, item = unit
    make_upstream()
    record = factories.make_record(org, item)
    before = OutboxEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        evaluate(record)
        raise RuntimeError("the request failed after the write")
    assert OutboxEntry.objects.count() == before


def test_case_outcomes_are_queued_when_answered_or_closed_and_only_for_this_systems_upstreams(unit):
    org, item = unit
    own, national = make_upstream(name="省平台"), make_upstream(name="国家平台", profile=Upstream.Profile.NATIONAL)
    record = factories.make_record(org, item)
    ev = evaluate(record, level=1, labels=["110"], comment="超过法定时间才办结")
    case = ev.case
    CaseTransition.objects.create(case=case, at=timezone.now(), action="callback", from_state="open", to_state="called_back")
    assert not OutboxEntry.objects.filter(kind="case_outcome").exists()
    CaseTransition.objects.create(case=case, at=timezone.now(), action="close", from_state="answered", to_state="closed")
    rows = OutboxEntry.objects.filter(kind="case_outcome")
    assert [(r.upstream_id, r.object_id) for r in rows] == [(own.pk, case.pk)]
    assert not national.outbox.filter(kind="case_outcome").exists()


# -- what is sent ---------------------------------------------------------------------------------------------------

def test_payloads_carry_no_personal_data_and_keep_the_original_time(unit):
    org, item = unit
    upstream = make_upstream()
    record = factories.make_record(org, item)
    ev = evaluate(record, level=2, labels=["209"], comment="跑了三趟", evaluator_name="张三", evaluator_phone="13800138000")
    from haochaping.exchange.services import payloads

    items, unsendable = payloads.build(upstream, list(upstream.outbox.order_by("id")))
    assert not unsendable
    text = json.dumps(items, ensure_ascii=False)
    assert "张三" not in text and "13800138000" not in text
    record_item, evaluation_item = (i["data"] for i in items)
    assert record_item["applicant"] == {"type": record.applicant_type}
    assert evaluation_item["evaluated_at"] == ev.created_at.isoformat()
    assert evaluation_item["labels"] == ["209"] and evaluation_item["idempotency_key"] == ev.idempotency_key


def test_national_payloads_use_the_live_interfaces_codes(unit):
    org, item = unit
    upstream = make_upstream(profile=Upstream.Profile.NATIONAL)
    record = factories.make_record(org, item)
    evaluate(record, level=4, channel="qr", idempotency_key=f"{record.project_no}:7")
    from haochaping.exchange.services import payloads

    items, _ = payloads.build(upstream, list(upstream.outbox.order_by("id")))
    row = items[1]["data"]
    assert (row["projectNo"], row["pf"], row["satisfaction"], row["assessNumber"]) == (record.project_no, "3", "4", "7")
    assert items[0]["data"]["areaCode"] == rules.area_from_region_code(record.region_id)


# -- the sender against an upstream that answers as told ------------------------------------------------------------

class ScriptedUpstream:
    """A real HTTP server: each request is answered by the next entry of ``script`` (a status and body, "hang",
    or "echo" = an upper node that accepts everything), and every request is kept for inspection."""

    def __init__(self):
        self.script: list = []
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                step = outer.script.pop(0) if outer.script else "echo"
                if step == "hang":
                    threading.Event().wait(3)
                    return
                if step == "echo":
                    items = json.loads(body)["items"]
                    status, payload = 200, {"results": [{"index": i, "status": "created"} for i in range(len(items))]}
                else:
                    status, payload = step
                raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_port}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def upstream_server():
    server = ScriptedUpstream()
    yield server
    server.close()


def three_evaluated_records(org, item):
    records = []
    for _ in range(3):
        records.append(factories.make_record(org, item))
        evaluate(records[-1])
    return records


def test_sender_delivers_in_write_order_signed_and_marks_rows_sent(unit, upstream_server):
    org, item = unit
    upstream = make_upstream(upstream_server.url, batch_size=4)
    records = three_evaluated_records(org, item)
    result = sender.send_upstream(upstream)
    assert (result.sent, result.refused, result.failed_batches) == (6, 0, 0)
    assert not upstream.outbox.exclude(status=Status.SENT).exists()
    sent = [(i["kind"], i["data"]["project_no"]) for req in upstream_server.requests for i in json.loads(req["body"])["items"]]
    assert sent == [(k, r.project_no) for r in records for k in ("record", "evaluation")]
    assert [len(json.loads(r["body"])["items"]) for r in upstream_server.requests] == [4, 2]
    first = upstream_server.requests[0]
    assert first["path"] == "/api/v1/exchange/push"
    assert first["headers"]["Authorization"] == "Bearer hcp_test_secret"
    signed = rules.signing_string("lower-node-1", first["headers"][wire.TIMESTAMP], sm3_hex(first["body"]))
    assert signing.verify(signed, first["headers"][wire.SIGNATURE], signing.node_public_key())


@pytest.mark.parametrize("failure", [(500, {"title": "内部错误"}), (200, b"<html>not json</html>"),
                                     (200, {"results": []}), (401, {"detail": "密钥无效"}), "hang"])
def test_a_batch_that_fails_as_a_whole_waits_with_backoff_and_nothing_overtakes_it(unit, upstream_server, failure, settings):
    settings.HAOCHAPING_OUTBOX_BACKOFF_SECONDS = 5
    org, item = unit
    upstream = make_upstream(upstream_server.url, batch_size=2, timeout_seconds=1)
    three_evaluated_records(org, item)
    upstream_server.script = [failure]
    now = timezone.now()
    result = sender.send_upstream(upstream, now=now)
    assert (result.sent, result.failed_batches, result.waiting) == (0, 1, True)
    head = list(upstream.outbox.order_by("id")[:2])
    assert {e.status for e in head} == {Status.PENDING} and {e.attempts for e in head} == {1}
    assert head[0].next_attempt_at == now + timedelta(seconds=5) and head[0].last_error
    assert len(upstream_server.requests) == 1  # the rows behind did not go ahead of the failed ones
    # Still backing off: nothing is sent; once the wait is over, everything goes, in order.
    assert sender.send_upstream(upstream, now=now + timedelta(seconds=4)).sent == 0
    assert sender.send_upstream(upstream, now=now + timedelta(seconds=6)).sent == 6
    assert not upstream.outbox.exclude(status=Status.SENT).exists()


def test_backoff_doubles_per_failure_up_to_a_cap():
    assert [rules.backoff_seconds(n) for n in (0, 1, 2, 3, 4)] == [0, 5, 10, 20, 40]
    assert rules.backoff_seconds(30) == rules.BACKOFF_CAP_SECONDS == 900
    assert rules.backoff_seconds(3, base=1) == 4


def test_an_item_the_upstream_refuses_becomes_a_dead_letter_and_can_be_resent(unit, upstream_server):
    org, item = unit
    upstream = make_upstream(upstream_server.url)
    three_evaluated_records(org, item)
    refusal = {"status": 422, "detail": "project_no：办件不存在", "field": "project_no"}
    upstream_server.script = [(200, {"results": [
        {"index": 0, "status": "created"}, {"index": 1, "status": "refused", "problem": refusal},
        *({"index": i, "status": "replayed"} for i in range(2, 6))]})]
    result = sender.send_upstream(upstream)
    assert (result.sent, result.refused) == (5, 1)
    dead = upstream.outbox.get(status=Status.DEAD)
    assert dead.last_error == "project_no：办件不存在" and dead.kind == "evaluation"
    assert outbox.lag()[upstream.name]["dead"] == 1
    assert outbox.resend([dead.pk]) == 1
    assert sender.send_upstream(upstream).sent == 1
    assert not upstream.outbox.exclude(status=Status.SENT).exists()


def test_encrypted_pushes_open_only_with_the_agreed_key(unit, upstream_server):
    org, item = unit
    upstream = make_upstream(upstream_server.url, payload_key=PAYLOAD_KEY)
    three_evaluated_records(org, item)
    sender.send_upstream(upstream)
    req = upstream_server.requests[0]
    body, ts = req["body"], req["headers"][wire.TIMESTAMP]
    assert set(json.loads(body)) == {"encrypted"}
    assert "evaluation" not in body.decode()
    opened = wire.open_body(body, app_id="lower-node-1", timestamp=ts, payload_key=bytes.fromhex(PAYLOAD_KEY))
    assert len(opened["items"]) == 6
    with pytest.raises(wire.WireError, match="解密失败"):
        wire.open_body(body, app_id="lower-node-1", timestamp=ts, payload_key=bytes(16))
    with pytest.raises(wire.WireError, match="解密失败"):  # the same body under another time
        wire.open_body(body, app_id="lower-node-1", timestamp=str(int(ts) + 1), payload_key=bytes.fromhex(PAYLOAD_KEY))


def test_two_senders_at_once_do_not_both_send(unit, upstream_server):
    org, item = unit
    upstream = make_upstream(upstream_server.url)
    three_evaluated_records(org, item)
    assert sender._take_lease(upstream, timezone.now())
    assert sender.send_upstream(upstream).sent == 0  # the lease is held by the other sender
    Upstream.objects.filter(pk=upstream.pk).update(sending_until=None)
    assert sender.send_upstream(upstream).sent == 6


def test_health_says_degraded_when_reporting_lags_or_letters_are_dead(unit, client, settings):
    settings.HAOCHAPING_OUTBOX_LAG_ALERT_SECONDS = 60
    org, item = unit
    upstream = make_upstream(name="省平台")
    assert client.get("/api/v1/health").json()["status"] == "ok"
    record = factories.make_record(org, item)
    OutboxEntry.objects.filter(object_id=record.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    body = client.get("/api/v1/health").json()
    assert body["status"] == "degraded" and body["outbox"][0]["upstream"] == "省平台"
    assert body["outbox"][0]["lag_seconds"] >= 300 and "积压" in body["problems"][0]
    upstream.outbox.update(status=Status.DEAD)
    body = client.get("/api/v1/health").json()
    assert body["outbox"][0]["pending"] == 0 and "失败 1 条" in body["problems"][0]


def test_a_record_that_no_longer_exists_is_a_dead_letter_not_a_crash(unit, upstream_server):
    org, item = unit
    upstream = make_upstream(upstream_server.url)
    record = factories.make_record(org, item)
    OutboxEntry.objects.filter(object_id=record.pk).update(object_id=record.pk + 10_000)
    result = sender.send_upstream(upstream)
    assert result.refused == 1 and upstream.outbox.get().status == Status.DEAD
    assert ServiceRecord.objects.count() == 1


def test_an_administrator_resends_dead_letters_from_the_admin(unit, client):
    from haochaping.accounts.models import User

    org, item = unit
    upstream = make_upstream()
    factories.make_record(org, item)
    upstream.outbox.update(status=Status.DEAD, last_error="project_no：办件不存在", attempts=3)
    admin = User.objects.create(username=f"admin-{factories.seq()}", role="administrator", is_active=True, is_staff=True)
    client.force_login(admin)
    listing = client.get("/admin/exchange/outboxentry/?status__exact=dead")
    assert listing.status_code == 200 and "办件不存在" in listing.content.decode()
    dead = upstream.outbox.get()
    response = client.post("/admin/exchange/outboxentry/", {"action": "resend", "_selected_action": [dead.pk]}, follow=True)
    assert "1 条已重新排队报送" in response.content.decode()
    dead.refresh_from_db()
    assert (dead.status, dead.attempts, dead.last_error) == (Status.PENDING, 0, "")
