"""The invitation link /i/<token>/: forged, expired, already rated, and a real-name rating through the link."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from haochaping.core import crypto
from haochaping.evaluation import invitations
from haochaping.evaluation.models import Evaluation, Invitation
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sms_file(settings, tmp_path):
    settings.HAOCHAPING_SMS_BACKEND = "haochaping.evaluation.sms.FileSender"
    settings.HAOCHAPING_SMS_FILE = str(tmp_path / "sms.jsonl")


@pytest.fixture
def invited(org, item):
    record = factories.make_record(org, item)
    outcome = invitations.send(record.pk)
    assert outcome.status == "sent"
    return record, outcome.token


def form_token(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def test_forged_token_is_a_chinese_404(client, invited):
    _record, token = invited
    for bad in ("x" * 32, token[:-1] + ("A" if token[-1] != "A" else "B"), "%E4%BD%A0"):
        r = client.get(f"/i/{bad}/")
        assert r.status_code == 404
        assert "评价链接无效" in r.content.decode()
    assert Invitation.objects.get().opened_at is None


def test_link_rates_the_record_real_name_on_the_sms_channel(client, invited):
    record, token = invited
    r = client.get(f"/i/{token}/")
    html = r.content.decode()
    assert r.status_code == 200 and "请您对本次服务作出评价" in html and record.item.name in html
    assert "13912345678" not in html  # the phone is used, never shown
    last_day = invitations.closed_on(Invitation.objects.get())
    assert f"本评价链接有效期至{last_day.year}年{last_day.month}月{last_day.day}日" in html
    assert Invitation.objects.get().opened_at is not None
    r = client.post(f"/i/{token}/", {"form_token": form_token(html), "level": "5"})
    assert r.status_code == 200 and "感谢您的评价" in r.content.decode()
    ev = Evaluation.objects.get(record=record)
    assert (ev.channel, ev.stage, ev.level, ev.is_real_name) == ("sms", "complete", 5, True)
    assert ev.evaluator_phone_index == crypto.blind_index("13912345678", kind="phone")
    # Opened again: already rated, with the way to the receipt.
    again = client.get(f"/i/{token}/").content.decode()
    assert "该办件已评价" in again and 'href="/r/"' in again


def test_link_bad_review_needs_a_reason(client, invited):
    record, token = invited
    html = client.get(f"/i/{token}/").content.decode()
    r = client.post(f"/i/{token}/", {"form_token": form_token(html), "level": "1"})
    assert "请告诉我们哪里做得不好" in r.content.decode()
    r = client.post(f"/i/{token}/", {"form_token": form_token(html), "level": "1", "confirm": "1"})
    assert r.status_code == 422 and "差评请至少选择一项原因，或写下具体情况" in r.content.decode()
    assert not Evaluation.objects.exists()


def test_link_after_the_period_says_it_closed_and_writes_nothing(client, invited):
    _record, token = invited
    inv = Invitation.objects.get()
    Invitation.objects.filter(pk=inv.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    inv.refresh_from_db()
    last = invitations.closed_on(inv)
    for r in (client.get(f"/i/{token}/"), client.post(f"/i/{token}/", {"level": "5"})):
        html = r.content.decode()
        assert r.status_code == 410
        assert f"该办件的评价期限已于{last.year}年{last.month}月{last.day}日结束" in html
    assert not Evaluation.objects.exists()
    assert Invitation.objects.get().opened_at is None
