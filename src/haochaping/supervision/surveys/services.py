"""监督查评 surveys' use cases: build and launch a survey, revise a launched one into a new version, close it,
send its SMS invitations, check the phone on an open link, and record one person's answers. Each is one
transaction and writes the audit; answers are validated by ``rules.parse_answers`` before anything is stored."""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from haochaping.accounts.roles import Role
from haochaping.catalog.models import ServiceItem
from haochaping.core import crypto
from haochaping.core.models import AuditEntry
from haochaping.core.problems import DomainError, conflict, invalid, not_found
from haochaping.core.scoping import scope
from haochaping.evaluation import sms
from haochaping.org.models import Region
from haochaping.records.models import RecordStatus, ServiceRecord

from . import rules
from .models import (
    Channel,
    Identity,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyStatus,
)

log = logging.getLogger(__name__)

TOKEN_BYTES = 24
CODE_TTL = timedelta(minutes=10)
CODE_TRIES = 5
SMS_LIMIT = 5000  # invitations per send: a larger target is narrowed (period, item, region) first


def may_manage(user) -> bool:
    return bool(user and user.is_active and (user.is_superuser or getattr(user, "role", None) == Role.SUPERVISOR))


def _forbidden() -> DomainError:
    return DomainError(403, _("权限不足"), _("只有政务服务管理机构的监督人员可以管理监督查评问卷"), code="forbidden")


def _audit(actor, action: str, survey: Survey, **data) -> None:
    AuditEntry.objects.create(actor=getattr(actor, "username", None) or "system", action=f"survey.{action}",
                              object_type="supervision.Survey", object_id=str(survey.pk), data=data)


def visible_surveys(actor):
    return scope(Survey.objects.all(), actor)


def _survey_for(actor, survey_id, *, lock=True) -> Survey:
    if not may_manage(actor):
        raise _forbidden()
    qs = visible_surveys(actor)
    survey = (qs.select_for_update() if lock else qs).filter(pk=survey_id).first()
    if survey is None:
        raise not_found(_("没有这份问卷"), "survey")
    return survey


def _draft(actor, survey_id) -> Survey:
    survey = _survey_for(actor, survey_id)
    if survey.status != SurveyStatus.DRAFT:
        raise conflict(_("已发布的问卷不能修改题目和范围；请“修订为新版本”后修改，已收到的答卷留在原版本"), "survey")
    return survey


@dataclass
class SurveyInput:
    title: str
    target_region: str
    description: str = ""
    identity: str = Identity.ANONYMOUS
    target_item: int | None = None
    completed_from: date | None = None
    completed_to: date | None = None


def _checked(actor, data: SurveyInput) -> dict:
    title = (data.title or "").strip()
    if not title:
        raise invalid(_("请填写问卷标题"), "title")
    if len(title) > 200:
        raise invalid(_("问卷标题不能超过200字"), "title")
    if data.identity not in Identity.values:
        raise invalid(_("请选择作答方式"), "identity")
    region = scope(Region.objects.all(), actor).filter(pk=data.target_region).first()
    if region is None:
        raise invalid(_("调查范围应为您所辖的行政区划"), "target_region")
    item = None
    if data.target_item:
        item = ServiceItem.objects.filter(pk=data.target_item).first()
        if item is None:
            raise invalid(_("没有这个事项"), "target_item")
    if (data.completed_from is None) != (data.completed_to is None):
        raise invalid(_("办结日期起止应同时填写"), "completed_to")
    if data.completed_from and data.completed_to < data.completed_from:
        raise invalid(_("办结日期止不能早于办结日期起"), "completed_to")
    if data.completed_from and item is None:
        raise invalid(_("按办结期间定向时须选择事项"), "target_item")
    return {"title": title, "description": (data.description or "").strip()[:5000], "identity": data.identity,
            "target_region": region, "target_item": item, "completed_from": data.completed_from,
            "completed_to": data.completed_to}


def create_survey(data: SurveyInput, *, actor, now=None) -> Survey:
    if not may_manage(actor):
        raise _forbidden()
    values = _checked(actor, data)
    with transaction.atomic():
        survey = Survey.objects.create(region_id=actor.region_id or values["target_region"].pk, created_by=actor,
                                       created_at=now or timezone.now(), link_key=secrets.token_urlsafe(12), **values)
        _audit(actor, "create", survey)
    return survey


