"""Evaluations: immutable once written (R3.4, R3.8, R8.4)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from haochaping.core import pruning
from haochaping.core.fields import PersonalDataField
from haochaping.core.scoping import ScopePaths
from haochaping.records.models import Stage


class Channel(models.TextChoices):
    PC = "pc", _("PC端")
    MOBILE = "mobile", _("移动端")
    QR = "qr", _("二维码")
    KIOSK = "kiosk", _("评价器")
    TERMINAL = "terminal", _("自助终端")
    PHONE = "phone", _("电话")
    SMS = "sms", _("短信")
    PAPER = "paper", _("书面评价表")
    # Imported "system default" evaluations some provinces create (R8.4): kept apart, never satisfaction.
    SYSTEM_DEFAULT = "system_default", _("系统默认评价（导入）")


class EvaluationType(models.TextChoices):
    ACTIVE = "active", _("主动评价")
    FOLLOWUP = "followup", _("追加评价")


class Label(models.Model):
    """A coded reason from the national label dictionary; the first digit of the code is the level."""

    code = models.CharField(_("标签代码"), max_length=3, primary_key=True)
    text = models.CharField(_("标签内容"), max_length=100)
    level = models.PositiveSmallIntegerField(_("对应等级"))
    is_active = models.BooleanField(_("在用"), default=True)

    class Meta:
        verbose_name = _("评价标签")
        verbose_name_plural = _("评价标签")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.text}"


class ImmutableEvaluationError(Exception):
    """Evaluations are never updated or deleted; status changes are separate rows."""


class EvaluationQuerySet(pruning.MonthPruning, models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableEvaluationError("evaluations are never updated")

    def delete(self):
        raise ImmutableEvaluationError("evaluations are never deleted")

    def countable(self) -> EvaluationQuerySet:
        """Evaluations that count toward satisfaction: not imported defaults (R8.4), not excluded (R7.3)."""
        return self.exclude(channel=Channel.SYSTEM_DEFAULT).filter(exclusion__isnull=True)

    def excluded(self) -> EvaluationQuerySet:
        """Evaluations removed from statistics by an upheld appeal or a confirmed 误评/恶意差评: still kept."""
        return self.filter(exclusion__isnull=False)


class Evaluation(models.Model):
    scope_paths = ScopePaths(region=("region_id",), department=("department_id",), agency=("agency_id",), staff=("staff_id",))
    # No index of its own: (record, stage, type) — the unique constraint's index, on PostgreSQL's monthly partitions
    # the index ``one_evaluation_per_record_stage_type_part`` — starts with record_id and serves every look-up by 办件.
    record = models.ForeignKey("records.ServiceRecord", verbose_name=_("办件"), on_delete=models.PROTECT,
                               related_name="evaluations", db_index=False)
    stage = models.CharField(_("评价环节"), max_length=10, choices=Stage.choices)
    type = models.CharField(_("评价类型"), max_length=10, choices=EvaluationType.choices)
    channel = models.CharField(_("评价渠道"), max_length=20, choices=Channel.choices)
    level = models.PositiveSmallIntegerField(_("评价等级"))
    is_bad = models.BooleanField(_("差评"))
    is_supplementary = models.BooleanField(_("补充评价"), default=False)
    labels = models.ManyToManyField(Label, verbose_name=_("评价标签"), blank=True, related_name="evaluations")
    comment = models.TextField(_("文字评价"), blank=True)
    questionnaire = models.JSONField(_("问卷"), default=dict, blank=True)
    evaluator_name = PersonalDataField(_("评价人姓名"), kind="name")
    evaluator_phone = PersonalDataField(_("评价人手机号"), kind="phone")
    evaluator_phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    is_real_name = models.BooleanField(_("实名评价"), default=False)
    # Targets copied at write time so statistics never join through org data that changed later.
    # They are copies of the 办件's own columns (services.new_evaluation, intake._new_row), which never change
    # (records.services.UPDATABLE) and which the database checks on the 办件 (its foreign keys); the evaluation's
    # own ``record`` key is checked. So an org row an evaluation names is named by its 办件 too and cannot go while
    # the evaluation exists: the database need not check these seven again for every evaluation row (a foreign-key
    # check per column and row was the largest share of writing one; docs/operations.md "评价表的外键与索引").
    # ``on_delete=PROTECT`` still refuses deleting such a row through Django.
    item = models.ForeignKey("catalog.ServiceItem", verbose_name=_("事项"), on_delete=models.PROTECT, related_name="+",
                             db_constraint=False)
    region = models.ForeignKey("org.Region", verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="+",
                               db_constraint=False)
    department = models.ForeignKey("org.Department", verbose_name=_("部门"), on_delete=models.PROTECT, related_name="+",
                                   db_constraint=False)
    agency = models.ForeignKey("org.ServiceAgency", verbose_name=_("政务服务机构"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+", db_constraint=False)
    window = models.ForeignKey("org.Window", verbose_name=_("窗口"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", db_constraint=False)
    staff = models.ForeignKey("org.Staff", verbose_name=_("工作人员"), null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", db_constraint=False)
    platform = models.ForeignKey("org.Platform", verbose_name=_("平台"), null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", db_constraint=False)
    idempotency_key = models.CharField(_("幂等键"), max_length=100, unique=True)
    request_hash = models.CharField(max_length=64, editable=False)
    receipt_code = models.CharField(_("评价回执码"), max_length=20, unique=True)
    leaf_hash = models.CharField(_("存证摘要(SM3)"), max_length=64, editable=False)
    source = models.CharField(_("提交来源"), max_length=100, blank=True)
    # Blind indexes of the submitting client's address and device cookie (evaluation.fingerprint): the fraud
    # detectors compare them with staff's own sign-ins (R7.1). Not in the leaf hash: they are not the evaluation.
    client_address_index = models.CharField(max_length=64, blank=True, default="", editable=False)
    client_device_index = models.CharField(max_length=64, blank=True, default="", editable=False)
    created_at = models.DateTimeField(_("评价时间"), db_index=True)

    objects = EvaluationQuerySet.as_manager()

    class Meta:
        verbose_name = _("评价")
        verbose_name_plural = _("评价")
        ordering = ["-created_at"]
        permissions = [
            ("record_phone_evaluation", _("代录12345热线来电评价")),
            ("enter_paper_form", _("录入书面评价表")),
        ]
        constraints = [
            # R3.8: one active and one follow-up evaluation per (办件, stage), enforced by the database.
            models.UniqueConstraint(fields=["record", "stage", "type"], name="one_evaluation_per_record_stage_type"),
            models.CheckConstraint(condition=models.Q(level__gte=1, level__lte=5), name="evaluation_level_1_to_5"),
        ]
        indexes = [models.Index(fields=["region", "created_at"]), models.Index(fields=["is_bad", "created_at"])]

    def __str__(self) -> str:
        return self.receipt_code

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableEvaluationError("evaluations are never updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableEvaluationError("evaluations are never deleted")


class ExclusionReason(models.TextChoices):
    APPEAL_UPHELD = "appeal_upheld", _("申诉成立")
    MISTAKEN = "mistaken", _("误评")
    MALICIOUS = "malicious", _("恶意差评")
    # A supervisor confirmed a fraud finding (supervision.fraud): manufactured or coerced (R8.2, §四(四)).
    FRAUD = "fraud", _("弄虚作假")


class EvaluationExclusion(models.Model):
    """The evaluation no longer counts in statistics (R7.3, R4.3): a row of its own, with who, why and on what
    grounds. The evaluation itself is never edited or deleted (DESIGN.md "Evaluation")."""

    scope_paths = ScopePaths(
        region=("evaluation__region_id",), department=("evaluation__department_id",),
        agency=("evaluation__agency_id",), staff=("evaluation__staff_id",),
    )

    evaluation = models.OneToOneField(
        Evaluation, verbose_name=_("评价"), on_delete=models.PROTECT, related_name="exclusion"
    )
    reason = models.CharField(_("不计入原因"), max_length=20, choices=ExclusionReason.choices)
    source = models.CharField(_("依据"), max_length=50, help_text=_("作出决定的申诉或整改案件，如 appeal:12、case:34"))
    note = models.TextField(_("说明"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("决定人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("不计入统计的评价")
        verbose_name_plural = _("不计入统计的评价")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.evaluation} {self.get_reason_display()}"


class KioskDevice(models.Model):
    """评价器: a tablet registered to one window. It authenticates with a device secret (stored hashed) and its
    evaluations are accepted only for that window's 办件 (R3.1, R7.1)."""

    scope_paths = ScopePaths(region=("window__agency__region_id",), department=("window__department_id",), agency=("window__agency_id",))

    window = models.ForeignKey("org.Window", verbose_name=_("窗口"), on_delete=models.PROTECT, related_name="kiosks")
    name = models.CharField(_("设备名称"), max_length=100)
    prefix = models.CharField(_("设备标识"), max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField(_("在用"), default=True)
    registered_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("最近在线"), null=True, blank=True)

    class Meta:
        verbose_name = _("评价器")
        verbose_name_plural = _("评价器")
        ordering = ["window_id", "name"]

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}）"


