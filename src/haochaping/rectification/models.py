"""差评整改: a case per bad review or complaint, its transitions and its 台账 (R4)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from haochaping.core.scoping import ScopePaths
from haochaping.rectification.rules import (
    AppealState,
    CallbackMethod,
    DeadlineKind,
    Kind,
    Outcome,
    Satisfaction,
    State,
    state_label,
)

CASE_SCOPE = ScopePaths(region=("region_id",), department=("department_id",), agency=("agency_id",))


def _via(prefix: str) -> ScopePaths:
    return ScopePaths(
        region=(f"{prefix}__region_id",), department=(f"{prefix}__department_id",), agency=(f"{prefix}__agency_id",)
    )


class RectificationCase(models.Model):
    """One 差评 or complaint, routed to the unit responsible for it. The unit and the deadlines are fixed when the
    case opens, so later org changes or calendar edits do not move them."""

    scope_paths = CASE_SCOPE

    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.OPEN)
    evaluation = models.OneToOneField(
        "evaluation.Evaluation", verbose_name=_("评价"), null=True, blank=True, on_delete=models.PROTECT, related_name="case"
    )
    record = models.ForeignKey(
        "records.ServiceRecord", verbose_name=_("办件"), null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    summary = models.TextField(_("问题概述"), blank=True, help_text=_("投诉内容；差评的内容见评价"))
    # The responsible unit, copied at open time (谁办理、谁负责).
    region = models.ForeignKey("org.Region", verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey("org.Department", verbose_name=_("责任部门"), on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(
        "org.ServiceAgency", verbose_name=_("政务服务机构"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    platform = models.ForeignKey(
        "org.Platform", verbose_name=_("平台"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("承办人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_real_name = models.BooleanField(_("实名"), default=False)
    opened_at = models.DateTimeField(_("立案时间"), db_index=True)
    callback_due = models.DateField(_("回访核实期限"))
    fix_now_due = models.DateField(_("立行立改期限"))
    rectify_due = models.DateField(_("限期整改期限"))
    outcome = models.CharField(_("处理结果"), max_length=20, choices=Outcome.choices, blank=True)
    outcome_detail = models.TextField(_("整改内容或解释说明"), blank=True)
    legal_basis = models.TextField(_("依据"), blank=True)
    evidence = models.TextField(_("核实证据"), blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("确认人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answer = models.TextField(_("答复评价人"), blank=True)
    # 回访核实 (R4.2/R4.3): when, how, whom they reached (or why not), what was verified.
    callback_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    callback_method = models.CharField(_("回访方式"), max_length=10, choices=CallbackMethod.choices, blank=True)
    callback_reached = models.BooleanField(_("联系上评价人"), null=True, blank=True)
    callback_contact = models.TextField(_("联系对象或未联系上的原因"), blank=True)
    callback_facts = models.TextField(_("核实情况"), blank=True)
    # 误评/恶意差评 proposed by the unit, waiting for a supervisor's confirmation (R4.3).
    proposed_outcome = models.CharField(_("待确认的处理结果"), max_length=20, choices=Outcome.choices, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("提请人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(_("提请时间"), null=True, blank=True)
    handled_at = models.DateTimeField(_("处理完成时间"), null=True, blank=True, help_text=_("立行立改、解释说明或认定误评的时间；限期整改为台账完成时间"))
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    # The evaluator's view of the handling (R4.4); an unsatisfied answer reopens the case once.
    satisfaction = models.CharField(_("评价人对处理结果"), max_length=20, choices=Satisfaction.choices, blank=True)
    satisfaction_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    satisfaction_due = models.DateField(_("确认期限"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("重新办理次数"), default=0)
    appeal_due = models.DateField(_("申诉期限"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("逾期上报时间"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("差评整改案件")
        verbose_name_plural = _("差评整改案件")
        ordering = ["-opened_at"]
        indexes = [
            models.Index(fields=["state", "callback_due"]), models.Index(fields=["region", "opened_at"]),
            # 集中问题 are a handful among the 差评 cases: the 痛点分析 page lists the open ones without reading the
            # 差评 cases of its scope (issue 14: nothing per request that grows with the 差评).
            models.Index(fields=["rectify_due", "opened_at", "id"], condition=models.Q(kind="focus_issue"),
                         name="case_focus_issues"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}整改第{self.pk:06d}号" if self.pk else str(_("差评整改案件"))

    def get_state_display(self) -> str:
        """The state's label, as Django's own would give it, but a complaint's names its 投诉人 (rules.state_label)."""
        return state_label(self.state, self.kind)


class CaseTransition(models.Model):
    """One step of a case (who, when, what). Written once, never edited; assignments and 台账 progress are steps
    that keep the state."""

    scope_paths = _via("case")

    case = models.ForeignKey(RectificationCase, verbose_name=_("案件"), on_delete=models.PROTECT, related_name="transitions")
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("操作"), max_length=30)
    from_state = models.CharField(_("原状态"), max_length=20, choices=State.choices, blank=True)
    to_state = models.CharField(_("新状态"), max_length=20, choices=State.choices)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("案件办理记录")
        verbose_name_plural = _("案件办理记录")
        ordering = ["case_id", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.from_state}→{self.to_state}"


