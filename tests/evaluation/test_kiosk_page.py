"""The window evaluator (评价器, R3.1): the business system's push API and the device's page.

The API is exercised over real HTTP (live server); the page with Django's test client, whose cookies behave
like the tablet's browser."""

from __future__ import annotations

import secrets

import pytest
from django.core import signing
from django.test import Client

from haochaping.accounts.models import Scope
from haochaping.evaluation import kiosk, pages
from haochaping.evaluation.models import Evaluation, KioskSession
from haochaping.evaluation.views.kiosk import COOKIE
from haochaping.org.models import ServiceAgency, Staff, Window
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def device(org):
    return kiosk.register_kiosk(org.window, "1号窗口评价器")


@pytest.fixture
def record(org, item):
    return factories.make_record(org, item)


@pytest.fixture
def other_window_record(org, item):
    window = Window.objects.create(agency=org.agency, code="A02", name="综合受理2号窗口", department=org.department)
    staff = Staff.objects.create(staff_no="S99001", name="赵敏", agency=org.agency, department=org.department, window=window)
    return factories.make_record(org, item, window=window, staff=staff)


def put_current(http, prefix, project_no, stage="complete"):
    return http.put(f"/api/v1/kiosks/{prefix}/current", json={"project_no": project_no, "stage": stage})


# --- the push API ---------------------------------------------------------------------------------------------


def test_business_system_sets_and_clears_the_current_record(http, device, record):
    dev, _secret = device
    response = put_current(http, dev.prefix, record.project_no)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["project_no"], body["stage"], body["window_code"]) == (record.project_no, "complete", "A01")
    assert KioskSession.objects.get(device=dev).record_id == record.pk

    assert http.delete(f"/api/v1/kiosks/{dev.prefix}/current").status_code == 204
    assert KioskSession.objects.get(device=dev).record_id is None


def test_a_record_of_another_window_is_refused(http, device, other_window_record):
    dev, _secret = device
    response = put_current(http, dev.prefix, other_window_record.project_no)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == "该办件不属于本评价器所在窗口"
    assert not KioskSession.objects.filter(device=dev, record__isnull=False).exists()


def test_a_stage_not_reached_yet_is_refused(http, device, org, item):
    dev, _secret = device
    running = factories.make_record(org, item, completed=False)
    response = put_current(http, dev.prefix, running.project_no, "complete")
    assert response.status_code == 422
    assert response.json()["field"] == "stage"
    assert "尚未办结" in response.json()["detail"]


def test_a_key_of_another_region_cannot_reach_the_device(live_server, device, record, org):
    import httpx

    dev, _secret = device
    _key, secret = factories.make_api_key(scopes=[Scope.RECORDS_WRITE], region=org.other_county)
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}) as other:
        response = put_current(other, dev.prefix, record.project_no)
        assert response.status_code == 404
        assert response.json()["detail"] == "评价器不存在"
        assert other.delete(f"/api/v1/kiosks/{dev.prefix}/current").status_code == 404
    assert not KioskSession.objects.filter(device=dev).exists()


def test_a_key_without_records_write_is_refused(live_server, device, record):
    import httpx

    dev, _secret = device
    _key, secret = factories.make_api_key(scopes=[Scope.EVALUATIONS_WRITE])
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}) as client:
        response = put_current(client, dev.prefix, record.project_no)
    assert response.status_code == 403
    assert "records:write" in response.json()["detail"]


def test_unknown_or_deactivated_device(http, device, record):
    dev, _secret = device
    response = put_current(http, "0badf00d", record.project_no)
    assert response.status_code == 404
    assert response.json()["field"] == "prefix"
    kiosk.deactivate(dev)
    response = put_current(http, dev.prefix, record.project_no)
    assert response.status_code == 409
    assert response.json()["detail"] == "该评价器已停用，不能推送办件"


def test_bad_body_names_the_field(http, device):
    dev, _secret = device
    response = http.put(f"/api/v1/kiosks/{dev.prefix}/current", json={"project_no": "P1", "stage": "later"})
    assert response.status_code == 422
    assert response.json()["field"] == "stage"


# --- the device's page ------------------------------------------------------------------------------------------