class KioskSession(models.Model):
    """What a 评价器 shows now: the window's business system tells it the current 办件 and stage."""

    scope_paths = ScopePaths(region=("record__region_id",), department=("record__department_id",), agency=("record__agency_id",))

    device = models.OneToOneField(KioskDevice, verbose_name=_("评价器"), on_delete=models.CASCADE, related_name="session")
    record = models.ForeignKey(
        "records.ServiceRecord", verbose_name=_("办件"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stage = models.CharField(_("评价环节"), max_length=10, choices=Stage.choices, blank=True)
    set_at = models.DateTimeField(_("推送时间"), null=True, blank=True)
    set_by = models.CharField(_("推送来源"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("评价器当前办件")
        verbose_name_plural = _("评价器当前办件")

    def __str__(self) -> str:
        return str(self.device)


class Invitation(models.Model):
    """评价邀请: a signed, expiring link sent (by SMS) after a 办件 completes unrated, and at most one reminder (R3.3).

    Only the token's SM3 hash is stored; the phone number stays on the 办件 (encrypted)."""

    class Kind(models.TextChoices):
        INVITE = "invite", _("邀请")
        REMINDER = "reminder", _("提醒")

    class Status(models.TextChoices):
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    scope_paths = ScopePaths(region=("record__region_id",), department=("record__department_id",), agency=("record__agency_id",))

    record = models.ForeignKey("records.ServiceRecord", verbose_name=_("办件"), on_delete=models.CASCADE, related_name="invitations")
    stage = models.CharField(_("评价环节"), max_length=10, choices=Stage.choices, default=Stage.COMPLETE)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    channel = models.CharField(_("发送渠道"), max_length=10, default="sms")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices)
    sent_at = models.DateTimeField(_("发送时间"))
    expires_at = models.DateTimeField(_("失效时间"))
    opened_at = models.DateTimeField(_("首次打开"), null=True, blank=True)

    class Meta:
        verbose_name = _("评价邀请")
        verbose_name_plural = _("评价邀请")
        ordering = ["-sent_at"]
        constraints = [models.UniqueConstraint(fields=["record", "stage", "kind"], name="one_invitation_kind_per_record_stage")]

    def __str__(self) -> str:
        return f"{self.record} {self.get_kind_display()}"


class PaperForm(models.Model):
    """书面评价表: printed per agency with a number; entered once, by someone other than the rated staff member,
    with the scanned form kept as evidence (R3.2)."""

    scope_paths = ScopePaths(region=("agency__region_id",), agency=("agency_id",))

    agency = models.ForeignKey("org.ServiceAgency", verbose_name=_("政务服务机构"), on_delete=models.PROTECT, related_name="paper_forms")
    number = models.CharField(_("表单编号"), max_length=40, unique=True)
    printed_at = models.DateTimeField(_("打印时间"), auto_now_add=True)
    entered_at = models.DateTimeField(_("录入时间"), null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("录入人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    evaluation = models.OneToOneField(
        Evaluation, verbose_name=_("评价"), null=True, blank=True, on_delete=models.PROTECT, related_name="paper_form"
    )
    scan = models.FileField(_("扫描件"), upload_to="paper_forms/%Y/%m/", blank=True)

    class Meta:
        verbose_name = _("书面评价表")
        verbose_name_plural = _("书面评价表")
        ordering = ["-printed_at"]

    def __str__(self) -> str:
        return self.number
