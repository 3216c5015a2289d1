"""Tables of the indicator system and the appraisal (绩效评价): the indicators (national defaults and regions'
own), scores entered by hand with evidence, and each unit's computed appraisal with its breakdown."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from haochaping.core.scoping import ScopePaths

from .rules import Dimension


class Indicator(models.Model):
    """One indicator as a region (or, with ``region`` empty, the nation) defines it for its subtree. A region's
    row with a parent's code makes that indicator stricter there; a new code adds one (rules.check_regional)."""

    scope_paths = ScopePaths(region=("region_id",))

    code = models.CharField(_("指标代码"), max_length=20)
    name = models.CharField(_("指标名称"), max_length=100)
    dimension = models.CharField(_("一级指标"), max_length=20, choices=Dimension.choices)
    source = models.CharField(_("数据来源"), max_length=40)
    weight = models.FloatField(_("权重（在一级指标内）"))
    floor = models.FloatField(_("零分值"))
    target = models.FloatField(_("满分值"))
    region = models.ForeignKey("org.Region", verbose_name=_("制定地区"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+", help_text=_("留空为全国默认指标"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("制定人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("制定时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("考核指标")
        verbose_name_plural = _("考核指标")
        ordering = ["dimension", "code"]
        constraints = [
            models.UniqueConstraint(fields=["region", "code"], name="indicator_once_per_region"),
            models.UniqueConstraint(fields=["code"], condition=models.Q(region__isnull=True),
                                    name="national_indicator_once"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ManualScore(models.Model):
    """An indicator scored by hand (source ``manual``) for a unit and period, with the evidence it rests on."""

    scope_paths = ScopePaths(region=("department__region_id",), department=("department_id",))

    indicator = models.ForeignKey(Indicator, verbose_name=_("指标"), on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey("org.Department", verbose_name=_("部门"), on_delete=models.PROTECT,
                                   related_name="+")
    period_start = models.DateField(_("考核期间起始日"))
    period_end = models.DateField(_("考核期间截止日"))
    value = models.FloatField(_("得分（0–100）"))
    evidence = models.TextField(_("评分依据"))
    scored_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("评分人"), on_delete=models.PROTECT,
                                  related_name="+")
    scored_at = models.DateTimeField(_("评分时间"))

    class Meta:
        verbose_name = _("人工评分")
        verbose_name_plural = _("人工评分")
        constraints = [models.UniqueConstraint(fields=["indicator", "department", "period_start", "period_end"],
                                               name="manual_score_once")]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.department_id} {self.value:g}"


class Appraisal(models.Model):
    """A unit's appraisal score for a period, with its breakdown (rules.Line rows: raw value, score, weight,
    contribution). Recomputing the period replaces it."""

    scope_paths = ScopePaths(region=("region_id",), department=("department_id",))

    department = models.ForeignKey("org.Department", verbose_name=_("部门"), on_delete=models.PROTECT,
                                   related_name="+")
    region = models.ForeignKey("org.Region", verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField(_("考核期间起始日"))
    period_end = models.DateField(_("考核期间截止日"))
    score = models.FloatField(_("绩效评价得分"), null=True, blank=True)
    breakdown = models.JSONField(_("得分构成"), default=list)
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        verbose_name = _("绩效评价结果")
        verbose_name_plural = _("绩效评价结果")
        ordering = ["-period_start", "-score", "department_id"]
        constraints = [models.UniqueConstraint(fields=["department", "period_start", "period_end"],
                                               name="appraisal_once_per_period")]

    def __str__(self) -> str:
        return f"{self.department_id} {self.period_start}–{self.period_end}"
