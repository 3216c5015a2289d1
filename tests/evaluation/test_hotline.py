"""12345 hotline intake (R3.5/R3.6): an operator records a caller's evaluation, channel phone, with consent."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from haochaping.accounts.roles import Role
from haochaping.evaluation import services
from haochaping.evaluation.models import Evaluation
from tests import factories
from tests.accounts.login_support import make_user

pytestmark = pytest.mark.django_db


def form_token(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def operator(client, org):
    user = make_user("hotline-1", Role.HOTLINE, org)
    client.force_login(user)
    return user


def consent_form(project_no: str, **kw) -> dict:
    return {"project_no": project_no, "stage": "complete", "consent": "1", "caller_phone": "", **kw}


def test_anonymous_visitors_are_sent_to_login(client, db):
    r = client.get("/hotline/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", [Role.STAFF, Role.SUPERVISOR, Role.HANDLER, Role.ASSESSOR])
def test_other_roles_get_a_chinese_403(client, org, item, role):
    client.force_login(make_user(f"u-{role}", role, org))
    record = factories.make_record(org, item)
    for r in (client.get("/hotline/"), client.post("/hotline/record/", consent_form(record.project_no))):
        assert r.status_code == 403
        assert "只有12345热线话务员可以代来电人记录评价" in text(r)
    assert not Evaluation.objects.exists()


def test_search_finds_only_records_in_the_operators_region(client, org, item, operator):
    mine = factories.make_record(org, item)
    elsewhere = factories.make_record(org, item, region=org.other_county)
    r = client.get("/hotline/", {"project_no": mine.project_no})
    assert r.status_code == 200
    html = text(r)
    assert item.name in html and "来电人同意由话务员代为记录评价" in html and org.staff.name in html
    assert "王小二" not in html and "13912345678" not in html  # the applicant's data stays hidden here too

    r = client.get("/hotline/", {"project_no": elsewhere.project_no})
    assert r.status_code == 404
    assert "在您负责的地区内没有找到这个办件编号" in text(r) and 'aria-describedby="project_no-error"' in text(r)
    # Posting the out-of-scope number straight to the form is refused the same way.
    assert client.post("/hotline/record/", consent_form(elsewhere.project_no)).status_code == 404
    assert client.get("/hotline/", {"project_no": ""}).status_code == 422


def test_the_found_record_shows_what_the_operator_checks_with_the_caller(client, org, item, operator):
    """Before recording, the operator confirms with the caller that this is their 办件: the department, when it was
    accepted and completed — or that it is not completed yet, so only the 受理 stage can be rated."""
    from django.utils import timezone

    done = factories.make_record(org, item)
    html = text(client.get("/hotline/", {"project_no": done.project_no}))
    local = timezone.localtime
    assert f"<dt>办理部门</dt><dd>{org.department.name}</dd>" in html
    assert f"<dt>受理时间</dt><dd>{local(done.accepted_at):%Y-%m-%d %H:%M}</dd>" in html
    assert f"<dt>办结时间</dt><dd>{local(done.completed_at):%Y-%m-%d %H:%M}</dd>" in html

    pending = factories.make_record(org, item, completed=False)
    html = text(client.get("/hotline/", {"project_no": pending.project_no}))
    assert "尚未办结（只能评价受理环节）" in html
    assert re.search(r'value="accept"[^>]*checked', html)


def test_consent_is_required(client, org, item, operator):
    record = factories.make_record(org, item)
    r = client.post("/hotline/record/", consent_form(record.project_no, consent=""))
    assert r.status_code == 422
    html = text(r)
    assert "未经来电人同意不能代为记录" in html
    assert re.search(r'id="consent"[^>]*aria-describedby="consent-error"', html)
    r = client.post("/hotline/record/", consent_form(record.project_no, caller_phone="123"))
    assert r.status_code == 422 and "手机号应为11位数字" in text(r)
    assert not Evaluation.objects.exists()


def test_operator_records_a_bad_review_with_consent_and_the_callers_phone(client, org, item, operator):
    record = factories.make_record(org, item)
    start = client.post("/hotline/record/", consent_form(record.project_no, caller_phone="13800001111"))
    assert start.status_code == 200
    html = text(start)
    assert "非常不满意" in html and "代来电人评价" in html
    token = form_token(html)
    fields = consent_form(record.project_no, caller_phone="13800001111", form_token=token, level="1")
    details = client.post("/hotline/record/", fields)
    # The operator reads the page and asks the caller: it speaks of 来电人, not to the reader as the evaluator.
    assert "来电人选择了：<strong>非常不满意</strong>" in text(details)
    assert "请问来电人哪里做得不好" in text(details) and "您选择了" not in text(details)
    done = client.post("/hotline/record/", {**fields, "confirm": "1", "labels": ["110"], "comment": "超过承诺时限"})
    assert done.status_code == 200
    ev = Evaluation.objects.get(record=record)
    assert ev.channel == "phone" and ev.level == 1 and ev.is_bad
    assert ev.source == "hotline:hotline-1:consent"
    assert ev.evaluator_phone == "13800001111" and ev.is_real_name
    html = text(done)
    assert ev.receipt_code in html and "记录下一通来电" in html
    # A caller cannot take a screenshot: the operator reads the code out in three groups of four and tells the
    # caller who handles the 差评 by when.
    code = ev.receipt_code
    assert f"{code[:4]}\u3000{code[4:8]}\u3000{code[8:]}" in html
    due = ev.case.callback_due
    assert (f"请告知来电人：差评已转交办理单位核实处理。责任单位：{ev.case.department.name}；"
            f"回访核实期限：{due.year}年{due.month}月{due.day}日") in html
    assert "评价已记录" in html and "感谢您的评价" not in html and "截图" not in html

    # A second call about the same 办件 stage gets the service's duplicate message, nothing more is written.
    again = client.post("/hotline/record/", consent_form(record.project_no))
    late = client.post("/hotline/record/", consent_form(record.project_no, form_token=form_token(text(again)), level="5"))
    assert late.status_code == 409 and "该办件的这一环节已评价过" in text(late)
    assert Evaluation.objects.filter(record=record).count() == 1


def test_a_record_past_its_period_tells_the_operator_at_once_and_offers_a_complaint(client, org, item, operator):
    old = factories.make_record(org, item, accepted_at=timezone.now() - timedelta(days=60))
    last = services.last_rating_day(old, "complete")
    start = client.post("/hotline/record/", consent_form(old.project_no))
    html = text(start)
    assert start.status_code == 409
    assert f"该环节的评价期限已于{last.year}年{last.month}月{last.day}日结束" in html
    assert 'name="level"' not in html
    # What the operator can still do for the caller: register a complaint, or take the next call.
    assert 'href="/work/intake/new/?source=hotline"' in html and "记录下一通来电" in html
    assert Evaluation.objects.count() == 0


def test_a_mistaken_level_is_chosen_again_and_still_makes_one_evaluation(client, org, item, operator):
    """A caller (or an elderly evaluator on a phone) who tapped 不满意 by mistake goes back to the levels from the
    reasons step, without the browser's Back button, and the level chosen then is the one evaluation recorded."""
    record = factories.make_record(org, item)
    token = form_token(text(client.post("/hotline/record/", consent_form(record.project_no))))
    fields = consent_form(record.project_no, form_token=token, level="2")
    details = text(client.post("/hotline/record/", fields))
    assert "请问来电人哪里做得不好" in details and 'name="change_level"' in details
    # The default (first) button of the form is still 提交评价: Enter submits, it does not go back.
    assert details.index("提交评价") < details.index("重新选择评价等级")

    back = client.post("/hotline/record/", {**fields, "change_level": "1"})
    assert back.status_code == 200 and "非常满意" in text(back) and "请问来电人哪里做得不好" not in text(back)
    assert form_token(text(back)) == token and not Evaluation.objects.exists()
    done = client.post("/hotline/record/", {**fields, "level": "5"})
    assert done.status_code == 200 and "评价已记录" in text(done)
    assert list(Evaluation.objects.filter(record=record).values_list("level", "is_bad")) == [(5, False)]
    # The same form token again (a double tap on the last step) replays, it adds nothing.
    assert client.post("/hotline/record/", {**fields, "level": "5"}).status_code == 200
    assert Evaluation.objects.filter(record=record).count() == 1


