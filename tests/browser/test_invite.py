"""An SMS invitation link in a real browser: rate through it, then the same kind of link after the period."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from haochaping.evaluation import invitations
from haochaping.evaluation.models import Evaluation, Invitation
from tests import factories

from .test_public_pages import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def invitation(settings, tmp_path):
    settings.HAOCHAPING_SMS_BACKEND = "haochaping.evaluation.sms.FileSender"
    settings.HAOCHAPING_SMS_FILE = str(tmp_path / "sms.jsonl")
    org = factories.make_org()
    record = factories.make_record(org, factories.make_item(org))
    outcome = invitations.send(record.pk)
    assert outcome.status == "sent"
    return record, outcome.token


def test_open_the_link_rate_and_see_it_rated_then_closed(page, invitation):
    record, token = invitation
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"/i/{token}/")
    assert page.get_by_role("heading", level=1).inner_text() == "请您对本次服务作出评价"
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert axe_violations(page) == []
    with page.expect_navigation():
        page.get_by_role("button", name="非常满意", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "感谢您的评价"
    code = page.locator("#receipt-code").inner_text()
    ev = Evaluation.objects.get(record=record)
    assert (ev.receipt_code, ev.channel, ev.is_real_name) == (code, "sms", True)

    page.goto(f"/i/{token}/")
    assert page.get_by_role("heading", level=1).inner_text() == "该办件已评价"

    # The period ends: the link now says so, on a phone, accessibly.
    Invitation.objects.filter(record=record).update(expires_at=timezone.now() - timedelta(seconds=1))
    last = invitations.closed_on(Invitation.objects.get(record=record))
    page.goto(f"/i/{token}/")
    assert page.get_by_role("heading", level=1).inner_text() == "评价期限已结束"
    assert f"已于{last.year}年{last.month}月{last.day}日结束" in page.locator("main").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert axe_violations(page) == []


def test_an_expired_unrated_link_shows_closed_and_rates_nothing(page, invitation):
    record, token = invitation
    # As if the 办件 had completed weeks ago: move it back and send again, the link expires with the period.
    Invitation.objects.all().delete()
    type(record).objects.filter(pk=record.pk).update(
        accepted_at=timezone.now() - timedelta(days=40), completed_at=timezone.now() - timedelta(days=40)
    )
    assert invitations.send(record.pk).reason == "period_over"
    # A link sent during the period and opened after it.
    Invitation.objects.create(
        record=record, kind="invite", token_hash=invitations.token_hash("old-link-token-123"), status="sent",
        sent_at=timezone.now() - timedelta(days=40), expires_at=timezone.now() - timedelta(days=30),
    )
    page.goto("/i/old-link-token-123/")
    assert page.get_by_role("heading", level=1).inner_text() == "评价期限已结束"
    assert page.get_by_role("button", name="非常满意").count() == 0
    assert not Evaluation.objects.exists()


def test_a_forged_link_is_a_chinese_not_found_page(page, invitation):
    response = page.goto("/i/forged-token-000000000000/")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "评价链接无效"
    assert axe_violations(page) == []
