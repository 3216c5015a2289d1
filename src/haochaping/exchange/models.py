"""Reporting upward and receiving from below (R6.2, DESIGN.md "Exchange").

A lower node writes an :class:`OutboxEntry` per configured :class:`Upstream` in the same transaction as every
办件, evaluation and case outcome; the worker's sender drains it. An upper node knows each lower node as a
:class:`LowerNode` (its API key, bound to its region, and its SM2 public key), stores the case outcomes it reports
(:class:`ReportedCaseOutcome`), and its reports travel back down as :class:`ReceivedReport` rows. A daily
:class:`Reconciliation` compares per-day, per-region counts on both sides.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from haochaping.core import crypto
from haochaping.core.scoping import ScopePaths


class Upstream(models.Model):
    """A node this one reports to: the national platform, a province, or another instance of this system."""

    class Profile(models.TextChoices):
        INTERNAL = "internal", _("本系统格式（上级节点也运行本系统）")
        NATIONAL = "national", _("国家平台接口格式")
        NATIONAL_PF7_DEFAULT = "national-pf7-default", _("国家平台接口格式（pf=7 为系统默认评价）")

    name = models.CharField(_("名称"), max_length=100, unique=True)
    url = models.URLField(_("地址"), help_text=_("上级节点的根地址，例如 https://hcp.example.gov.cn"))
    profile = models.CharField(_("报送格式"), max_length=30, choices=Profile.choices, default=Profile.INTERNAL)
    app_id = models.CharField(_("应用标识"), max_length=64, help_text=_("上级节点分配给本节点的 app id，随签名发送"))
    api_key_encrypted = models.BinaryField(_("接口密钥（加密）"), editable=False)
    payload_key_encrypted = models.BinaryField(_("报文加密密钥（加密）"), editable=False, blank=True, default=b"")
    public_key = models.CharField(
        _("上级节点公钥"), max_length=128, blank=True, help_text=_("SM2 公钥（128位十六进制），用于核验下发的报告"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    batch_size = models.PositiveIntegerField(_("每批条数"), default=200)
    timeout_seconds = models.PositiveIntegerField(_("超时（秒）"), default=15)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    # One sender at a time per upstream (several workers): a sender holds this lease while it pushes, without
    # holding a database transaction open across the network call.
    sending_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("上级节点")
        verbose_name_plural = _("上级节点")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def set_api_key(self, secret: str) -> None:
        self.api_key_encrypted = crypto.sm4_encrypt(secret, associated=b"upstream-api-key")

    def api_key(self) -> str:
        return crypto.sm4_decrypt(self.api_key_encrypted, associated=b"upstream-api-key")

    def set_payload_key(self, hexkey: str) -> None:
        self.payload_key_encrypted = crypto.sm4_encrypt(hexkey, associated=b"upstream-payload-key") if hexkey else b""

    def payload_key(self) -> bytes | None:
        if not self.payload_key_encrypted:
            return None
        return bytes.fromhex(crypto.sm4_decrypt(self.payload_key_encrypted, associated=b"upstream-payload-key"))


class OutboxEntry(models.Model):
    """One 办件, evaluation or case outcome waiting to be reported to one upstream (what is sent is read when it is
    sent, so a 办件 that changed twice is reported once with its latest state)."""

    class Kind(models.TextChoices):
        RECORD = "record", _("办件")
        EVALUATION = "evaluation", _("评价")
        CASE_OUTCOME = "case_outcome", _("差评整改结果")

    class Status(models.TextChoices):
        PENDING = "pending", _("待报送")
        SENT = "sent", _("已报送")
        DEAD = "dead", _("报送失败（待人工处理）")

    upstream = models.ForeignKey(Upstream, verbose_name=_("上级节点"), on_delete=models.CASCADE, related_name="outbox")
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    object_id = models.BigIntegerField(_("对象编号"))
    project_no = models.CharField(_("办件编号"), max_length=64)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("入队时间"), db_index=True)
    sent_at = models.DateTimeField(_("报送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("报送队列")
        verbose_name_plural = _("报送队列")
        ordering = ["id"]
        indexes = [models.Index(fields=["upstream", "status", "id"], name="outbox_upstream_status")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.project_no}"


class LowerNode(models.Model):
    """A node that reports to this one: its API key (bound to its region) and the SM2 key it signs with."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    app_id = models.CharField(_("应用标识"), max_length=64, unique=True)
    api_key = models.OneToOneField(
        "accounts.ApiKey", verbose_name=_("接口密钥"), on_delete=models.PROTECT, related_name="lower_node",
        help_text=_("下级节点用它推送；密钥所属行政区划即该节点可报送的范围"),
    )
    public_key = models.CharField(_("SM2 公钥"), max_length=128, help_text=_("128位十六进制（x‖y）"))
    payload_key_encrypted = models.BinaryField(_("报文加密密钥（加密）"), editable=False, blank=True, default=b"")
    last_push_at = models.DateTimeField(_("最近推送"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("下级节点")
        verbose_name_plural = _("下级节点")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def set_payload_key(self, hexkey: str) -> None:
        self.payload_key_encrypted = crypto.sm4_encrypt(hexkey, associated=b"lower-payload-key") if hexkey else b""

    def payload_key(self) -> bytes | None:
        if not self.payload_key_encrypted:
            return None
        return bytes.fromhex(crypto.sm4_decrypt(self.payload_key_encrypted, associated=b"lower-payload-key"))


class ReportedCaseOutcome(models.Model):
    """The outcome of a 差评 case handled at a lower node, as that node reported it (the upper node opens no case of
    its own for an evaluation a lower node relays)."""

    node = models.ForeignKey(LowerNode, verbose_name=_("下级节点"), on_delete=models.PROTECT, related_name="+")
    evaluation = models.OneToOneField(
        "evaluation.Evaluation", verbose_name=_("评价"), on_delete=models.PROTECT, related_name="reported_outcome",
    )
    state = models.CharField(_("状态"), max_length=20)
    outcome = models.CharField(_("处理结果"), max_length=20, blank=True)
    opened_at = models.DateTimeField(_("立案时间"))
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    reported_at = models.DateTimeField(_("报送时间"))

    class Meta:
        verbose_name = _("下级报送的整改结果")
        verbose_name_plural = _("下级报送的整改结果")

    def __str__(self) -> str:
        return f"{self.node} {self.state}"


class Reconciliation(models.Model):
    """One day's comparison of per-region counts between this node and one upstream."""

    upstream = models.ForeignKey(Upstream, verbose_name=_("上级节点"), on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("日期"))
    checked_at = models.DateTimeField(_("核对时间"))
    local_evaluations = models.PositiveIntegerField(_("本节点评价数"))
    upstream_evaluations = models.PositiveIntegerField(_("上级节点评价数"))
    local_records = models.PositiveIntegerField(_("本节点办件数"))
    upstream_records = models.PositiveIntegerField(_("上级节点办件数"))
    differences = models.JSONField(_("差异"), default=list, help_text=_("每项：行政区划、类型、本节点数、上级节点数"))

    class Meta:
        verbose_name = _("对账")
        verbose_name_plural = _("对账")
        ordering = ["-day", "upstream_id"]
        constraints = [models.UniqueConstraint(fields=["upstream", "day"], name="reconciliation_one_per_day")]

    def __str__(self) -> str:
        return f"{self.upstream} {self.day}"

    @property
    def matches(self) -> bool:
        return not self.differences


class ReceivedReport(models.Model):
    """A periodic report an upper node made about this node's regions and departments and sent down (§四(三))."""

    scope_paths = ScopePaths(region=("region_code",))

    upstream = models.ForeignKey(Upstream, verbose_name=_("上级节点"), on_delete=models.CASCADE, related_name="+")
    remote_id = models.BigIntegerField(_("上级报告编号"))
    title = models.CharField(_("标题"), max_length=300)
    kind = models.CharField(_("报告类型"), max_length=10)
    period_start = models.DateField(_("期间开始"))
    period_end = models.DateField(_("期间结束"))
    region_code = models.CharField(_("行政区划代码"), max_length=12, db_index=True)
    department_name = models.CharField(_("部门"), max_length=200, blank=True)
    pdf = models.FileField(_("PDF文件"), upload_to="received-reports/%Y/%m/", max_length=200)
    generated_at = models.DateTimeField(_("生成时间"))
    received_at = models.DateTimeField(_("接收时间"))

    class Meta:
        verbose_name = _("上级下发的报告")
        verbose_name_plural = _("上级下发的报告")
        ordering = ["-period_start", "region_code"]
        constraints = [models.UniqueConstraint(fields=["upstream", "remote_id"], name="received_report_once")]

    def __str__(self) -> str:
        return self.title
