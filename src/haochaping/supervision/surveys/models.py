"""Tables of 监督查评 surveys: the survey (one row per version), its questions, the invitations sent, and the answers
received."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from haochaping.core.fields import PersonalDataField
from haochaping.core.scoping import ScopePaths

from .rules import Kind, Theme


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    LAUNCHED = "launched", _("已发布")
    CLOSED = "closed", _("已结束")


class Identity(models.TextChoices):
    ANONYMOUS = "anonymous", _("匿名")
    REAL_NAME = "real_name", _("实名")


class Channel(models.TextChoices):
    SMS = "sms", _("短信链接")
    QR = "qr", _("二维码")
    WEB = "web", _("网页链接")


class Survey(models.Model):
    """One version of a survey. A launched version's questions are frozen; ``revise`` copies it into the next
    version (``previous``), and launching that closes this one. Answers stay with the version they answered."""

    scope_paths = ScopePaths(region=("region_id",))

    region = models.ForeignKey("org.Region", verbose_name=_("发起单位所在区划"), on_delete=models.PROTECT,
                               related_name="+")
    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    identity = models.CharField(_("作答方式"), max_length=10, choices=Identity.choices, default=Identity.ANONYMOUS)
    # Targeting: the region subtree, optionally an item, optionally the people who completed it in a period.
    target_region = models.ForeignKey("org.Region", verbose_name=_("调查范围"), on_delete=models.PROTECT,
                                      related_name="+")
    target_item = models.ForeignKey("catalog.ServiceItem", verbose_name=_("调查事项"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    completed_from = models.DateField(_("办结日期起"), null=True, blank=True)
    completed_to = models.DateField(_("办结日期止"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT)
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    previous = models.OneToOneField("self", verbose_name=_("上一版本"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="next_version")
    # The open link's key (web and QR): random, so surveys cannot be enumerated.
    link_key = models.CharField(max_length=32, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("创建人"), on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("创建时间"))
    launched_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("监督查评问卷")
        verbose_name_plural = _("监督查评问卷")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.title}（第{self.version}版）"


class SurveyQuestion(models.Model):
    scope_paths = ScopePaths(region=("survey__region_id",))

    survey = models.ForeignKey(Survey, verbose_name=_("问卷"), on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(_("序号"))
    kind = models.CharField(_("题型"), max_length=10, choices=Kind.choices)
    theme = models.CharField(_("主题"), max_length=15, choices=Theme.choices, default=Theme.SATISFACTION)
    text = models.CharField(_("题目"), max_length=500)
    required = models.BooleanField(_("必答"), default=True)
    options = models.JSONField(_("选项"), default=list, blank=True)
    scale_max = models.PositiveSmallIntegerField(_("量表最高分"), default=5)

    class Meta:
        verbose_name = _("问卷题目")
        verbose_name_plural = _("问卷题目")
        ordering = ["survey_id", "position"]
        constraints = [models.UniqueConstraint(fields=["survey", "position"], name="survey_question_position")]

    def __str__(self) -> str:
        return self.text


class SurveyInvitation(models.Model):
    """A personal link sent by SMS to someone who completed the targeted item: only the token's hash is kept."""

    scope_paths = ScopePaths(region=("survey__region_id",))

    survey = models.ForeignKey(Survey, verbose_name=_("问卷"), on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    record = models.ForeignKey("records.ServiceRecord", verbose_name=_("办件"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    phone_index = models.CharField(max_length=64, editable=False)
    region = models.ForeignKey("org.Region", verbose_name=_("行政区划"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey("catalog.ServiceItem", verbose_name=_("事项"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    sent_ok = models.BooleanField(_("发送成功"), default=False)
    sent_at = models.DateTimeField(_("发送时间"))

    class Meta:
        verbose_name = _("问卷邀请")
        verbose_name_plural = _("问卷邀请")
        constraints = [models.UniqueConstraint(fields=["survey", "phone_index"], name="survey_invitation_once")]

    def __str__(self) -> str:
        return f"{self.survey_id}:{self.pk}"


class SurveyResponse(models.Model):
    """One person's answers to one version. Once per invitation, and once per verified phone on open links."""

    scope_paths = ScopePaths(region=("survey__region_id",))

    survey = models.ForeignKey(Survey, verbose_name=_("问卷"), on_delete=models.PROTECT, related_name="responses")
    invitation = models.OneToOneField(SurveyInvitation, verbose_name=_("邀请"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="response")
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    phone_index = models.CharField(max_length=64, blank=True, editable=False)
    respondent_name = PersonalDataField(_("答卷人姓名"), kind="name")
    respondent_phone = PersonalDataField(_("答卷人手机号"), kind="phone")
    region = models.ForeignKey("org.Region", verbose_name=_("行政区划"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey("catalog.ServiceItem", verbose_name=_("事项"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey("org.Department", verbose_name=_("单位"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("提交时间"), db_index=True)

    class Meta:
        verbose_name = _("问卷答卷")
        verbose_name_plural = _("问卷答卷")
        ordering = ["-submitted_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["survey", "phone_index"], condition=~Q(phone_index=""),
                                               name="survey_response_once_per_phone")]

    def __str__(self) -> str:
        return f"{self.survey_id}:{self.pk}"


class SurveyAnswer(models.Model):
    scope_paths = ScopePaths(region=("response__survey__region_id",))

    response = models.ForeignKey(SurveyResponse, verbose_name=_("答卷"), on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(SurveyQuestion, verbose_name=_("题目"), on_delete=models.PROTECT, related_name="answers")
    choices = models.JSONField(_("所选选项"), default=list, blank=True)
    scale = models.PositiveSmallIntegerField(_("分数"), null=True, blank=True)
    text = models.TextField(_("文字回答"), blank=True)

    class Meta:
        verbose_name = _("答题")
        verbose_name_plural = _("答题")
        constraints = [models.UniqueConstraint(fields=["response", "question"], name="survey_answer_once")]

    def __str__(self) -> str:
        return f"{self.response_id}:{self.question_id}"