def activated(secret: str) -> Client:
    client = Client()
    response = client.post("/kiosk/activate", {"secret": secret})
    assert response.status_code == 302 and response["Location"] == "/kiosk/"
    return client


def test_activation_keeps_the_secret_only_in_an_httponly_signed_cookie(device):
    dev, secret = device
    client = Client()
    first = client.get("/kiosk/")
    assert "激活窗口评价器" in first.content.decode()
    response = client.post("/kiosk/activate", {"secret": secret})
    assert response.status_code == 302
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and int(cookie["max-age"]) > 300 * 24 * 3600
    assert secret not in response["Location"]
    page = client.get("/kiosk/").content.decode()
    assert "请稍候，工作人员正在为您办理" in page
    assert "综合受理1号窗口" in page
    assert secret not in page


def test_activation_with_a_wrong_secret_is_refused_in_chinese(device):
    dev, secret = device
    client = Client()
    response = client.post("/kiosk/activate", {"secret": secret[:-2] + "xx"})
    assert response.status_code == 403
    assert "设备密钥不正确，或该评价器已停用" in response.content.decode()
    assert COOKIE not in response.cookies
    assert client.post("/kiosk/activate", {"secret": " "}).status_code == 422


def test_a_forged_cookie_is_not_a_device(device):
    client = Client()
    client.cookies[COOKIE] = device[1]  # the secret, but not signed by the server
    response = client.get("/kiosk/")
    assert response.status_code == 403
    assert "本评价器已停用或设备密钥已失效" in response.content.decode()


def test_a_deactivated_device_is_refused(device, record):
    dev, secret = device
    client = activated(secret)
    kiosk.set_current(dev, record, "complete", set_by="test")
    kiosk.deactivate(dev)
    response = client.get("/kiosk/")
    assert response.status_code == 403
    assert "本评价器已停用或设备密钥已失效" in response.content.decode()
    assert record.item.name not in response.content.decode()
    assert response.cookies[COOKIE].value == ""  # forgotten
    assert client.get("/kiosk/state").status_code in (403,)


def test_page_shows_item_and_staff_but_not_the_applicant(device, record, org):
    dev, secret = device
    client = activated(secret)
    kiosk.set_current(dev, record, "complete", set_by="test")
    page = client.get("/kiosk/").content.decode()
    assert record.item.name in page and "李明" in page and org.staff.staff_no in page
    assert "王小二" not in page and "13912345678" not in page and record.project_no not in page
    for text in ("非常满意", "满意", "基本满意", "不满意", "非常不满意"):
        assert f">{text}</button>" in page


def rate_good(client) -> tuple[object, str]:
    page = client.get("/kiosk/")
    token = page.context["form_token"]
    return client.post("/kiosk/", {"form_token": token, "level": "5"}), token


def test_rating_without_script_stores_it_and_clears_the_current_record(device, record):
    dev, secret = device
    client = activated(secret)
    kiosk.set_current(dev, record, "complete", set_by="test")
    response, token = rate_good(client)
    assert response.status_code == 200
    ev = Evaluation.objects.get(record=record)
    assert (ev.channel, ev.level, ev.source) == ("kiosk", 5, f"kiosk:{dev.prefix}")
    assert ev.receipt_code in response.content.decode()
    assert KioskSession.objects.get(device=dev).record_id is None
    assert "请稍候，工作人员正在为您办理" in client.get("/kiosk/").content.decode()
    # The script's submit of the very same form is a replay of it, not a second evaluation.
    again = client.post("/kiosk/submit", {"form_token": token, "level": "5"})
    assert again.status_code == 200 and again.json()["receipt_code"] == ev.receipt_code
    assert Evaluation.objects.filter(record=record).count() == 1