def update_survey(survey_id: int, data: SurveyInput, *, actor) -> Survey:
    values = _checked(actor, data)
    with transaction.atomic():
        survey = _draft(actor, survey_id)
        for name, value in values.items():
            setattr(survey, name, value)
        survey.save()
        _audit(actor, "update", survey)
    return survey


@dataclass
class QuestionInput:
    kind: str
    text: str
    theme: str = rules.Theme.SATISFACTION
    required: bool = True
    options: list[str] = field(default_factory=list)
    scale_max: int | None = 5


def add_question(survey_id: int, data: QuestionInput, *, actor) -> SurveyQuestion:
    errors = rules.question_errors(data.kind, data.text or "", data.options, data.scale_max)
    if data.theme not in rules.Theme.values:
        errors["theme"] = _("请选择主题")
    if errors:
        name, message = next(iter(errors.items()))
        raise invalid(message, name, errors=errors)
    with transaction.atomic():
        survey = _draft(actor, survey_id)
        position = (survey.questions.aggregate(m=Max("position"))["m"] or 0) + 1
        choice = data.kind in (rules.Kind.SINGLE, rules.Kind.MULTIPLE)
        question = SurveyQuestion.objects.create(
            survey=survey, position=position, kind=data.kind, theme=data.theme, text=data.text.strip(),
            required=data.required, options=[o.strip() for o in data.options if o.strip()] if choice else [],
            scale_max=data.scale_max if data.kind == rules.Kind.SCALE else 5)
        _audit(actor, "question.add", survey, question=question.pk)
    return question


def remove_question(survey_id: int, question_id: int, *, actor) -> None:
    with transaction.atomic():
        survey = _draft(actor, survey_id)
        deleted, _rows = survey.questions.filter(pk=question_id).delete()
        if not deleted:
            raise not_found(_("问卷中没有这道题"), "question")
        for n, q in enumerate(survey.questions.order_by("position"), start=1):
            if q.position != n:
                SurveyQuestion.objects.filter(pk=q.pk).update(position=n)
        _audit(actor, "question.remove", survey, question=question_id)


def launch(survey_id: int, *, actor, now=None) -> Survey:
    """Publish a draft: its questions freeze; the version it revises (if any) closes."""
    now = now or timezone.now()
    with transaction.atomic():
        survey = _draft(actor, survey_id)
        if not survey.questions.exists():
            raise invalid(_("问卷至少需要一道题才能发布"), "questions")
        survey.status, survey.launched_at = SurveyStatus.LAUNCHED, now
        survey.save(update_fields=["status", "launched_at"])
        if survey.previous_id:
            Survey.objects.filter(pk=survey.previous_id, status=SurveyStatus.LAUNCHED).update(
                status=SurveyStatus.CLOSED, closed_at=now)
        _audit(actor, "launch", survey)
    return survey


def revise(survey_id: int, *, actor, now=None) -> Survey:
    """The next version of a launched (or closed) survey as a draft with the same questions and targeting; the
    old version keeps its answers and stays open until the new one is launched. A second revise returns the
    draft already made."""
    with transaction.atomic():
        survey = _survey_for(actor, survey_id)
        if survey.status == SurveyStatus.DRAFT:
            raise conflict(_("草稿可以直接修改，无需修订"), "survey")
        existing = Survey.objects.filter(previous=survey).first()
        if existing is not None:
            return existing
        copy = Survey.objects.create(
            region_id=survey.region_id, title=survey.title, description=survey.description, identity=survey.identity,
            target_region_id=survey.target_region_id, target_item_id=survey.target_item_id,
            completed_from=survey.completed_from, completed_to=survey.completed_to, version=survey.version + 1,
            previous=survey, link_key=secrets.token_urlsafe(12), created_by=actor, created_at=now or timezone.now())
        SurveyQuestion.objects.bulk_create([
            SurveyQuestion(survey=copy, position=q.position, kind=q.kind, theme=q.theme, text=q.text,
                           required=q.required, options=q.options, scale_max=q.scale_max)
            for q in survey.questions.order_by("position")])
        _audit(actor, "revise", copy, previous=survey.pk)
    return copy


def close(survey_id: int, *, actor, now=None) -> Survey:
    with transaction.atomic():
        survey = _survey_for(actor, survey_id)
        if survey.status != SurveyStatus.LAUNCHED:
            raise conflict(_("只有已发布的问卷可以结束"), "survey")
        survey.status, survey.closed_at = SurveyStatus.CLOSED, now or timezone.now()
        survey.save(update_fields=["status", "closed_at"])
        _audit(actor, "close", survey)
    return survey


