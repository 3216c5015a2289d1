"""The receipt page (回执查询) and the follow-up made from it, as an evaluator's browser sees them (no JavaScript)."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core.cache import cache

from haochaping.evaluation import services
from haochaping.evaluation.models import Evaluation
from haochaping.evaluation.signals import receipt_progress
from haochaping.evaluation.views import receipt as views_receipt
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits():
    # Failed lookups are counted per address in the process-wide cache.
    cache.clear()
    yield
    cache.clear()


def submit(record, level=1, **kw) -> Evaluation:
    data = services.EvaluationInput(
        idempotency_key=uuid.uuid4().hex, project_no=record.project_no, stage="complete", channel="kiosk", level=level,
        labels=kw.pop("labels", ["108"] if level == 1 else []), comment=kw.pop("comment", "窗口要求提供指南外的材料"), **kw,
    )
    return services.submit_evaluation(data, source="test").evaluation


def form_token(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def text(response) -> str:
    return response.content.decode()


def open_receipt(client, code: str):
    return client.post("/r/", {"code": code})


def test_code_opens_the_evaluation_without_putting_it_in_a_url(client, org, item):
    ev = submit(factories.make_record(org, item))
    # Typed on a phone: lower case, with spaces.
    r = open_receipt(client, " ".join([ev.receipt_code[:4].lower(), ev.receipt_code[4:]]))
    assert r.status_code == 302 and r["Location"] == "/r/view/"

    page = client.get("/r/view/")
    html = text(page)
    assert page.status_code == 200
    for shown in (ev.receipt_code, item.name, "办结", "主动评价", "评价器", "非常不满意", "在办事指南之外增加新的审批条件",
                  "窗口要求提供指南外的材料", "存证摘要", ev.leaf_hash, "计入统计", "差评已转交办理单位核实处理"):
        assert shown in html, shown
    # The applicant's name and phone (on the 办件) never show on a page anyone with the code can open.
    assert "王小二" not in html and "13912345678" not in html
    assert ev.receipt_code not in r["Location"]


def test_a_good_review_has_no_case_progress(client, org, item):
    ev = submit(factories.make_record(org, item), level=5, comment="")
    open_receipt(client, ev.receipt_code)
    html = text(client.get("/r/view/"))
    assert "非常满意" in html
    assert "差评办理进展" not in html and "差评已转交" not in html


def test_wrong_code_says_so_in_chinese_and_the_view_stays_closed(client, org, item):
    r = open_receipt(client, "ABCDEFGHJKLM")
    assert r.status_code == 404
    assert "没有这个评价回执码，请核对后重试" in text(r)
    assert 'aria-describedby="code-hint code-error"' in text(r)
    assert 'value="ABCDEFGHJKLM"' in text(r)  # to correct, not to type all twelve again
    r = open_receipt(client, "abc")
    assert r.status_code == 422 and "评价回执码应为12位字母和数字" in text(r)
    # A letter O (or I, 0, 1), which no code holds, is named as the mistake.
    r = open_receipt(client, "ABCDEFGHJKLO")
    assert r.status_code == 422 and "评价回执码中没有数字0、1和字母O、I" in text(r)
    assert client.get("/r/view/")["Location"] == "/r/"


def test_guessing_is_limited_per_address(client, org, item):
    ev = submit(factories.make_record(org, item))
    for _ in range(views_receipt.FAILURE_LIMIT):
        assert open_receipt(client, "ABCDEFGHJKLM").status_code == 404
    r = open_receipt(client, "ABCDEFGHJKLM")
    assert r.status_code == 429
    assert "回执码输错次数过多" in text(r) and int(r["Retry-After"]) > 0
    # Even the right code waits now: otherwise the limit would not stop a guesser who finally hits one.
    assert open_receipt(client, ev.receipt_code).status_code == 429
    # Another address is not affected.
    assert open_receipt(client.__class__(REMOTE_ADDR="10.0.0.9"), ev.receipt_code).status_code == 302


def test_rectification_progress_comes_from_the_hook(client, org, item):
    ev = submit(factories.make_record(org, item))

    def answer(sender, evaluation, **kw):
        assert evaluation.pk == ev.pk
        return {"steps": [{"title": "已受理", "at": None, "detail": ""}, {"title": "已整改", "at": None, "detail": "已取消多余材料"}],
                "answer": "经核实，已按办事指南办理。", "excluded": True}

    from haochaping.rectification import receivers

    # The real rectification app's answer is set aside: this is about the hook itself (tests/rectification has the real).
    receipt_progress.disconnect(sender=Evaluation, dispatch_uid="rectification.receipt_progress")
    receipt_progress.connect(answer, weak=False)
    try:
        open_receipt(client, ev.receipt_code)
        html = text(client.get("/r/view/"))
    finally:
        receipt_progress.disconnect(answer)
        receipt_progress.connect(receivers.progress, sender=Evaluation, dispatch_uid="rectification.receipt_progress")
    assert "已受理" in html and "已取消多余材料" in html and "经核实，已按办事指南办理。" in html
    assert "差评已转交办理单位核实处理" not in html
    assert "不计入统计" in html and "该评价已不计入满意度统计" in html


def test_followup_once_per_stage_from_the_receipt(client, org, item):
    record = factories.make_record(org, item)
    ev = submit(record)
    open_receipt(client, ev.receipt_code)
    assert "/r/followup/" in text(client.get("/r/view/"))

    first = client.get("/r/followup/")
    second = client.get("/r/followup/")  # a second tab, opened before the first is sent
    assert first.status_code == 200 and "追加评价" in text(first)
    # A follow-up of a good level too asks for the words first: adding them is what a follow-up is for.
    details = client.post("/r/followup/", {"form_token": form_token(text(first)), "level": "4"})
    assert "您的意见（选填）" in text(details) and not Evaluation.objects.filter(type="followup").exists()
    done = client.post("/r/followup/", {"form_token": form_token(text(first)), "level": "4", "confirm": "1",
                                        "comment": "后来窗口主动打电话解释了"})
    assert done.status_code == 200
    assert Evaluation.objects.get(record=record, type="followup").comment == "后来窗口主动打电话解释了"
    follow = Evaluation.objects.get(record=record, type="followup")
    assert follow.channel == "pc" and follow.source == "receipt:followup" and follow.level == 4
    assert follow.receipt_code in text(done) and follow.receipt_code != ev.receipt_code
    # Said once: this second code is kept beside the first one.
    assert text(done).count("截图保存") == 1 and "请与原来的回执码一并记下或截图保存" in text(done)

    refused = client.post("/r/followup/", {"form_token": form_token(text(second)), "level": "5", "confirm": "1"})
    assert refused.status_code == 409
    assert "该办件的这一环节已有追加评价，每个环节只能追加评价一次" in text(refused)
    assert Evaluation.objects.filter(record=record).count() == 2

    # The receipt page now says so instead of offering the button; opening the address directly does too.
    view = text(client.get("/r/view/"))
    assert "/r/followup/" not in view
    # ...and shows the follow-up made, with its own code, for whoever mislaid it.
    assert "追加评价：<strong>满意</strong>" in view and follow.receipt_code in view and "后来窗口主动打电话解释了" in view
    closed = client.get("/r/followup/")
    assert closed.status_code == 409 and "已有追加评价" in text(closed)


def test_followup_of_a_bad_level_asks_for_reasons_and_uses_the_mobile_channel_on_a_phone(client, org, item):
    record = factories.make_record(org, item)
    ev = submit(record, level=5, comment="")
    open_receipt(client, ev.receipt_code)
    phone = {"HTTP_USER_AGENT": "Mozilla/5.0 (Linux; Android 10) Mobile Safari/537.36"}
    token = form_token(text(client.get("/r/followup/", **phone)))
    details = client.post("/r/followup/", {"form_token": token, "level": "2"}, **phone)
    assert "请告诉我们哪里做得不好" in text(details)
    missing = client.post("/r/followup/", {"form_token": token, "level": "2", "confirm": "1"}, **phone)
    assert missing.status_code == 422 and "差评请至少选择一项原因，或写下具体情况" in text(missing)
    assert 'aria-describedby="labels-error"' in text(missing)
    client.post("/r/followup/", {"form_token": token, "level": "2", "confirm": "1", "labels": ["207"]}, **phone)
    follow = Evaluation.objects.get(record=record, type="followup")
    assert follow.channel == "mobile" and follow.is_bad and list(follow.labels.values_list("code", flat=True)) == ["207"]


def test_a_followup_receipt_offers_no_further_followup(client, org, item):
    record = factories.make_record(org, item)
    submit(record)
    follow = submit(record, level=3, comment="", type="followup")
    open_receipt(client, follow.receipt_code)
    assert "追加评价不能再追加评价" in text(client.get("/r/view/"))
    r = client.post("/r/followup/", {"form_token": "x", "level": "5"})
    assert r.status_code == 400
    assert Evaluation.objects.filter(record=record).count() == 2


def test_text_size_toggle_sets_a_lasting_cookie_and_returns(client, db):
    r = client.post("/text-size/", {"large": "1"}, HTTP_REFERER="http://testserver/r/")
    assert r.status_code == 302 and r["Location"] == "http://testserver/r/"
    assert r.cookies["large_text"].value == "1" and int(r.cookies["large_text"]["max-age"]) > 30 * 24 * 3600
    html = text(client.get("/r/"))
    assert '<html lang="zh-Hans" class="large-text">' in html and ">标准版</button>" in html
    r = client.post("/text-size/", {"large": "0"}, HTTP_REFERER="https://evil.example/")
    assert r["Location"] == "/" and r.cookies["large_text"].value == "0"
    assert ">大字版</button>" in text(client.get("/r/"))
