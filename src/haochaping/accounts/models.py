"""API clients authenticate with keys that carry scopes (DESIGN.md "People, scopes, privacy")."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    RECORDS_WRITE = "records:write", _("推送办件")
    RECORDS_READ = "records:read", _("读取办件")
    EVALUATIONS_WRITE = "evaluations:write", _("提交评价")
    EVALUATIONS_READ = "evaluations:read", _("读取评价")
    STATS_READ = "stats:read", _("读取统计")


class ApiKey(models.Model):
    name = models.CharField(_("名称"), max_length=100)
    prefix = models.CharField(_("前缀"), max_length=16, unique=True, help_text=_("密钥的公开部分，用于在日志和列表中识别"))
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("权限范围"), default=list)
    region = models.ForeignKey(
        "org.Region", verbose_name=_("所属行政区划"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("到期时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("接口密钥")
        verbose_name_plural = _("接口密钥")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