# ---- distribution ----------------------------------------------------------------------------------------------

def token_hash(token: str) -> str:
    return crypto.sm3_hex(f"survey-invitation:{token}".encode())


def public_link(survey: Survey) -> str:
    return f"{settings.HAOCHAPING_PUBLIC_URL}/s/{survey.link_key}/"


def invitation_link(token: str) -> str:
    return f"{settings.HAOCHAPING_PUBLIC_URL}/s/t/{token}/"


def target_records(survey: Survey):
    """The completed 办件 of the survey's target (region subtree, item, completion period) that have a phone."""
    qs = ServiceRecord.objects.filter(status=RecordStatus.COMPLETED, region__in=Region.objects.subtree(
        survey.target_region_id)).exclude(applicant_phone_index="")
    if survey.target_item_id:
        qs = qs.filter(item_id=survey.target_item_id)
    if survey.completed_from:
        tz = timezone.get_current_timezone()
        qs = qs.filter(completed_at__gte=timezone.make_aware(datetime.combine(survey.completed_from, time.min), tz),
                       completed_at__lt=timezone.make_aware(
                           datetime.combine(survey.completed_to + timedelta(days=1), time.min), tz))
    return qs


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0
    already: int = 0  # people invited before (one invitation per phone and version)
    tokens: list[str] = field(default_factory=list)  # clear tokens of this run (tests and the shell only)


def send_invitations(survey_id: int, *, actor=None, now=None) -> SendResult:
    """SMS a personal link to each person of the target (one per phone; those invited before are skipped).
    Each invitation row is written before its message is sent; a failed send stays recorded as failed."""
    now = now or timezone.now()
    survey = (_survey_for(actor, survey_id, lock=False) if actor is not None
              else Survey.objects.filter(pk=survey_id).first())
    if survey is None:
        raise not_found(_("没有这份问卷"), "survey")
    if survey.status != SurveyStatus.LAUNCHED:
        raise conflict(_("问卷发布后才能发送短信邀请"), "survey")
    result = SendResult()
    invited = set(survey.invitations.values_list("phone_index", flat=True))
    seen: set[str] = set()
    records = (target_records(survey).select_related("item").order_by("-completed_at", "pk")
               .only("id", "applicant_phone", "applicant_phone_index", "region_id", "item_id", "item__name"))
    for record in records.iterator(chunk_size=1000):
        index = record.applicant_phone_index
        if index in seen:
            continue
        seen.add(index)
        if index in invited:
            result.already += 1
            continue
        if result.sent + result.failed >= SMS_LIMIT:
            break
        token = secrets.token_urlsafe(TOKEN_BYTES)
        try:
            with transaction.atomic():
                invitation = SurveyInvitation.objects.create(
                    survey=survey, token_hash=token_hash(token), record=record, phone_index=index,
                    region_id=record.region_id, item_id=record.item_id, sent_at=now)
        except IntegrityError:  # another run invited this phone meanwhile
            result.already += 1
            continue
        text = _("【政务服务好差评】您好，%(title)s，邀请您参加问卷调查：%(link)s") % {
            "title": survey.title, "link": invitation_link(token)}
        outcome = sms.send(record.applicant_phone.reveal(), text)
        if outcome.ok:
            SurveyInvitation.objects.filter(pk=invitation.pk).update(sent_ok=True)
            result.sent += 1
            result.tokens.append(token)
        else:
            result.failed += 1
    with transaction.atomic():
        _audit(actor, "send", survey, sent=result.sent, failed=result.failed, already=result.already)
    return result


def invitation_for(token: str) -> SurveyInvitation | None:
    if not token or len(token) > 100:
        return None
    return (SurveyInvitation.objects.select_related("survey", "record").filter(token_hash=token_hash(token)).first())


def open_survey(link_key: str) -> Survey | None:
    if not link_key or len(link_key) > 32:
        return None
    return Survey.objects.filter(link_key=link_key).first()


# ---- the open link's phone check -------------------------------------------------------------------------------

def normalise_phone(phone: str) -> str:
    value = "".join((phone or "").split())
    if not (len(value) == 11 and value.isdigit() and value.startswith("1")):
        raise invalid(_("手机号应为11位数字，以1开头"), "phone")
    return value


def code_digest(survey: Survey, phone: str, code: str) -> str:
    return crypto.sm3_hex(f"survey-code:{survey.pk}:{phone}:{code}:{settings.SECRET_KEY}".encode())