def test_the_insider_rule_lets_operators_through_and_stops_staff(org, item):
    # R7.1 refuses insiders; an operator records on a caller's behalf and is not one of them.
    record = factories.make_record(org, item)
    data = services.EvaluationInput(idempotency_key=uuid.uuid4().hex, project_no=record.project_no, stage="complete",
                                    channel="phone", level=5)
    result = services.submit_evaluation(data, source="hotline:x:consent", actor=make_user("op", Role.HOTLINE, org))
    assert result.evaluation.channel == "phone"
    other = factories.make_record(org, item)
    with pytest.raises(services.DomainError) as exc:
        services.submit_evaluation(
            services.EvaluationInput(idempotency_key=uuid.uuid4().hex, project_no=other.project_no, stage="complete",
                                     channel="phone", level=5),
            source="x", actor=make_user("st", Role.STAFF, org),
        )
    assert exc.value.status == 403


def test_a_caller_without_the_number_is_found_by_their_mobile_within_the_operators_region(client, org, item, operator):
    from haochaping.core import crypto

    def record_of(phone, **kw):
        return factories.make_record(org, item, applicant_phone=phone,
                                     applicant_phone_index=crypto.blind_index(phone, kind="phone"), **kw)

    mine = [record_of("13800000001"), record_of("13800000001")]
    someone_else = record_of("13800000002")
    elsewhere = record_of("13800000001", region=org.other_county)
    r = client.post("/hotline/by-phone/", {"caller_phone": "138 0000 0001"})
    assert r.status_code == 200
    listed = set(re.findall(r"\?project_no=([^\"]+)\"", text(r)))
    assert listed == {m.project_no for m in mine}  # not the other caller's, not outside the operator's region
    assert someone_else.project_no not in text(r) and elsewhere.project_no not in text(r)
    assert "13800000001" not in text(r) and "王小二" not in text(r)  # the list shows no personal data
    # Each leads to the usual consent-and-rate step.
    assert "来电人同意由话务员代为记录评价" in text(client.get("/hotline/", {"project_no": mine[0].project_no}))


