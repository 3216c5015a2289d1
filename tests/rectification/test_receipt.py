"""The evaluator's receipt page (/r/view/) shows how their bad review is being handled, step by step."""

from __future__ import annotations

import pytest

from haochaping.rectification import services
from haochaping.rectification.services import OutcomeInput

from .conftest import submit

pytestmark = pytest.mark.django_db


def view(client, code):
    assert client.post("/r/", {"code": code}).status_code == 302
    page = client.get("/r/view/")
    assert page.status_code == 200
    return page.content.decode()


def test_receipt_shows_the_case_steps_and_the_answer(client, org, record, people):
    result = submit(record)
    code, case_id = result.evaluation.receipt_code, result.case_id
    html = view(client, code)
    assert "差评已转交办理单位核实处理" in html and f"责任单位：{org.department.name}" in html
    assert "已回访核实" not in html

    h = people["handler"]
    services.assign(case_id, h, actor=people["supervisor"])
    services.record_callback(case_id, note="已联系王先生核实", actor=h)
    services.choose_outcome(case_id, OutcomeInput("fixed_now", detail="已取消指南外材料要求"), actor=h)
    html = view(client, code)
    for shown in ("已指定承办人", "已回访核实", "处理结果：立行立改"):
        assert shown in html, shown
    # Handlers' notes and names stay internal.
    assert "王先生" not in html and "handler-1" not in html
    assert "办理答复" not in html

    services.answer(case_id, text="经核实，已取消多余材料要求，感谢您的监督。", actor=h)
    html = view(client, code)
    assert "已答复评价人" in html and "经核实，已取消多余材料要求，感谢您的监督。" in html


def test_a_good_review_shows_no_progress(client, record):
    html = view(client, submit(record, level=5).evaluation.receipt_code)
    assert "差评办理进展" not in html
