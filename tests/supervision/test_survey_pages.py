"""监督查评 pages over HTTP (Django's test client, the real database): a supervisor builds, launches and reads a
survey; the public answering page checks the phone by SMS code, refuses a second answer and shows every invalid
answer next to its question; other regions' surveys are not found, other roles are refused."""

from __future__ import annotations

import io
import re

import pytest
from django.core.cache import cache
from django.test import Client
from openpyxl import load_workbook

from haochaping.accounts.models import Role, User
from haochaping.evaluation import sms
from haochaping.supervision.surveys import services
from haochaping.supervision.surveys.models import Survey, SurveyResponse
from tests.supervision.test_survey_services import answers, build, record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()  # the SMS code limits count in the cache
    yield
    cache.clear()


@pytest.fixture
def sms_file(tmp_path, settings):
    settings.HAOCHAPING_SMS_BACKEND = "haochaping.evaluation.sms.FileSender"
    settings.HAOCHAPING_SMS_FILE = str(tmp_path / "sms.jsonl")
    return tmp_path / "sms.jsonl"


@pytest.fixture
def supervisor(org):
    return User.objects.create(username="sup-1", role=Role.SUPERVISOR, region=org.county)


def signed_in(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_a_supervisor_builds_a_survey_through_the_pages(supervisor, org):
    c = signed_in(supervisor)
    assert "监督查评" in c.get("/work/supervision/").content.decode()
    r = c.post("/work/surveys/new/", {"title": "", "identity": "anonymous", "target_region": org.county.code})
    assert r.status_code == 422 and "请填写问卷标题" in text(r)
    r = c.post("/work/surveys/new/", {"title": "政策知悉度调查", "identity": "anonymous",
                                      "target_region": org.county.code})
    survey = Survey.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/work/surveys/{survey.pk}/"
    r = c.post(f"/work/surveys/{survey.pk}/", {"text": "您了解吗？", "kind": "single", "theme": "policy",
                                               "options": "了解", "required": "on"})
    assert r.status_code == 422 and "选择题至少需要2个选项" in text(r)
    c.post(f"/work/surveys/{survey.pk}/", {"text": "您了解吗？", "kind": "single", "theme": "policy",
                                           "options": "了解\n不了解", "required": "on"})
    c.post(f"/work/surveys/{survey.pk}/", {"text": "满意程度", "kind": "scale", "theme": "satisfaction",
                                           "scale_max": "5", "required": "on"})
    r = c.post(f"/work/surveys/{survey.pk}/launch/", follow=True)
    assert "问卷已发布" in text(r) and services.public_link(survey) in r.content.decode()
    qr = c.get(f"/work/surveys/{survey.pk}/qr.svg")
    assert qr.status_code == 200 and qr["Content-Type"].startswith("image/svg+xml") and b"<svg" in qr.content
    # A launched survey's questions cannot be added to: the page says why.
    r = c.post(f"/work/surveys/{survey.pk}/", {"text": "再加一题", "kind": "text", "theme": "other"})
    assert r.status_code == 422 and "修订为新版本" in text(r)
    r = c.post(f"/work/surveys/{survey.pk}/revise/")
    v2 = Survey.objects.get(previous=survey)
    assert r["Location"] == f"/work/surveys/{v2.pk}/"


def test_results_page_and_excel(supervisor, org, item, sms_file):
    survey = build(supervisor, org)
    services.submit_response(survey, answers(survey, "1", "3"), channel="web", phone="13900000001")
    c = signed_in(supervisor)
    r = c.get(f"/work/surveys/{survey.pk}/results/")
    assert r.status_code == 200 and "符合条件的答卷： 1 份" in text(r) and "<svg" in r.content.decode()
    assert c.get(f"/work/surveys/{survey.pk}/results/?channel=qr").context["total"] == 0
    r = c.get(f"/work/surveys/{survey.pk}/results/?format=xlsx&channel=web")
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert len(list(load_workbook(io.BytesIO(r.content))["答卷"].values)) == 2
    assert c.get(f"/work/surveys/{survey.pk}/results/?start=bad").status_code == 422


def test_other_regions_surveys_are_not_found_and_other_roles_refused(supervisor, org):
    survey = build(supervisor, org)
    far = User.objects.create(username="sup-far", role=Role.SUPERVISOR, region=org.other_county)
    for path in ("", "results/", "qr.svg"):
        assert signed_in(far).get(f"/work/surveys/{survey.pk}/{path}").status_code == 404
    assert signed_in(far).post(f"/work/surveys/{survey.pk}/revise/").status_code == 404
    assert "新版营业执照办理政策知悉度调查" not in signed_in(far).get("/work/surveys/").content.decode()
    handler = User.objects.create(username="h", role=Role.HANDLER, region=org.county, department=org.department)
    assert signed_in(handler).get("/work/surveys/").status_code == 403
    assert Client().get("/work/surveys/").status_code == 302  # to the login page


def test_the_open_link_checks_the_phone_then_takes_one_answer(supervisor, org, sms_file):
    survey = build(supervisor, org)
    link = f"/s/{survey.link_key}/?c=qr"
    c = Client()
    r = c.get(link)
    assert r.status_code == 200 and "获取验证码" in text(r)
    r = c.post(link, {"action": "code", "phone": "1234"})
    assert r.status_code == 422 and "手机号应为11位数字" in text(r)
    r = c.post(link, {"action": "code", "phone": "13900000001"})
    assert "验证码已发送至 139****0001" in text(r)
    code = sms.read_file_messages(sms_file)[-1]["text"].split("验证码为")[1][:6]
    r = c.post(link, {"action": "verify", "code": "000000" if code != "000000" else "111111"})
    assert r.status_code == 422 and "验证码不正确" in text(r)
    r = c.post(link, {"action": "verify", "code": code}, follow=True)
    assert "提交问卷" in text(r)
    q1, q2, _q3, _q4 = answers(survey)
    r = c.post(link, {"action": "answer", q2: "7"})
    page = text(r)
    assert r.status_code == 422 and "第1题为必答题，请作答" in page and "第2题的分数应为1至5之间的整数" in page
    assert not SurveyResponse.objects.exists()
    r = c.post(link, {"action": "answer", **answers(survey, "0", "5")})
    assert r.status_code == 200 and "问卷已提交，感谢您的参与" in text(r)
    assert SurveyResponse.objects.get().channel == "qr"
    # The same phone again, from another browser: refused at the code step, clearly.
    other = Client()
    r = other.post(link, {"action": "code", "phone": "13900000001"})
    assert r.status_code == 409 and "这个手机号已经提交过这份问卷，每人只能作答一次" in text(r)
    assert SurveyResponse.objects.count() == 1


def test_the_sms_link_answers_once(supervisor, org, item, sms_file):
    record(org, item, "13900000001")
    survey = build(supervisor, org, item)
    token = services.send_invitations(survey.pk, actor=supervisor).tokens[0]
    c = Client()
    assert c.get(f"/s/t/{token}/").status_code == 200
    r = c.post(f"/s/t/{token}/", {"action": "answer", **answers(survey)})
    assert "问卷已提交" in text(r) and SurveyResponse.objects.get().channel == "sms"
    r = c.post(f"/s/t/{token}/", {"action": "answer", **answers(survey)})
    assert r.status_code == 409 and "您已经提交过这份问卷，每人只能作答一次" in text(r)
    assert c.get("/s/t/forged-token/").status_code == 404
    assert SurveyResponse.objects.count() == 1


def test_drafts_are_not_public_and_closed_surveys_say_so(supervisor, org):
    draft = build(supervisor, org, launch=False)
    assert Client().get(f"/s/{draft.link_key}/").status_code == 404
    survey = build(supervisor, org)
    services.close(survey.pk, actor=supervisor)
    r = Client().get(f"/s/{survey.link_key}/")
    assert r.status_code == 410 and "这份问卷已结束" in text(r)


def test_codes_are_limited_per_phone(supervisor, org, sms_file):
    survey = build(supervisor, org)
    link = f"/s/{survey.link_key}/"
    for _ in range(3):
        assert Client().post(link, {"action": "code", "phone": "13900000005"}).status_code == 200
    r = Client().post(link, {"action": "code", "phone": "13900000005"})
    assert r.status_code == 429 and "获取验证码过于频繁，请稍后再试" in text(r)
    assert len(sms.read_file_messages(sms_file)) == 3
    assert Client().post(link, {"action": "code", "phone": "13900000006"}).status_code == 200
