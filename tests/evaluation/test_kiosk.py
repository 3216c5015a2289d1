"""评价器 (kiosk devices): bound to one window by a device secret; they rate only that window's 办件 (R3.1, R7.1)."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from haochaping.core.crypto import sm3_hex
from haochaping.core.problems import DomainError
from haochaping.evaluation import kiosk, services
from haochaping.evaluation.models import Evaluation, KioskDevice
from haochaping.org.models import Window
from tests import factories


@pytest.fixture
def other_window(org):
    return Window.objects.create(agency=org.agency, code="A02", name="综合受理2号窗口", department=org.department)


def evaluation_body(project_no: str, **kw) -> dict:
    body = {"idempotency_key": uuid.uuid4().hex, "project_no": project_no, "stage": "complete", "channel": "kiosk", "level": 5}
    body.update(kw)
    return body


def kiosk_client(live_server, secret: str) -> httpx.Client:
    return httpx.Client(base_url=live_server.url, headers={"X-Kiosk-Secret": secret}, timeout=30)


# --- the service -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_register_shows_the_secret_once_and_stores_only_its_hash(org):
    device, secret = kiosk.register_kiosk(org.window, " 1号窗口评价器 ")
    assert secret.startswith(f"hck_{device.prefix}_")
    row = KioskDevice.objects.get(pk=device.pk)
    assert (row.name, row.window_id, row.is_active) == ("1号窗口评价器", org.window.pk, True)
    assert row.secret_hash == sm3_hex(secret.encode())
    assert secret not in str(KioskDevice.objects.filter(pk=device.pk).values().get())


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "message"), [("", "请填写设备名称"), ("  ", "请填写设备名称"), ("评" * 101, "不能超过100个字")])
def test_register_needs_a_name(org, name, message):
    with pytest.raises(DomainError) as exc:
        kiosk.register_kiosk(org.window, name)
    assert exc.value.field == "name" and message in exc.value.detail
    assert not KioskDevice.objects.exists()


@pytest.mark.django_db
def test_authenticate_marks_last_seen_at_most_once_a_minute(org):
    device, secret = kiosk.register_kiosk(org.window, "评价器")
    assert kiosk.authenticate_kiosk(secret).pk == device.pk
    first = KioskDevice.objects.get(pk=device.pk).last_seen_at
    assert first is not None
    kiosk.authenticate_kiosk(secret)
    assert KioskDevice.objects.get(pk=device.pk).last_seen_at == first  # no write within the minute
    KioskDevice.objects.filter(pk=device.pk).update(last_seen_at=timezone.now() - timedelta(seconds=61))
    kiosk.authenticate_kiosk(secret)
    assert KioskDevice.objects.get(pk=device.pk).last_seen_at > first


@pytest.mark.django_db
def test_wrong_unknown_and_deactivated_secrets_are_refused_and_logged_by_prefix(org, caplog):
    device, secret = kiosk.register_kiosk(org.window, "评价器")
    other, other_secret = kiosk.register_kiosk(org.window, "备用评价器")
    assert kiosk.deactivate(other) is True
    assert kiosk.deactivate(other) is False
    wrong = secret[:-3] + ("xyz" if not secret.endswith("xyz") else "abc")
    with caplog.at_level(logging.WARNING, logger="haochaping.evaluation.kiosk"):
        assert kiosk.authenticate_kiosk(wrong) is None
        assert kiosk.authenticate_kiosk("hck_0badf00d_" + secret.split("_", 2)[2]) is None
        assert kiosk.authenticate_kiosk(other_secret) is None
        assert kiosk.authenticate_kiosk(f"hcp_{device.prefix}_x") is None  # an API key is not a device secret
        assert kiosk.authenticate_kiosk("") is None
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        f"kiosk refused: wrong secret prefix={device.prefix}",
        "kiosk refused: unknown prefix=0badf00d",
        f"kiosk refused: deactivated prefix={other.prefix}",
        "kiosk refused: malformed secret",
        "kiosk refused: malformed secret",
    ]
    for s in (secret, other_secret, wrong):
        assert s.split("_", 2)[2] not in caplog.text


@pytest.mark.django_db
def test_a_kiosk_cannot_replay_another_windows_idempotency_key(org, item, other_window):
    # Replaying a key must not hand another window's receipt to this device.
    record = factories.make_record(org, item, window=other_window)
    data = services.EvaluationInput(idempotency_key=uuid.uuid4().hex, project_no=record.project_no, stage="complete",
                                    channel="kiosk", level=5)
    services.submit_evaluation(data, source="apikey:test")
    device, _secret = kiosk.register_kiosk(org.window, "评价器")
    with pytest.raises(DomainError) as exc:
        services.submit_evaluation(data, source=f"kiosk:{device.prefix}", kiosk=device)
    assert exc.value.status == 403 and exc.value.detail == "该办件不属于本窗口，评价器不能评价"


# --- over HTTP ---------------------------------------------------------------------------------------------

http_db = pytest.mark.django_db(transaction=True)


@http_db
def test_a_kiosk_rates_its_own_windows_record(live_server, org, item):
    device, secret = kiosk.register_kiosk(org.window, "1号窗口评价器")
    record = factories.make_record(org, item)
    with kiosk_client(live_server, secret) as c:
        r = c.post("/api/v1/evaluations", json=evaluation_body(record.project_no, level=4))
    assert r.status_code == 201, r.text
    ev = Evaluation.objects.get()
    assert (ev.record_id, ev.channel, ev.level, ev.window_id) == (record.pk, "kiosk", 4, org.window.pk)
    assert ev.source == f"kiosk:{device.prefix}"
    assert KioskDevice.objects.get(pk=device.pk).last_seen_at is not None


@http_db
def test_a_kiosk_cannot_rate_another_windows_record(live_server, org, item, other_window, caplog):
    device, secret = kiosk.register_kiosk(org.window, "1号窗口评价器")
    elsewhere = factories.make_record(org, item, window=other_window)
    no_window = factories.make_record(org, item, window=None)
    with kiosk_client(live_server, secret) as c, caplog.at_level(logging.WARNING, logger="haochaping.evaluation.services"):
        for record in (elsewhere, no_window):
            r = c.post("/api/v1/evaluations", json=evaluation_body(record.project_no))
            assert r.status_code == 403, r.text
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["detail"] == "该办件不属于本窗口，评价器不能评价"
            assert r.json()["field"] == "project_no"
    assert not Evaluation.objects.exists()
    assert f"kiosk prefix={device.prefix}" in caplog.text


@http_db
def test_a_kiosk_must_use_the_kiosk_channel(live_server, org, item):
    _device, secret = kiosk.register_kiosk(org.window, "评价器")
    record = factories.make_record(org, item)
    with kiosk_client(live_server, secret) as c:
        r = c.post("/api/v1/evaluations", json=evaluation_body(record.project_no, channel="pc"))
    assert r.status_code == 422
    assert r.json()["field"] == "channel" and "kiosk" in r.json()["detail"]
    assert not Evaluation.objects.exists()


@http_db
def test_an_api_key_cannot_claim_the_kiosk_channel(http, org, item):
    record = factories.make_record(org, item)
    r = http.post("/api/v1/evaluations", json=evaluation_body(record.project_no, channel="kiosk"))
    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == "channel" and "评价器" in r.json()["detail"]
    assert not Evaluation.objects.exists()
    # Every other channel a platform collects itself stays open to its key.
    r = http.post("/api/v1/evaluations", json=evaluation_body(record.project_no, channel="terminal"))
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(("channel", "by_device", "refused"), [
    ("kiosk", True, False), ("pc", True, True), ("kiosk", False, True), ("pc", False, False), ("sms", False, False),
])
def test_which_credential_may_claim_which_channel(channel, by_device, refused):
    from haochaping.evaluation.rules import channel_claim_problem

    assert (channel_claim_problem(channel, by_device=by_device) is not None) is refused


@http_db
def test_refused_kiosk_secrets_get_401_and_write_nothing(live_server, org, item):
    device, secret = kiosk.register_kiosk(org.window, "评价器")
    record = factories.make_record(org, item)
    url = f"{live_server.url}/api/v1/evaluations"
    for headers in ({}, {"X-Kiosk-Secret": secret[:-2] + "zz"}, {"X-Kiosk-Secret": ""}):
        assert httpx.post(url, json=evaluation_body(record.project_no), headers=headers, timeout=30).status_code == 401
    kiosk.deactivate(device)
    r = httpx.post(url, json=evaluation_body(record.project_no), headers={"X-Kiosk-Secret": secret}, timeout=30)
    assert r.status_code == 401
    assert r.json()["title"] == "未认证"
    assert not Evaluation.objects.exists()


@http_db
def test_a_kiosk_secret_opens_nothing_but_evaluation_submission(live_server, org, item):
    _device, secret = kiosk.register_kiosk(org.window, "评价器")
    record = factories.make_record(org, item)
    with kiosk_client(live_server, secret) as c:
        assert c.get(f"/api/v1/records/{record.project_no}").status_code == 401
        assert c.patch(f"/api/v1/records/{record.project_no}", json={"status": 3}).status_code == 401


@http_db
def test_a_kiosk_over_its_rate_limit_gets_429(live_server, org, monkeypatch):
    from haochaping.evaluation import api as evaluation_api

    monkeypatch.setattr(evaluation_api, "KIOSK_RATE_LIMIT_PER_MINUTE", 2)
    _device, secret = kiosk.register_kiosk(org.window, "评价器")
    with kiosk_client(live_server, secret) as c:
        statuses = [c.post("/api/v1/evaluations", json={}).status_code for _ in range(3)]
        refused = c.post("/api/v1/evaluations", json={})
    assert statuses == [422, 422, 429]
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["detail"].startswith("该评价器每分钟最多请求 2 次")
    assert refused.json()["field"] == "X-Kiosk-Secret"
