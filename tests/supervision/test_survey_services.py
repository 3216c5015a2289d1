"""监督查评 surveys through their services, on the real database: building and launching, frozen questions and
new versions, SMS invitations to the people who completed an item, answers once per person, invalid answers
refused with nothing stored, results, the Excel export and ``survey_scores``."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from haochaping.accounts.models import Role, User
from haochaping.core import crypto
from haochaping.core.problems import DomainError
from haochaping.evaluation import sms
from haochaping.supervision.surveys import results, services
from haochaping.supervision.surveys.models import (
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    SurveyStatus,
)
from haochaping.supervision.surveys.rules import Kind, Theme
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def sms_file(tmp_path, settings):
    settings.HAOCHAPING_SMS_BACKEND = "haochaping.evaluation.sms.FileSender"
    settings.HAOCHAPING_SMS_FILE = str(tmp_path / "sms.jsonl")
    return tmp_path / "sms.jsonl"


@pytest.fixture
def supervisor(org):
    return User.objects.create(username="sup-1", role=Role.SUPERVISOR, region=org.county)


def build(supervisor, org, item=None, *, identity="anonymous", launch=True, **kw) -> Survey:
    survey = services.create_survey(services.SurveyInput(
        title="新版营业执照办理政策知悉度调查", target_region=org.county.code, identity=identity,
        target_item=item.pk if item else None, **kw), actor=supervisor)
    services.add_question(survey.pk, services.QuestionInput(Kind.SINGLE, "您是否了解新政策？", Theme.POLICY,
                                                            options=["了解", "听说过", "不了解"]), actor=supervisor)
    services.add_question(survey.pk, services.QuestionInput(Kind.SCALE, "您对办事服务的满意程度", Theme.SATISFACTION,
                                                            scale_max=5), actor=supervisor)
    services.add_question(survey.pk, services.QuestionInput(Kind.MULTIPLE, "哪些环节最方便？", Theme.CONVENIENCE,
                                                            required=False, options=["预约", "受理", "取件"]),
                          actor=supervisor)
    services.add_question(survey.pk, services.QuestionInput(Kind.TEXT, "您的建议", Theme.OTHER, required=False),
                          actor=supervisor)
    if launch:
        services.launch(survey.pk, actor=supervisor)
        survey.refresh_from_db()
    return survey


def qids(survey):
    return list(survey.questions.order_by("position").values_list("pk", flat=True))


def answers(survey, single="0", scale="4", multiple=(), text=""):
    q1, q2, q3, q4 = qids(survey)
    return {f"q{q1}": [single], f"q{q2}": [scale], f"q{q3}": list(multiple), f"q{q4}": [text]}


def record(org, item, phone, *, completed_days_ago=3):
    when = timezone.now() - timedelta(days=completed_days_ago)
    return factories.make_record(org, item, accepted_at=when - timedelta(hours=1), applicant_phone=phone,
                                 applicant_phone_index=crypto.blind_index(phone, kind="phone"))


def test_a_supervisor_builds_and_launches_a_survey(supervisor, org):
    survey = build(supervisor, org)
    assert survey.status == SurveyStatus.LAUNCHED and survey.version == 1 and survey.region == org.county
    assert [q.kind for q in survey.questions.order_by("position")] == ["single", "scale", "multiple", "text"]


def test_a_survey_without_questions_cannot_be_launched(supervisor, org):
    survey = services.create_survey(services.SurveyInput(title="空问卷", target_region=org.county.code),
                                    actor=supervisor)
    with pytest.raises(DomainError) as exc:
        services.launch(survey.pk, actor=supervisor)
    assert exc.value.status == 422 and exc.value.field == "questions"


@pytest.mark.parametrize(("data", "field"), [
    ({"title": " "}, "title"),
    ({"target_region": "370103"}, "target_region"),  # not the supervisor's region
    ({"identity": "both"}, "identity"),
])
def test_bad_survey_input_names_the_field(supervisor, org, data, field):
    values = {"title": "调查", "target_region": org.county.code, **data}
    with pytest.raises(DomainError) as exc:
        services.create_survey(services.SurveyInput(**values), actor=supervisor)
    assert exc.value.field == field and not Survey.objects.exists()


def test_only_supervisors_manage_surveys(org):
    handler = User.objects.create(username="h", role=Role.HANDLER, region=org.county, department=org.department)
    with pytest.raises(DomainError) as exc:
        services.create_survey(services.SurveyInput(title="调查", target_region=org.county.code), actor=handler)
    assert exc.value.status == 403


def test_a_launched_surveys_questions_cannot_change_a_revision_is_a_new_version(supervisor, org):
    survey = build(supervisor, org)
    services.submit_response(survey, answers(survey), channel="web", phone="13900000001")
    with pytest.raises(DomainError) as exc:
        services.add_question(survey.pk, services.QuestionInput(Kind.TEXT, "新增题目"), actor=supervisor)
    assert exc.value.status == 409
    with pytest.raises(DomainError):
        services.remove_question(survey.pk, qids(survey)[0], actor=supervisor)
    assert survey.questions.count() == 4

    v2 = services.revise(survey.pk, actor=supervisor)
    assert (v2.version, v2.previous_id, v2.status) == (2, survey.pk, SurveyStatus.DRAFT)
    assert services.revise(survey.pk, actor=supervisor).pk == v2.pk  # a second revise: the same draft
    services.add_question(v2.pk, services.QuestionInput(Kind.TEXT, "新增题目", required=False), actor=supervisor)
    services.remove_question(v2.pk, qids(v2)[0], actor=supervisor)
    assert [q.text for q in v2.questions.order_by("position")][-1] == "新增题目"
    services.launch(v2.pk, actor=supervisor)
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.CLOSED
    # The old answers stay with the old version, its questions unchanged.
    assert SurveyResponse.objects.get().survey_id == survey.pk and survey.questions.count() == 4
    with pytest.raises(DomainError) as exc:
        services.submit_response(survey, answers(survey), channel="web", phone="13900000002")
    assert exc.value.status == 409


def test_sms_invitations_go_to_each_person_who_completed_the_item_in_the_period(supervisor, org, item, sms_file):
    other_item = factories.make_item(org, name="其他事项")
    record(org, item, "13900000001")
    record(org, item, "13900000001")  # the same person twice: one message
    record(org, item, "13900000002")
    record(org, item, "13900000003", completed_days_ago=40)  # outside the period
    record(org, other_item, "13900000004")  # another item
    today = timezone.localdate()
    survey = build(supervisor, org, item, completed_from=today - timedelta(days=10), completed_to=today)
    sent = services.send_invitations(survey.pk, actor=supervisor)
    assert (sent.sent, sent.failed, sent.already) == (2, 0, 0)
    messages = sms.read_file_messages(sms_file)
    assert sorted(m["phone"] for m in messages) == ["139****0001", "139****0002"]
    assert all("/s/t/" in m["text"] and survey.title in m["text"] for m in messages)
    again = services.send_invitations(survey.pk, actor=supervisor)
    assert (again.sent, again.already) == (0, 2) and SurveyInvitation.objects.count() == 2


def test_an_invited_person_answers_once_and_a_second_answer_is_refused(supervisor, org, item, sms_file):
    record(org, item, "13900000001")
    survey = build(supervisor, org, item)
    token = services.send_invitations(survey.pk, actor=supervisor).tokens[0]
    invitation = services.invitation_for(token)
    response = services.submit_response(survey, answers(survey, multiple=["0", "2"], text="多开窗口"), channel="sms",
                                        invitation=invitation)
    assert (response.channel, response.item_id, response.department_id, response.region_id) == (
        "sms", item.pk, org.department.pk, org.county.pk)
    assert response.respondent_name is None and response.respondent_phone is None  # anonymous
    with pytest.raises(DomainError) as exc:
        services.submit_response(survey, answers(survey), channel="sms", invitation=invitation)
    assert exc.value.status == 409 and "只能作答一次" in exc.value.detail
    # The same person through the open web link is the same person.
    with pytest.raises(DomainError) as exc:
        services.submit_response(survey, answers(survey), channel="web", phone="13900000001")
    assert exc.value.status == 409
    assert SurveyResponse.objects.count() == 1 and SurveyAnswer.objects.count() == 4


def test_invalid_answers_name_every_field_and_store_nothing(supervisor, org):
    survey = build(supervisor, org)
    q1, q2, _q3, _q4 = qids(survey)
    with pytest.raises(DomainError) as exc:
        services.submit_response(survey, {f"q{q2}": ["9"]}, channel="web", phone="13900000001")
    assert exc.value.status == 422
    assert exc.value.extra["errors"] == {f"q{q1}": "第1题为必答题，请作答", f"q{q2}": "第2题的分数应为1至5之间的整数"}
    assert not SurveyResponse.objects.exists() and not SurveyAnswer.objects.exists()
    with pytest.raises(DomainError) as exc:
        services.submit_response(survey, answers(survey), channel="web", phone="12345")
    assert exc.value.field == "phone"


def test_a_real_name_survey_needs_the_name_and_keeps_name_and_phone_sealed(supervisor, org):
    survey = build(supervisor, org, identity="real_name")
    with pytest.raises(DomainError) as exc:
        services.submit_response(survey, answers(survey), channel="web", phone="13900000001")
    assert exc.value.field == "respondent_name"
    response = services.submit_response(survey, answers(survey), channel="qr", phone="13900000001", name="王小二")
    assert str(response.respondent_name) == "王*二" and str(response.respondent_phone) == "139****0001"
    assert response.respondent_phone.reveal() == "13900000001"


def test_the_open_links_code_check(supervisor, org, sms_file):
    survey = build(supervisor, org)
    digest = services.send_code(survey, "139 0000 0001")
    code = sms.read_file_messages(sms_file)[-1]["text"].split("验证码为")[1][:6]
    assert services.code_matches(survey, "13900000001", code, digest)
    assert not services.code_matches(survey, "13900000001", "000000" if code != "000000" else "111111", digest)
    assert not services.code_matches(survey, "13900000002", code, digest)
    services.submit_response(survey, answers(survey), channel="web", phone="13900000001")
    with pytest.raises(DomainError) as exc:
        services.send_code(survey, "13900000001")
    assert exc.value.status == 409 and exc.value.field == "phone"


def _answered(supervisor, org, item):
    record(org, item, "13900000001")
    record(org, item, "13900000002")
    survey = build(supervisor, org, item)
    tokens = services.send_invitations(survey.pk, actor=supervisor).tokens
    services.submit_response(survey, answers(survey, "0", "5", ["0"]), channel="sms",
                             invitation=services.invitation_for(tokens[0]))
    services.submit_response(survey, answers(survey, "2", "2", ["0", "1"], "排队太久"), channel="sms",
                             invitation=services.invitation_for(tokens[1]))
    services.submit_response(survey, answers(survey, "0", "4"), channel="qr", phone="13900000009")
    return survey


def test_results_tally_each_question_under_the_filters(supervisor, org, item, sms_file):
    survey = _answered(supervisor, org, item)
    total, rows = results.summary(survey)
    assert total == 3
    assert rows[0].options == [("了解", 2), ("听说过", 0), ("不了解", 1)]
    assert rows[1].distribution == [("1", 0), ("2", 1), ("3", 0), ("4", 1), ("5", 1)]
    assert rows[1].mean == pytest.approx(11 / 3) and rows[1].score == pytest.approx((11 / 3 - 1) * 25)
    assert rows[2].options == [("预约", 2), ("受理", 1), ("取件", 0)]
    assert rows[3].texts == ["排队太久"]
    assert "<svg" in rows[0].chart and "了解" in rows[0].chart
    total, rows = results.summary(survey, results.Filters(channel="qr"))
    assert total == 1 and rows[0].options[0] == ("了解", 1)
    total, _rows = results.summary(survey, results.Filters(region=org.other_county.code))
    assert total == 0


def test_the_excel_export_has_a_row_per_response_and_the_tallies(supervisor, org, item, sms_file):
    survey = _answered(supervisor, org, item)
    book = load_workbook(io.BytesIO(results.export_xlsx(survey)))
    rows = list(book["答卷"].values)
    assert rows[0][4:] == ("1. 您是否了解新政策？", "2. 您对办事服务的满意程度", "3. 哪些环节最方便？", "4. 您的建议")
    assert sorted(r[4:] for r in rows[1:]) == sorted([
        ("了解", 5, "预约", None), ("不了解", 2, "预约；受理", "排队太久"), ("了解", 4, None, None)])
    assert list(book["统计"].values)[0][:2] == ("答卷数", 3)


def test_survey_scores_are_the_mean_satisfaction_per_unit_on_0_to_100(supervisor, org, item, sms_file):
    survey = _answered(supervisor, org, item)
    today = timezone.localdate()
    other = factories.department(org.county, name="另一个单位")
    scores = services.survey_scores([org.department.pk, other.pk], today - timedelta(days=1), today)
    # The two invited answers name the unit (5 → 100, 2 → 25); the open-link one names none.
    assert scores == {org.department.pk: pytest.approx(62.5), other.pk: None}
    assert services.survey_scores([org.department.pk], today - timedelta(days=30), today - timedelta(days=2)) == {
        org.department.pk: None}
    # The appraisal reads the same figure through its source registry (units without answers left out).
    from haochaping.supervision.appraisal import sources

    assert sources.REGISTRY["survey_scores"].fn([org.department.pk, other.pk], today - timedelta(days=1), today) == {
        org.department.pk: pytest.approx(62.5)}
    assert survey.pk
