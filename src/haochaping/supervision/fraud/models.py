"""Tables of the fraud detectors: findings for supervisors, and what the detectors compare evaluations with
(halls' opening hours, staff's own phones, the addresses and devices staff sign in from)."""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from haochaping.core.fields import PersonalDataField
from haochaping.core.scoping import ScopePaths

from .rules import DEFAULT_CLOSES, DEFAULT_OPENS, Pattern


class FindingStatus(models.TextChoices):
    OPEN = "open", _("待核查")
    CONFIRMED = "confirmed", _("已确认")
    DISMISSED = "dismissed", _("已排除")


class FraudFinding(models.Model):
    """One detector's finding: a pattern, the unit it names, the statistic against its threshold and the
    evaluations it rests on. A supervisor confirms or dismisses it; nothing is excluded before that."""

    scope_paths = ScopePaths(region=("region_id",), department=("department_id",), agency=("agency_id",), staff=("staff_id",))

    pattern = models.CharField(_("线索类型"), max_length=20, choices=Pattern.choices)
    # What the finding is about, for de-duplication across scheduled runs ("window:12", "phone:<index>@dept:3").
    subject = models.CharField(_("对象"), max_length=200)
    status = models.CharField(_("状态"), max_length=10, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    region = models.ForeignKey("org.Region", verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey("org.Department", verbose_name=_("部门"), on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey("org.ServiceAgency", verbose_name=_("政务服务机构"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    window = models.ForeignKey("org.Window", verbose_name=_("窗口"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    staff = models.ForeignKey("org.Staff", verbose_name=_("工作人员"), null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    item = models.ForeignKey("catalog.ServiceItem", verbose_name=_("事项"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    statistic = models.FloatField(_("统计量"))
    threshold = models.FloatField(_("阈值"))
    summary = models.TextField(_("说明"))
    # Counts, times and ids only: never a phone, a name, an address or comment text beyond what the page shows.
    evidence = models.JSONField(_("证据"), default=dict)
    evaluations = models.ManyToManyField("evaluation.Evaluation", verbose_name=_("涉及评价"), blank=True,
                                         related_name="+")
    first_at = models.DateTimeField(_("最早评价时间"))
    last_at = models.DateTimeField(_("最晚评价时间"))
    detected_at = models.DateTimeField(_("发现时间"))
    decided_at = models.DateTimeField(_("核查时间"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("核查人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decision_note = models.TextField(_("核查意见"), blank=True)

    class Meta:
        verbose_name = _("疑似弄虚作假线索")
        verbose_name_plural = _("疑似弄虚作假线索")
        ordering = ["-detected_at", "-pk"]
        indexes = [models.Index(fields=["pattern", "subject"]), models.Index(fields=["status", "detected_at"])]

    def __str__(self) -> str:
        return f"{self.get_pattern_display()} {self.subject}"


def default_opens() -> time:
    # Callables, not time values: Django's check for a "fixed default" (fields.W161) compares a TimeField's default
    # with the current time and warned, failing `check --deploy`, whenever it ran within 10 s of 08:30 or 18:00 UTC.
    return DEFAULT_OPENS


def default_closes() -> time:
    return DEFAULT_CLOSES


class HallHours(models.Model):
    """A hall's opening hours, for the closed-hours detector. A hall without a row keeps the defaults
    (rules.DEFAULT_OPENS–DEFAULT_CLOSES on working days of the region's calendar)."""

    scope_paths = ScopePaths(region=("agency__region_id",), agency=("agency_id",))

    agency = models.OneToOneField("org.ServiceAgency", verbose_name=_("政务服务机构"), on_delete=models.CASCADE,
                                  related_name="hall_hours")
    opens = models.TimeField(_("开门时间"), default=default_opens)
    closes = models.TimeField(_("关门时间"), default=default_closes)
    open_on_rest_days = models.BooleanField(_("节假日、周末照常开放"), default=False)

    class Meta:
        verbose_name = _("大厅开放时间")
        verbose_name_plural = _("大厅开放时间")

    def __str__(self) -> str:
        return f"{self.agency} {self.opens:%H:%M}–{self.closes:%H:%M}"


class StaffPhone(models.Model):
    """A staff member's own phone number (encrypted, with its blind index), so an evaluation from it is seen."""

    scope_paths = ScopePaths(region=("staff__agency__region_id", "staff__department__region_id"),
                             department=("staff__department_id",), agency=("staff__agency_id",), staff=("staff_id",))

    staff = models.ForeignKey("org.Staff", verbose_name=_("工作人员"), on_delete=models.CASCADE, related_name="+")
    phone = PersonalDataField(_("手机号"), kind="phone")
    phone_index = models.CharField(max_length=64, db_index=True, editable=False)
    added_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("工作人员本人手机号")
        verbose_name_plural = _("工作人员本人手机号")
        constraints = [models.UniqueConstraint(fields=["staff", "phone_index"], name="staff_phone_once")]

    def __str__(self) -> str:
        return f"{self.staff} {self.phone}"


class StaffFingerprint(models.Model):
    """Where an insider signed in from: blind indexes of the address and the device cookie, one row per
    (user, address, device), with the last time seen. Written at sign-in (fraud.receivers)."""

    scope_paths = ScopePaths(region=("user__region_id",), department=("user__department_id",),
                             agency=("user__agency_id",), staff=("user__staff_id",))

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="+")
    address_index = models.CharField(max_length=64, blank=True, db_index=True)
    device_index = models.CharField(max_length=64, blank=True, db_index=True)
    first_seen = models.DateTimeField(_("首次登录"))
    last_seen = models.DateTimeField(_("最近登录"))

    class Meta:
        verbose_name = _("工作人员登录终端")
        verbose_name_plural = _("工作人员登录终端")
        constraints = [models.UniqueConstraint(fields=["user", "address_index", "device_index"],
                                               name="staff_fingerprint_once")]

    def __str__(self) -> str:
        return f"{self.user} {self.last_seen:%Y-%m-%d}"