def send_code(survey: Survey, phone: str) -> str:
    """Text a six-digit code to the phone; returns the digest the page keeps (in its signed session) to check it."""
    phone = normalise_phone(phone)
    if survey.status != SurveyStatus.LAUNCHED:
        raise conflict(_("这份问卷目前不接受作答"), "survey")
    if SurveyResponse.objects.filter(survey=survey, phone_index=crypto.blind_index(phone, kind="phone")).exists():
        raise conflict(_("这个手机号已经提交过这份问卷，每人只能作答一次"), "phone")
    code = f"{secrets.randbelow(1_000_000):06d}"
    outcome = sms.send(phone, _("【政务服务好差评】您的问卷验证码为%(code)s，10分钟内有效。") % {"code": code})
    if not outcome.ok:
        raise DomainError(503, _("短信发送失败"), _("验证码短信发送失败，请稍后再试"), "phone", code="unavailable")
    return code_digest(survey, phone, code)


def code_matches(survey: Survey, phone: str, code: str, digest: str) -> bool:
    return bool(digest) and hmac.compare_digest(code_digest(survey, phone, (code or "").strip()), digest)


# ---- answers ---------------------------------------------------------------------------------------------------

def questions_of(survey: Survey) -> list[rules.Question]:
    return [rules.Question(q.pk, q.kind, q.text, q.required, tuple(q.options), q.scale_max)
            for q in survey.questions.order_by("position")]


def _already() -> DomainError:
    return conflict(_("您已经提交过这份问卷，每人只能作答一次，感谢您的参与"), "survey")


def submit_response(survey: Survey, data: dict[str, list[str]], *, channel: str,
                    invitation: SurveyInvitation | None = None, phone: str = "", name: str = "",
                    now=None) -> SurveyResponse:
    """Record one person's answers (one transaction). ``invitation`` for a personal SMS link; otherwise ``phone``
    is the number the open link verified. Refused: a survey not launched, a second answer by the same invitation
    or phone (409), any invalid answer or a real-name survey without the name (422, naming the field)."""
    now = now or timezone.now()
    if survey.status != SurveyStatus.LAUNCHED:
        raise conflict(_("这份问卷目前不接受作答"), "survey")
    if channel not in Channel.values:
        raise invalid(_("渠道无效"), "channel")
    if invitation is None and not phone:
        raise invalid(_("请先验证手机号"), "phone")
    answers, errors = rules.parse_answers(questions_of(survey), data)
    name = (name or "").strip()
    if survey.identity == Identity.REAL_NAME and not name:
        errors = {"respondent_name": _("本问卷为实名调查，请填写姓名"), **errors}
    elif len(name) > 50:
        errors = {"respondent_name": _("姓名不能超过50字"), **errors}
    if errors:
        first = next(iter(errors))
        raise invalid(errors[first], first, errors=errors)
    record = invitation.record if invitation is not None else None
    if invitation is not None:
        index = invitation.phone_index
    else:
        phone = normalise_phone(phone)
        index = crypto.blind_index(phone, kind="phone")
    real = survey.identity == Identity.REAL_NAME
    try:
        with transaction.atomic():
            if invitation is not None and SurveyResponse.objects.filter(invitation=invitation).exists():
                raise _already()
            if SurveyResponse.objects.filter(survey=survey, phone_index=index).exists():
                raise _already()
            response = SurveyResponse.objects.create(
                survey=survey, invitation=invitation, channel=channel, phone_index=index,
                respondent_name=name if real else None,
                respondent_phone=(record.applicant_phone.reveal() if record is not None and record.applicant_phone
                                  else phone or None) if real else None,
                region_id=record.region_id if record is not None else survey.target_region_id,
                item_id=record.item_id if record is not None else survey.target_item_id,
                department_id=record.department_id if record is not None else None, submitted_at=now)
            SurveyAnswer.objects.bulk_create([
                SurveyAnswer(response=response, question_id=a.question_id, choices=a.choices, scale=a.scale,
                             text=a.text) for a in answers])
            AuditEntry.objects.create(actor="public", action="survey.answer", object_type="supervision.Survey",
                                      object_id=str(survey.pk), data={"response": response.pk, "channel": channel})
    except IntegrityError as exc:  # the same person, twice at once
        raise _already() from exc
    return response
from .results import survey_scores  # noqa: E402,F401 - for the appraisal indicators (results reads answers)
