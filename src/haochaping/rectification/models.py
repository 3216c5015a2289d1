"""差评整改: a case per bad review or complaint, its transitions and its 台账 (R4)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from haochaping.accounts.scoping import ScopePaths

from .rules import Kind, Outcome, State

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

    class Meta:
        verbose_name = _("差评整改案件")
        verbose_name_plural = _("差评整改案件")
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["state", "callback_due"]), models.Index(fields=["region", "opened_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}整改第{self.pk:06d}号" if self.pk else str(_("差评整改案件"))


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
    deadline = models.DateField(_("整改期限"))
    extension_approved = models.BooleanField(_("延期已批准"), default=False)
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
