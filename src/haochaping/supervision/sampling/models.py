"""Tables of callback sampling: a unit's sample for a period, the evaluations on its callback list, and the calls
made about them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from haochaping.core.scoping import ScopePaths


class CallbackSample(models.Model):
    """One unit's (department's) sample of one period. Unique per (unit, period): a redraw finds it and adds
    nothing."""

    scope_paths = ScopePaths(region=("region_id",), department=("department_id",))

    department = models.ForeignKey("org.Department", verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey("org.Region", verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField(_("期间开始"))
    period_end = models.DateField(_("期间结束"))
    ratio = models.FloatField(_("抽样比例"))
    minimum = models.PositiveSmallIntegerField(_("每个等级至少"))
    seed = models.CharField(_("随机种子"), max_length=20)
    population = models.PositiveIntegerField(_("可回访评价数"))
    drawn_at = models.DateTimeField(_("抽取时间"))
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("抽取人"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("回访抽样")
        verbose_name_plural = _("回访抽样")
        ordering = ["-period_start", "department_id"]
        constraints = [models.UniqueConstraint(fields=["department", "period_start", "period_end"],
                                               name="callback_sample_once")]

    def __str__(self) -> str:
        return f"{self.department_id} {self.period_start}–{self.period_end}"


class CallStatus(models.TextChoices):
    PENDING = "pending", _("待回访")
    UNREACHED = "unreached", _("未接通")
    DONE = "done", _("已回访")


class CallbackItem(models.Model):
    """An evaluation on a callback list, with the latest call's outcome (each attempt is a CallbackCall)."""

    scope_paths = ScopePaths(region=("sample__region_id",), department=("sample__department_id",))

    sample = models.ForeignKey(CallbackSample, verbose_name=_("回访抽样"), on_delete=models.CASCADE, related_name="items")
    evaluation = models.ForeignKey("evaluation.Evaluation", verbose_name=_("评价"), on_delete=models.PROTECT,
                                   related_name="+")
    level = models.PositiveSmallIntegerField(_("评价等级"))
    status = models.CharField(_("回访状态"), max_length=10, choices=CallStatus.choices, default=CallStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("拨打次数"), default=0)
    gave_rating = models.CharField(_("是否本人作出该评价"), max_length=10, blank=True)
    pressured = models.CharField(_("是否被要求或施压作出该评价"), max_length=10, blank=True)
    satisfaction_now = models.PositiveSmallIntegerField(_("现在的满意度"), null=True, blank=True)
    mismatch = models.BooleanField(_("评价不实"), default=False)
    mismatch_reasons = models.JSONField(_("不实情形"), default=list, blank=True)
    called_at = models.DateTimeField(_("回访时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("回访清单条目")
        verbose_name_plural = _("回访清单条目")
        ordering = ["sample_id", "level", "evaluation_id"]
        permissions = [("record_callback", _("可以登记回访结果"))]
        constraints = [models.UniqueConstraint(fields=["sample", "evaluation"], name="callback_item_once")]
        indexes = [models.Index(fields=["mismatch", "called_at"])]

    def __str__(self) -> str:
        return f"{self.sample_id}:{self.evaluation_id}"


class CallbackCall(models.Model):
    """One call attempt and what the evaluator said."""

    scope_paths = ScopePaths(region=("item__sample__region_id",), department=("item__sample__department_id",))

    item = models.ForeignKey(CallbackItem, verbose_name=_("回访清单条目"), on_delete=models.CASCADE, related_name="calls")
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("话务员"), on_delete=models.PROTECT,
                                 related_name="+")
    at = models.DateTimeField(_("回访时间"))
    reached = models.BooleanField(_("已接通"))
    gave_rating = models.CharField(_("是否本人作出该评价"), max_length=10, blank=True)
    pressured = models.CharField(_("是否被要求或施压作出该评价"), max_length=10, blank=True)
    satisfaction_now = models.PositiveSmallIntegerField(_("现在的满意度"), null=True, blank=True)
    notes = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("回访记录")
        verbose_name_plural = _("回访记录")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.item_id} {self.at:%Y-%m-%d %H:%M}"
