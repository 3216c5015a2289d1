"""The answer SMS carries its own link (/a/<token>/): a real-name evaluator taps it and lands on the receipt page
with the answer and the 满意/不满意 form, without the receipt code. Only the token's hash is kept; unknown, forged
and expired links say nothing about anyone; the token never reaches a log line."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from haochaping.core import tokens
from haochaping.evaluation import sms
from haochaping.rectification import reply_links
from haochaping.rectification.models import RectificationCase, ReplyLink

from .casesteps import to_answered
from .conftest import submit

pytestmark = pytest.mark.django_db

PHONE = "13800001111"
ANSWER = "经核实，已取消多余材料要求，感谢您的监督。"



def answered(record, people, capture, **evaluator) -> tuple[RectificationCase, str | None]:
    """A 差评 answered by its unit, and the link path the SMS carried (None when no SMS went out)."""
    case = RectificationCase.objects.get(pk=submit(record, **evaluator).case_id)
    with capture(execute=True):
        to_answered(case.pk, people["handler"], text=ANSWER)
    messages = sms.read_file_messages()
    if not messages:
        return case, None
    [message] = messages
    match = re.search(r"https://hcp\.example\.gov\.cn(/a/[A-Za-z0-9_-]+/)", message["text"])
    assert match, message["text"]
    return case, match.group(1)


def test_the_link_opens_the_answer_and_the_evaluator_says_satisfied(record, people, sms_file,
                                                                    django_capture_on_commit_callbacks):
    case, path = answered(record, people, django_capture_on_commit_callbacks, evaluator_phone=PHONE)
    token = path.split("/")[2]
    # Only the hash is stored; the SMS has no receipt code, phone or service.
    link = ReplyLink.objects.get(case=case)
    assert link.token_hash == tokens.digest(token) and token not in link.token_hash and link.opened_at is None
    assert link.expires_at - link.created_at == timedelta(days=reply_links.VALID_DAYS)
    [message] = sms.read_file_messages()
    assert case.evaluation.receipt_code not in message["text"] and PHONE not in message["text"]
    assert "https://hcp.example.gov.cn/r/" in message["text"]  # where the receipt code works once the link expires

    phone = Client()
    response = phone.get(path)
    assert (response.status_code, response["Location"]) == (302, "/r/view/")
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]
    page = phone.get("/r/view/").content.decode()
    assert ANSWER in page and "您对处理结果是否满意" in page
    assert '<a href="#answer-h">' in page and 'id="answer-h"' in page  # a way down to the answer
    link.refresh_from_db()
    assert link.opened_at is not None

    done = phone.post("/r/feedback/answer/", {"satisfaction": "satisfied"}, follow=True)
    assert "感谢您的确认，案件已办结" in done.content.decode()
    case.refresh_from_db()
    assert (case.state, case.satisfaction) == ("closed", "satisfied")
    # Opening it again later shows the same receipt (the first opening stays recorded).
    first_opened = link.opened_at
    assert Client().get(path).status_code == 302
    link.refresh_from_db()
    assert link.opened_at == first_opened


def test_no_link_without_a_phone_or_for_an_anonymous_evaluator(record, people, sms_file, org, item,
                                                               django_capture_on_commit_callbacks):
    from tests import factories

    _case, path = answered(record, people, django_capture_on_commit_callbacks)  # anonymous
    assert path is None
    _case, path = answered(factories.make_record(org, item), people, django_capture_on_commit_callbacks,
                           evaluator_name="王大锤")  # real name, no phone
    assert path is None
    assert not ReplyLink.objects.exists()


def test_unknown_forged_and_expired_links_say_nothing_about_anyone(record, people, sms_file,
                                                                   django_capture_on_commit_callbacks):
    case, path = answered(record, people, django_capture_on_commit_callbacks, evaluator_phone=PHONE)
    for bad in ("/a/x/", "/a/" + "A" * 32 + "/", "/a/" + "A" * 300 + "/"):
        response = Client().get(bad)
        body = response.content.decode()
        assert response.status_code == 404 and "链接无效" in body, bad
        assert ANSWER not in body and "/r/view/" not in response.get("Location", "")
    ReplyLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    phone = Client()
    response = phone.get(path)
    body = response.content.decode()
    assert response.status_code == 410 and "链接已过期" in body and "评价回执码" in body and ANSWER not in body
    assert phone.get("/r/view/")["Location"] == "/r/"  # the session gives no access either


def test_the_token_never_reaches_a_log_line(record, people, sms_file, caplog, django_capture_on_commit_callbacks):
    import io

    from haochaping import __main__ as cli
    from tests.security.test_token_logging import _django_console_handler

    caplog.set_level(logging.DEBUG)
    case, path = answered(record, people, django_capture_on_commit_callbacks, evaluator_phone=PHONE)
    token = path.split("/")[2]
    assert token not in caplog.text and f"case_id={case.pk}" in caplog.text  # the sending is logged by case id
    handler = _django_console_handler()
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        ReplyLink.objects.update(expires_at=timezone.now())
        assert Client().get(path).status_code == 410  # django.request logs a 4xx with its path
    finally:
        handler.setStream(previous)
    assert "/a/[redacted]/" in stream.getvalue() and token not in stream.getvalue()
    assert token not in cli.redact_tokens(f'"GET {path} HTTP/1.1" 302') and "/a/[redacted]/" in cli.redact_tokens(path)
    assert cli.redact_tokens("/api/v1/cases/") == "/api/v1/cases/"


def test_the_case_page_tells_the_unit_whether_the_evaluator_opened_the_link(record, people, sms_file,
                                                                            django_capture_on_commit_callbacks):
    case, path = answered(record, people, django_capture_on_commit_callbacks, evaluator_phone=PHONE)
    unit = Client()
    unit.force_login(people["handler"])

    def shown() -> str:
        page = unit.get(f"/work/cases/{case.pk}/").content.decode()
        return re.search(r'<dd id="reply-link">(.*?)</dd>', page).group(1)

    assert shown().startswith("评价人尚未打开")
    Client().get(path)
    opened = timezone.localtime(ReplyLink.objects.get(case=case).opened_at)
    assert shown().startswith(f"评价人已于{opened:%Y-%m-%d %H:%M}打开")
