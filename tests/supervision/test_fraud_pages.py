"""The supervisors' queue of fraud findings: scoped like every supervisor page, a decision in Chinese with its
errors named, and the device cookie / sign-in fingerprint the own-device detector relies on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from haochaping.core import crypto
from haochaping.core.middleware import DEVICE_COOKIE
from haochaping.evaluation.models import EvaluationExclusion
from haochaping.supervision.fraud import services
from haochaping.supervision.fraud.models import FindingStatus, FraudFinding, StaffFingerprint

pytestmark = pytest.mark.django_db


@pytest.fixture
def finding(burst):
    services.detect(now=timezone.now() + timedelta(minutes=1))
    return FraudFinding.objects.get()


def test_the_supervisor_sees_the_finding_with_its_evidence_and_no_personal_data(client, people, finding, burst):
    client.force_login(people["supervisor"])
    page = client.get("/work/fraud/").content.decode()
    assert "弄虚作假线索" in page and "短时集中好评" in page and f"{finding.pk:06d}" in page
    detail = client.get(f"/work/fraud/{finding.pk}/").content.decode()
    assert "10分钟内出现5条及以上非常满意" in detail and "共5条" in detail
    assert burst[0].receipt_code not in detail  # receipt codes let their holder see the review: not shown


def test_another_regions_supervisor_and_handlers_do_not_get_it(client, people, finding):
    client.force_login(people["far_supervisor"])
    assert f"{finding.pk:06d}" not in client.get("/work/fraud/").content.decode()
    assert client.get(f"/work/fraud/{finding.pk}/").status_code == 404
    assert client.post(f"/work/fraud/{finding.pk}/", {"decision": "confirm", "note": "x"}).status_code == 404
    client.force_login(people["handler"])
    assert client.get("/work/fraud/").status_code == 403


def test_a_decision_without_a_note_is_refused_in_chinese_and_changes_nothing(client, people, finding):
    client.force_login(people["supervisor"])
    response = client.post(f"/work/fraud/{finding.pk}/", {"decision": "confirm", "note": ""})
    assert response.status_code == 422 and "请填写核查意见" in response.content.decode()
    response = client.post(f"/work/fraud/{finding.pk}/", {"note": "核实"})
    assert response.status_code == 422 and "请选择核查结论" in response.content.decode()
    assert FraudFinding.objects.get().status == FindingStatus.OPEN and not EvaluationExclusion.objects.exists()


def test_confirming_on_the_page_excludes_the_evaluations(client, people, finding):
    client.force_login(people["supervisor"])
    response = client.post(f"/work/fraud/{finding.pk}/", {"decision": "confirm", "note": "调取监控核实"})
    assert response.status_code == 302
    assert EvaluationExclusion.objects.filter(reason="fraud").count() == 5
    page = client.get(response.url).content.decode()
    assert "已确认" in page and "不计入（弄虚作假）" in page and "提交核查结论" not in page
    assert "已确认" in client.get("/work/fraud/?status=confirmed").content.decode()
    assert f"{finding.pk:06d}" not in client.get("/work/fraud/").content.decode()  # the queue shows open ones


def test_dismissing_on_the_page_excludes_nothing(client, people, finding):
    client.force_login(people["supervisor"])
    client.post(f"/work/fraud/{finding.pk}/", {"decision": "dismiss", "note": "集中办理日，正常"})
    assert FraudFinding.objects.get().status == FindingStatus.DISMISSED and not EvaluationExclusion.objects.exists()


def test_pages_get_a_device_cookie_and_api_calls_do_not(client):
    response = client.get("/public/")
    cookie = response.cookies[DEVICE_COOKIE]
    assert len(cookie.value) >= 16 and cookie["httponly"] and cookie["max-age"] == 365 * 24 * 3600
    assert DEVICE_COOKIE not in client.get("/public/").cookies  # kept, not renewed
    assert DEVICE_COOKIE not in client.get("/api/v1/openapi.json").cookies


def test_downloads_any_cache_may_keep_carry_no_device_cookie(client):
    response = client.get("/public/opendata/")
    assert DEVICE_COOKIE in response.cookies  # the open-data page is a page …
    client.cookies.clear()
    for url in _public_downloads(response.content.decode()):
        download = client.get(url)
        assert "public" in download.get("Cache-Control", "") and DEVICE_COOKIE not in download.cookies, url


def _public_downloads(page: str) -> list[str]:
    import re

    links = [u.replace("&amp;", "&") for u in re.findall(r'href="(/public/opendata/[^"]+\.(?:csv|json)[^"]*)"', page)]
    assert links, "the open-data page lists its files"
    return links[:3]


def test_a_staff_sign_in_keeps_only_blind_indexes_of_address_and_device(client, org):
    from tests.accounts.login_support import PASSWORD, make_user

    user = make_user("renyuan", "staff", org)
    client.get("/accounts/login/")
    device = client.cookies[DEVICE_COOKIE].value
    response = client.post("/accounts/login/", {"username": "renyuan", "password": PASSWORD}, REMOTE_ADDR="10.2.3.4")
    assert response.status_code == 302
    row = StaffFingerprint.objects.get(user=user)
    assert row.device_index == crypto.blind_index(device, kind="device")
    assert row.address_index == crypto.blind_index("10.2.3.4", kind="address")
    assert "10.2.3.4" not in str(StaffFingerprint.objects.values().get())


def test_an_evaluation_through_a_page_keeps_blind_indexes_of_its_address_and_device(client, settings, tmp_path, org,
                                                                                   item):
    import re

    from haochaping.evaluation import invitations
    from haochaping.evaluation.models import Evaluation
    from tests import factories

    settings.HAOCHAPING_SMS_BACKEND = "haochaping.evaluation.sms.FileSender"
    settings.HAOCHAPING_SMS_FILE = str(tmp_path / "sms.jsonl")
    record = factories.make_record(org, item)
    token = invitations.send(record.pk).token
    html = client.get(f"/i/{token}/").content.decode()
    device = client.cookies[DEVICE_COOKIE].value
    form_token = re.search(r'name="form_token" value="([^"]+)"', html).group(1)
    client.post(f"/i/{token}/", {"form_token": form_token, "level": "5"}, REMOTE_ADDR="10.7.7.7")
    ev = Evaluation.objects.get(record=record)
    assert ev.client_device_index == crypto.blind_index(device, kind="device")
    assert ev.client_address_index == crypto.blind_index("10.7.7.7", kind="address")


def test_an_administrator_registers_a_staff_phone_in_the_admin_and_sees_it_masked(client, org):
    from haochaping.accounts.models import User
    from haochaping.supervision.fraud.models import StaffPhone

    client.force_login(User.objects.create_superuser("root", "root@example.com", None))
    add = "/admin/supervision/staffphone/add/"
    refused = client.post(add, {"staff": org.staff.pk, "phone_number": "12345"})
    assert refused.status_code == 200 and "手机号应为11位数字" in refused.content.decode()
    response = client.post(add, {"staff": org.staff.pk, "phone_number": "139 0000 3333"})
    assert response.status_code == 302
    row = StaffPhone.objects.get()
    assert row.phone_index == crypto.blind_index("13900003333", kind="phone")
    listing = client.get("/admin/supervision/staffphone/").content.decode()
    assert "139****3333" in listing and "13900003333" not in listing


def test_a_kiosk_rating_keeps_no_client_fingerprint(org, item):
    """A 评价器 sits on the hall's network like the staff's own PCs: its address would look like theirs."""
    from haochaping.evaluation import kiosk
    from haochaping.evaluation.models import Evaluation
    from tests import factories
    from tests.evaluation.test_kiosk_page import activated, rate_good

    dev, secret = kiosk.register_kiosk(org.window, "1号窗口评价器")
    client = activated(secret)
    record = factories.make_record(org, item)
    kiosk.set_current(dev, record, "complete", set_by="test")
    response, _token = rate_good(client)
    assert response.status_code == 200
    ev = Evaluation.objects.get(record=record)
    assert (ev.channel, ev.client_address_index, ev.client_device_index) == ("kiosk", "", "")
