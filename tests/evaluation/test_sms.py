"""SMS senders: what leaves the system, and what a development or test file keeps (never a clear phone)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from haochaping.core import crypto
from haochaping.evaluation import sms

PHONE = "13912345678"


def test_file_sender_appends_json_lines_with_masked_phone(tmp_path):
    path = tmp_path / "sms.jsonl"
    sender = sms.FileSender(path)
    assert sender.send(PHONE, "第一条").ok
    assert sender.send("13800000000", "第二条 https://x/i/abc/").ok
    lines = sms.read_file_messages(path)
    assert [m["text"] for m in lines] == ["第一条", "第二条 https://x/i/abc/"]
    assert lines[0]["phone"] == "139****5678"
    assert lines[0]["phone_index"] == crypto.blind_index(PHONE, kind="phone")
    assert PHONE not in path.read_text(encoding="utf-8")


def test_console_sender_prints_masked_phone_and_text_to_stderr(capsys):
    assert sms.ConsoleSender().send(PHONE, "请评价 https://x/i/t/").ok
    err = capsys.readouterr().err
    assert "139****5678" in err and "请评价 https://x/i/t/" in err
    assert PHONE not in err


def test_configured_backend_is_used(settings, tmp_path):
    settings.HAOCHAPING_SMS_BACKEND = "haochaping.evaluation.sms.FileSender"
    settings.HAOCHAPING_SMS_FILE = str(tmp_path / "out.jsonl")
    assert sms.send(PHONE, "你好").ok
    assert sms.read_file_messages()[0]["text"] == "你好"


def test_a_backend_that_raises_is_a_failed_send(settings):
    settings.HAOCHAPING_SMS_BACKEND = "haochaping.evaluation.sms.Sender"  # send() raises NotImplementedError
    result = sms.send(PHONE, "x")
    assert not result.ok and result.error == "NotImplementedError"


class Gateway:
    """A tiny SMS gateway on 127.0.0.1: records requests, answers with a configurable status (or stalls)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        self.delay = 0.0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                gateway.requests.append({"headers": dict(self.headers), "body": json.loads(body), "path": self.path})
                if gateway.delay:
                    time.sleep(gateway.delay)
                answer = json.dumps({"message_id": "M-1"}).encode()
                try:
                    self.send_response(gateway.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    g = Gateway()
    yield g
    g.close()


def test_http_gateway_posts_json_with_the_auth_header(gateway):
    result = sms.HttpGatewaySender(url=gateway.url, token="gw-token", timeout=5).send(PHONE, "请评价：https://x/i/t/")
    assert result == sms.SendResult(ok=True, message_id="M-1")
    (req,) = gateway.requests
    assert req["path"] == "/sms/send"
    assert req["headers"]["Authorization"] == "Bearer gw-token"
    assert req["body"] == {"phone": PHONE, "text": "请评价：https://x/i/t/"}


def test_http_gateway_error_status_is_a_failure(gateway):
    gateway.status = 503
    result = sms.HttpGatewaySender(url=gateway.url, token="t", timeout=5).send(PHONE, "x")
    assert not result.ok and result.error == "HTTP 503"


def test_http_gateway_timeout_is_a_failure_without_personal_data(gateway):
    gateway.delay = 1.0
    result = sms.HttpGatewaySender(url=gateway.url, token="t", timeout=0.2).send(PHONE, "x")
    assert not result.ok
    assert PHONE not in result.error and result.error


def test_http_gateway_unreachable_or_unconfigured_is_a_failure():
    assert not sms.HttpGatewaySender(url="http://127.0.0.1:9/", token="t", timeout=1).send(PHONE, "x").ok
    assert sms.HttpGatewaySender(url="", token="t").send(PHONE, "x").error == "HAOCHAPING_SMS_GATEWAY_URL not set"