def test_json_submit_and_its_retries_store_one_evaluation(device, record):
    dev, secret = device
    client = activated(secret)
    kiosk.set_current(dev, record, "complete", set_by="test")
    token = client.get("/kiosk/").context["form_token"]
    state_before = client.get("/kiosk/state").json()["key"]
    form = {"form_token": token, "level": "2", "labels": ["209"], "comment": "窗口人员解释不清"}
    first = client.post("/kiosk/submit", form)
    assert first.status_code == 201, first.content
    assert first.json()["level_text"] == "不满意" and first.json()["is_bad"] is True
    assert first.json()["handling"].startswith("差评已转交办理单位核实处理。责任单位：") and "回访核实期限" in first.json()["handling"]
    assert client.post("/kiosk/submit", form).status_code == 200
    ev = Evaluation.objects.get(record=record)
    assert list(ev.labels.values_list("code", flat=True)) == ["209"] and ev.comment == "窗口人员解释不清"
    assert client.get("/kiosk/state").json()["key"] != state_before


def test_json_submit_refuses_bad_input_in_chinese(device, record):
    dev, secret = device
    client = activated(secret)
    kiosk.set_current(dev, record, "complete", set_by="test")
    token = client.get("/kiosk/").context["form_token"]
    response = client.post("/kiosk/submit", {"form_token": token, "level": "1"})
    assert response.status_code == 422
    assert response.json()["detail"] == "差评请至少选择一项原因，或写下具体情况"
    assert client.post("/kiosk/submit", {"form_token": "forged", "level": "5"}).status_code == 400
    assert Client().post("/kiosk/submit", {"form_token": token, "level": "5"}).status_code == 403
    assert not Evaluation.objects.exists()


def forged_token(record) -> str:
    # What a tampered tablet could at most do: present a validly signed form for a 办件 it was never shown.
    return signing.dumps({"k": secrets.token_urlsafe(16), "p": record.project_no, "s": "complete", "t": "active"},
                         salt=pages.FORM_SALT)


def test_a_record_of_another_window_cannot_be_rated_from_this_device(device, record, other_window_record):
    dev, secret = device
    client = activated(secret)
    kiosk.set_current(dev, record, "complete", set_by="test")
    token = forged_token(other_window_record)

    page = client.post("/kiosk/", {"form_token": token, "level": "5"})
    assert page.status_code == 403
    assert "该办件不属于本窗口，评价器不能评价" in page.content.decode()
    submitted = client.post("/kiosk/submit", {"form_token": token, "level": "5"})
    assert submitted.status_code == 403
    assert submitted.json()["detail"] == "该办件不属于本窗口，评价器不能评价"
    assert not Evaluation.objects.exists()
    assert KioskSession.objects.get(device=dev).record_id == record.pk  # its own 办件 is still waiting


def test_a_device_of_another_agency_cannot_rate_this_windows_record(org, record):
    agency = ServiceAgency.objects.create(code="HALL-X", name="另一个大厅", kind="center", region=org.other_county)
    window = Window.objects.create(agency=agency, code="B01", name="B01窗口", department=org.department)
    _dev, secret = kiosk.register_kiosk(window, "别处的评价器")
    client = activated(secret)
    response = client.post("/kiosk/submit", {"form_token": forged_token(record), "level": "5"})
    assert response.status_code == 403
    assert not Evaluation.objects.exists()


def test_a_late_rating_does_not_clear_the_next_citizens_record(device, record, org, item):
    dev, secret = device
    client = activated(secret)
    kiosk.set_current(dev, record, "complete", set_by="test")
    token = client.get("/kiosk/").context["form_token"]
    following = factories.make_record(org, item)
    kiosk.set_current(dev, following, "complete", set_by="test")  # the network was down meanwhile
    assert client.post("/kiosk/submit", {"form_token": token, "level": "4"}).status_code == 201
    assert Evaluation.objects.get().record_id == record.pk
    assert KioskSession.objects.get(device=dev).record_id == following.pk


def test_guessing_secrets_is_stopped(device, settings):
    from django.core.cache import cache

    cache.clear()
    _dev, secret = device
    client = Client(REMOTE_ADDR="10.9.8.7")
    for _ in range(10):
        assert client.post("/kiosk/activate", {"secret": "hck_0badf00d_guess"}).status_code == 403
    response = client.post("/kiosk/activate", {"secret": "hck_0badf00d_guess"})
    assert response.status_code == 403
    blocked = client.post("/kiosk/activate", {"secret": secret})  # even the right one, until the minute is over
    assert blocked.status_code == 429 and "尝试次数过多" in blocked.content.decode()
    cache.clear()
