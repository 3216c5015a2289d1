"""The evaluator's receipt page (/r/view/) shows how their bad review is being handled, step by step, in words
for the evaluator: never handlers' or supervisors' notes, names or the unit's unconfirmed view."""

from __future__ import annotations

import pytest

from haochaping.rectification import services
from haochaping.rectification.services import OutcomeInput

from .casesteps import callback_input, ledger_input
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
    services.record_callback(case_id, callback_input(contact="王先生本人", facts="王先生反映属实"), actor=h)
    services.choose_outcome(case_id, OutcomeInput("fixed_now", detail="已取消指南外材料要求"), actor=h)
    services.add_supervision_note(case_id, actor=people["supervisor"], note="请李科长加快办理")
    html = view(client, code)
    for shown in ("已指定承办人", "已回访核实", "处理结果：立行立改", "政务服务管理机构已督办"):
        assert shown in html, shown
    # Handlers' and supervisors' notes and names stay internal.
    for hidden in ("王先生", "handler-1", "李科长", "办理答复", "您对处理结果是否满意"):
        assert hidden not in html, hidden

    services.answer(case_id, text="经核实，已取消多余材料要求，感谢您的监督。", actor=h)
    html = view(client, code)
    assert "已答复评价人" in html and "经核实，已取消多余材料要求，感谢您的监督。" in html
    assert "您对处理结果是否满意" in html


def test_receipt_shows_a_proposal_without_its_evidence_and_the_effective_deadline(client, record, people):
    result = submit(record)
    code, case_id = result.evaluation.receipt_code, result.case_id
    h, sup = people["handler"], people["supervisor"]
    services.record_callback(case_id, callback_input(), actor=h)
    services.choose_outcome(case_id, OutcomeInput("mistaken", evidence="录音显示评价人误点"), actor=h)
    html = view(client, code)
    assert "已将核实结果提请政务服务管理机构确认" in html and "录音" not in html and "误评" not in html
    services.reject_not_adopted(case_id, actor=sup, note="录音不能证明误点")
    case = services.choose_outcome(case_id, ledger_input(_later(case_id), extension_reason="需采购设备"), actor=h)
    html = view(client, code)
    assert "已审核核实结果，办理单位继续办理" in html and "录音不能证明" not in html
    # The extension is pending: the evaluator sees the deadline that holds now, not the one asked for.
    assert f"整改期限：{_day(case.rectify_due)}" in html
    services.decide_extension(case_id, approve=True, actor=sup)
    html = view(client, code)
    assert f"整改期限：{_day(_later(case_id))}" in html and "已审批整改延期申请" in html


def _day(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _later(case_id):
    from datetime import timedelta

    from haochaping.rectification.models import RectificationCase

    return RectificationCase.objects.get(pk=case_id).rectify_due + timedelta(days=10)


def test_a_confirmed_mistaken_review_shows_as_not_counted(client, record, people):
    result = submit(record)
    services.record_callback(result.case_id, callback_input(), actor=people["handler"])
    services.choose_outcome(result.case_id, OutcomeInput("mistaken", evidence="录音"), actor=people["supervisor"])
    html = view(client, result.evaluation.receipt_code)
    assert "处理结果：误评" in html and "经政务服务管理机构确认" in html
    assert "不计入满意度统计" in html


def test_a_good_review_shows_no_progress(client, record):
    html = view(client, submit(record, level=5).evaluation.receipt_code)
    assert "差评办理进展" not in html