class LedgerEntry(models.Model):
    """台账: the 限期整改 plan of a case (problem, measures, who, by when) and when it was done."""

    scope_paths = _via("case")

    case = models.OneToOneField(RectificationCase, verbose_name=_("案件"), on_delete=models.PROTECT, related_name="ledger")
    problem = models.TextField(_("存在问题"))
    measures = models.TextField(_("整改措施"))
    responsible_person = models.CharField(_("责任人"), max_length=50)
    deadline = models.DateField(_("整改期限"), help_text=_("晚于限期整改期限的，须经监督人员批准延期"))
    extension_approved = models.BooleanField(_("延期已批准"), default=False)
    extension_reason = models.TextField(_("延期理由"), blank=True)
    extension_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("延期审批人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    extension_decided_at = models.DateTimeField(_("延期审批时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    evidence = models.TextField(_("整改佐证"), blank=True)

    class Meta:
        verbose_name = _("整改台账")
        verbose_name_plural = _("整改台账")

    def __str__(self) -> str:
        return f"{self.case} {self.problem[:20]}"


class LedgerProgress(models.Model):
    scope_paths = _via("entry__case")

    entry = models.ForeignKey(LedgerEntry, verbose_name=_("台账"), on_delete=models.PROTECT, related_name="progress")
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("填报人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("整改进展"))

    class Meta:
        verbose_name = _("整改进展")
        verbose_name_plural = _("整改进展")
        ordering = ["entry_id", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.entry_id} {self.at:%Y-%m-%d}"


class CaseNotice(models.Model):
    """A reminder before a deadline, an escalation after one, or a report to the management agency (误评/恶意差评
    confirmed). One row per (case, kind, deadline, due date), so the scheduled task can run any number of times."""

    class Kind(models.TextChoices):
        REMINDER = "reminder", _("到期提醒")
        ESCALATION = "escalation", _("逾期上报")
        REPORT = "report", _("报备管理机构")

    scope_paths = _via("case")

    case = models.ForeignKey(RectificationCase, verbose_name=_("案件"), on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    deadline = models.CharField(_("期限"), max_length=20, choices=DeadlineKind.choices, blank=True)
    due = models.DateField(_("到期日"), null=True, blank=True)
    # The management agency that supervises the case (its region's), for escalations and reports.
    agency = models.ForeignKey(
        "org.ManagementAgency", verbose_name=_("政务服务管理机构"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("时间"))
    sent_to = models.PositiveIntegerField(_("通知人数"), default=0)

    class Meta:
        verbose_name = _("案件提醒与上报")
        verbose_name_plural = _("案件提醒与上报")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["case", "kind", "deadline", "due"], name="one_notice_per_case_deadline"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_kind_display()} {self.get_deadline_display()}"


class Appeal(models.Model):
    """申诉 (R7.3): the rated staff member or unit contests a 差评; the same-level management agency decides."""

    scope_paths = ScopePaths(
        region=("case__region_id",), department=("case__department_id",), agency=("case__agency_id",),
        staff=("evaluation__staff_id",),
    )

    class Party(models.TextChoices):
        STAFF = "staff", _("被评价的工作人员")
        UNIT = "unit", _("被评价的单位")

    case = models.OneToOneField(RectificationCase, verbose_name=_("案件"), on_delete=models.PROTECT, related_name="appeal")
    evaluation = models.ForeignKey(
        "evaluation.Evaluation", verbose_name=_("评价"), on_delete=models.PROTECT, related_name="appeals"
    )
    appellant = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申诉人"), on_delete=models.PROTECT, related_name="+"
    )
    party = models.CharField(_("申诉方"), max_length=10, choices=Party.choices)
    explanation = models.TextField(_("申诉理由"))
    state = models.CharField(_("状态"), max_length=20, choices=AppealState.choices, default=AppealState.SUBMITTED)
    submitted_at = models.DateTimeField(_("申诉时间"), db_index=True)
    review_due = models.DateField(_("审核期限"))
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("审核人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_note = models.TextField(_("审核意见"), blank=True)

    class Meta:
        verbose_name = _("差评申诉")
        verbose_name_plural = _("差评申诉")
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["state", "review_due"])]

    def __str__(self) -> str:
        return f"{self.case} {self.get_state_display()}"


class CaseAttachment(models.Model):
    """Evidence files: 台账 completion evidence, 误评/恶意差评 evidence, appeal evidence. Stored under MEDIA_ROOT,
    served only through a scoped view (never a public URL)."""

    class Purpose(models.TextChoices):
        LEDGER = "ledger", _("整改佐证")
        NOT_ADOPTED = "not_adopted", _("误评或恶意差评证据")
        APPEAL = "appeal", _("申诉证据")

    scope_paths = _via("case")

    case = models.ForeignKey(RectificationCase, verbose_name=_("案件"), on_delete=models.PROTECT, related_name="attachments")
    appeal = models.ForeignKey(
        Appeal, verbose_name=_("申诉"), null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    purpose = models.CharField(_("用途"), max_length=20, choices=Purpose.choices)
    file = models.FileField(_("文件"), upload_to="cases/%Y/%m/")
    original_name = models.CharField(_("文件名"), max_length=200)
    size = models.PositiveIntegerField(_("大小（字节）"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"))

    class Meta:
        verbose_name = _("案件附件")
        verbose_name_plural = _("案件附件")
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class ReplyLink(models.Model):
    """答复查看链接: the link in the SMS telling a real-name evaluator their 差评 was answered (R4.4). Opening it
    shows that evaluation's receipt page (the answer and the 满意/不满意 form) without typing the receipt code.

    Only the token's SM3 hash is stored; the link expires (``reply_links.VALID_DAYS``)."""

    case = models.ForeignKey(RectificationCase, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="reply_links")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("发送时间"))
    expires_at = models.DateTimeField(_("失效时间"))
    opened_at = models.DateTimeField(_("首次打开"), null=True, blank=True)

    class Meta:
        verbose_name = _("答复查看链接")
        verbose_name_plural = _("答复查看链接")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.case_id}@{self.created_at:%Y-%m-%d}"
