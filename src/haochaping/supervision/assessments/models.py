"""Tables of third-party and social-organisation assessments (R3.6, R3.7): the assessor organisations and their
members, the agencies' commissions, and the assessments submitted under them with per-indicator scores and
evidence files."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from haochaping.core.scoping import ScopePaths

from .rules import State


class AssessorOrganisation(models.Model):
    """A third-party assessment body or social organisation (第三方评估机构、社会组织); its members are users with
    the assessor role."""

    scope_paths = ScopePaths(region=("region_id",))

    name = models.CharField(_("名称"), max_length=200)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    region = models.ForeignKey("org.Region", verbose_name=_("所在行政区划"), on_delete=models.PROTECT,
                               related_name="+")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("评估人员"), blank=True,
                                     related_name="assessor_organisations")

    class Meta:
        verbose_name = _("第三方评估机构")
        verbose_name_plural = _("第三方评估机构")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Commission(models.Model):
    """A management agency commissions an organisation to assess a scope (a region subtree, optionally some
    departments and/or items) over a period."""

    scope_paths = ScopePaths(region=("agency__region_id",))

    title = models.CharField(_("委托事项"), max_length=200)
    agency = models.ForeignKey("org.ManagementAgency", verbose_name=_("委托的管理机构"), on_delete=models.PROTECT,
                               related_name="+")
    organisation = models.ForeignKey(AssessorOrganisation, verbose_name=_("评估机构"), on_delete=models.PROTECT,
                                     related_name="commissions")
    scope_region = models.ForeignKey("org.Region", verbose_name=_("评估范围（行政区划）"), on_delete=models.PROTECT,
                                     related_name="+")
    departments = models.ManyToManyField("org.Department", verbose_name=_("限定部门"), blank=True, related_name="+")
    items = models.ManyToManyField("catalog.ServiceItem", verbose_name=_("限定事项"), blank=True, related_name="+")
    period_start = models.DateField(_("委托期间起始日"))
    period_end = models.DateField(_("委托期间截止日"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("委托人"), on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("委托时间"))

    class Meta:
        verbose_name = _("评估委托")
        verbose_name_plural = _("评估委托")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class Assessment(models.Model):
    """An assessment of one department under a commission: per-indicator scores, a summary and a report file."""

    scope_paths = ScopePaths(region=("department__region_id",), department=("department_id",))

    commission = models.ForeignKey(Commission, verbose_name=_("评估委托"), on_delete=models.PROTECT,
                                   related_name="assessments")
    department = models.ForeignKey("org.Department", verbose_name=_("被评估部门"), on_delete=models.PROTECT,
                                   related_name="+")
    item = models.ForeignKey("catalog.ServiceItem", verbose_name=_("评估事项"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField(_("评估期间起始日"))
    period_end = models.DateField(_("评估期间截止日"))
    summary = models.TextField(_("评估结论"))
    report = models.FileField(_("评估报告"), upload_to="assessments/%Y/%m/")
    report_name = models.CharField(_("报告文件名"), max_length=200, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.SUBMITTED)
    score = models.FloatField(_("评估得分"), null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("提交人"), on_delete=models.PROTECT,
                                     related_name="+")
    submitted_at = models.DateTimeField(_("提交时间"))
    submissions = models.PositiveSmallIntegerField(_("提交次数"), default=1)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("审核人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    return_reason = models.TextField(_("退回理由"), blank=True)

    class Meta:
        verbose_name = _("第三方评估")
        verbose_name_plural = _("第三方评估")
        ordering = ["-submitted_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.commission} · {self.department_id}"


class AssessmentScore(models.Model):
    """One indicator's score in an assessment, with findings and recommendations; an accepted finding may have
    opened a rectification case for the unit."""

    assessment = models.ForeignKey(Assessment, verbose_name=_("第三方评估"), on_delete=models.CASCADE,
                                   related_name="scores")
    indicator = models.ForeignKey("supervision.Indicator", verbose_name=_("指标"), on_delete=models.PROTECT,
                                  related_name="+")
    score = models.FloatField(_("得分"))
    findings = models.TextField(_("发现的问题"), blank=True)
    recommendations = models.TextField(_("改进建议"), blank=True)
    case = models.ForeignKey("rectification.RectificationCase", verbose_name=_("整改案件"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("评估指标得分")
        verbose_name_plural = _("评估指标得分")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.score:g}"


class AssessmentEvidence(models.Model):
    """An evidence file of a score (JPG, PNG or PDF, checked as the rectification evidence is). Stored under a
    random name; the uploaded name is kept for display only."""

    score = models.ForeignKey(AssessmentScore, verbose_name=_("评估指标得分"), on_delete=models.CASCADE,
                              related_name="evidence")
    file = models.FileField(_("文件"), upload_to="assessments/%Y/%m/")
    original_name = models.CharField(_("原文件名"), max_length=200)
    size = models.PositiveIntegerField(_("大小"))
    uploaded_at = models.DateTimeField(_("上传时间"))

    class Meta:
        verbose_name = _("评估证据")
        verbose_name_plural = _("评估证据")

    def __str__(self) -> str:
        return self.original_name