@pytest.mark.parametrize(("phone", "status", "message"), [
    ("", 422, "请输入来电人的手机号"),
    ("12345", 422, "手机号"),
    ("13900009999", 404, "没有找到这个手机号办理的办件"),
])
def test_phone_search_errors_name_the_field(client, org, item, operator, phone, status, message):
    r = client.post("/hotline/by-phone/", {"caller_phone": phone})
    assert r.status_code == status
    assert 'id="search_phone-error"' in text(r) and message in text(r)


def test_phone_search_is_post_only_and_for_operators(client, org, item):
    assert client.get("/hotline/by-phone/", {"caller_phone": "13800000001"}).status_code in (302, 405)
    client.force_login(make_user("u-staff", Role.STAFF, org))
    assert client.post("/hotline/by-phone/", {"caller_phone": "13800000001"}).status_code == 403


def test_the_operators_page_leads_to_complaints_and_signs_out(client, org, operator):
    html = text(client.get("/hotline/"))
    assert 'href="/work/intake/new/?source=hotline"' in html and 'action="/accounts/logout/"' in html
    # A caller's complaint is registered where the work order's number and the caller's phone (for the callback)
    # can be recorded, with its source already set to 12345.
    page = client.get("/work/intake/new/?source=hotline")
    assert page.status_code == 200
    form = text(page)
    assert '<option value="hotline" selected>12345热线</option>' in form and 'name="phone"' in form
    assert 'name="reference"' in form
    # The workbench's own link for operators goes there too.
    assert 'href="/work/intake/new/?source=hotline"' in text(client.get("/work/callbacks/"))
    # Anything else in the query is ignored, not an error.
    assert "selected>12345热线" not in text(client.get("/work/intake/new/?source=nonsense"))
