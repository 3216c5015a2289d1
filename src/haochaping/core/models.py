from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import calendar_rules


def validate_calendar_region_code(value: str) -> None:
    try:
        calendar_rules.canonical_region_code(value)
    except ValueError:
        raise ValidationError(_("行政区划代码应为6、9或12位数字，留空表示全国"), code="region_code") from None


class CalendarDay(models.Model):
    """An exception to the Monday–Friday week: a holiday on a weekday, or a make-up workday (调休) on a weekend.

    ``region_code`` empty means the national calendar (State Council notice); a region's rows override it
    for that region and its subtree (R4.6).
    """

    class Source(models.TextChoices):
        SEED = "seed", _("chinese-calendar 数据包")
        ADMIN = "admin", _("管理员录入")

    region_code = models.CharField(
        _("行政区划代码"),
        max_length=12,
        blank=True,
        default="",
        validators=[validate_calendar_region_code],
        help_text=_("留空表示全国；填写地区代码则只对该地区及其下级生效，最近的地区优先"),
    )
    date = models.DateField(_("日期"))
    is_workday = models.BooleanField(_("是否工作日"))
    name = models.CharField(_("名称"), max_length=50, blank=True, help_text=_("如：春节、国庆节调休上班"))
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices, default=Source.ADMIN)

    class Meta:
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")
        ordering = ["date", "region_code"]
        constraints = [models.UniqueConstraint(fields=["region_code", "date"], name="calendar_day_unique")]

    def __str__(self) -> str:
        kind = _("工作日") if self.is_workday else _("休息日")
        return f"{self.date} {self.name or kind}"

    def save(self, *args, **kwargs):
        # One spelling per region (370102 = 370102000000), so lookups along the region chain find it.
        self.region_code = calendar_rules.canonical_region_code(self.region_code)
        super().save(*args, **kwargs)


class CalendarYear(models.Model):
    """Marks a year whose holiday arrangement has been published and entered. A year without this row
    falls back to Monday–Friday, and the system says so (admin and logs)."""

    year = models.PositiveSmallIntegerField(
        _("年份"), unique=True, validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    source = models.CharField(_("来源"), max_length=10, choices=CalendarDay.Source.choices, default=CalendarDay.Source.ADMIN)
    note = models.CharField(_("依据"), max_length=200, blank=True, help_text=_("如：国务院办公厅关于2027年部分节假日安排的通知"))

    class Meta:
        verbose_name = _("已发布节假日安排的年份")
        verbose_name_plural = _("已发布节假日安排的年份")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class AuditEntry(models.Model):
    """Who did what to which object; written by services inside their transaction. Never holds personal data."""

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.CharField(_("操作者"), max_length=150)
    action = models.CharField(_("操作"), max_length=60)
    object_type = models.CharField(_("对象类型"), max_length=60)
    object_id = models.CharField(_("对象"), max_length=64)
    data = models.JSONField(_("内容"), default=dict, blank=True)

    class Meta:
        verbose_name = _("操作记录")
        verbose_name_plural = _("操作记录")
        ordering = ["-at"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_type}:{self.object_id}"


class ScheduledRun(models.Model):
    """The last time slot in which a periodic task was enqueued (core.schedule). One row per task; the row is
    locked while a slot is claimed, so two worker processes never enqueue the same slot twice."""

    name = models.CharField(_("任务"), max_length=200, unique=True)
    slot = models.BigIntegerField(_("时间段"), default=-1, help_text=_("自1970-01-01 UTC起，以执行间隔计的序号"))
    enqueued_at = models.DateTimeField(_("最近加入队列时间"), null=True, blank=True)
    task_id = models.CharField(_("最近一次任务编号"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("定时任务执行记录")
        verbose_name_plural = _("定时任务执行记录")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
