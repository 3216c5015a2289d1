"""The evaluator says 满意/不满意 about the answer on the receipt page, without JavaScript: the form posts to
/r/feedback/answer/, which takes the evaluation from the session (never from the form) and goes back to the page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from haochaping.rectification.models import RectificationCase

from .casesteps import to_answered
from .conftest import submit

pytestmark = pytest.mark.django_db

URL = "/r/feedback/answer/"


def look_up(client, code):
    assert client.post("/r/", {"code": code}).status_code == 302


def page(client):
    response = client.get("/r/view/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def answered(record, people):
    result = submit(record)
    to_answered(result.case_id, people["handler"])
    return result


def test_the_url_has_its_name():
    assert reverse("feedback:answer") == URL


def test_unsatisfied_reopens_the_case_and_a_second_answer_is_refused(client, answered):
    look_up(client, answered.evaluation.receipt_code)
    html = page(client)
    # A plain form: a fieldset with a legend, labelled radios, CSRF, posting to the feedback view.
    form = re.search(r'<form method="post" action="([^"]+)" class="[^"]*satisfaction-form[^"]*"[^>]*>(.*?)</form>',
                     html, re.S)
    assert form and form.group(1) == URL
    body = form.group(2)
    assert "csrfmiddlewaretoken" in body and "<legend" in body and "您对处理结果是否满意" in body
    for value, label in (("satisfied", "满意"), ("unsatisfied", "不满意")):
        assert f'id="satisfaction-{value}" value="{value}"' in body
        assert f'<label for="satisfaction-{value}">{label}</label>' in body

    response = client.post(URL, {"satisfaction": "unsatisfied"})
    assert response.status_code == 302 and response["Location"] == "/r/view/"
    case = RectificationCase.objects.get(pk=answered.case_id)
    assert (case.state, case.satisfaction, case.reopen_count) == ("reopened", "unsatisfied", 1)
    html = page(client)
    assert "案件已转政务服务管理机构复核" in html and 'role="status"' in html
    assert "您对处理结果不满意，已转政务服务管理机构复核" in html  # the step in the progress list
    assert 'action="/r/feedback/answer/"' not in html and "您对处理结果的意见：<strong>不满意</strong>" in html

    response = client.post(URL, {"satisfaction": "satisfied"}, follow=True)
    assert "该差评的处理结果已确认过，不能再次评价" in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    case.refresh_from_db()
    assert (case.state, case.satisfaction) == ("reopened", "unsatisfied")


def test_satisfied_closes_the_case(client, answered):
    look_up(client, answered.evaluation.receipt_code)
    response = client.post(URL, {"satisfaction": "satisfied"}, follow=True)
    assert "感谢您的确认，案件已办结" in response.content.decode()
    assert RectificationCase.objects.get(pk=answered.case_id).state == "closed"


def test_no_choice_is_refused_with_a_message(client, answered):
    look_up(client, answered.evaluation.receipt_code)
    html = client.post(URL, {}, follow=True).content.decode()
    assert "请选择满意或不满意" in html
    assert RectificationCase.objects.get(pk=answered.case_id).state == "answered"


def test_the_evaluation_comes_from_the_session_only(client, answered):
    # Without a receipt code entered in this session, naming the evaluation in the form does nothing.
    response = client.post(URL, {"satisfaction": "satisfied", "evaluation_id": answered.evaluation.pk})
    assert response.status_code == 302 and response["Location"] == reverse("receipt:lookup")
    assert RectificationCase.objects.get(pk=answered.case_id).state == "answered"


def test_only_post(client, answered):
    look_up(client, answered.evaluation.receipt_code)
    assert client.get(URL).status_code == 405
    assert RectificationCase.objects.get(pk=answered.case_id).state == "answered"


def test_no_form_before_the_answer(client, record, people):
    result = submit(record)
    look_up(client, result.evaluation.receipt_code)
    assert "您对处理结果是否满意" not in page(client)


def test_the_form_needs_csrf(answered):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    assert client.get("/r/").status_code == 200
    csrf = client.cookies["csrftoken"].value
    assert client.post("/r/", {"code": answered.evaluation.receipt_code, "csrfmiddlewaretoken": csrf}).status_code == 302
    assert client.post(URL, {"satisfaction": "satisfied"}).status_code == 403
    assert RectificationCase.objects.get(pk=answered.case_id).state == "answered"

