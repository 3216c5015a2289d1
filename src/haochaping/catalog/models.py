"""Service items (事项) and their versioned guides (办事指南) (R2.2, R2.3)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from haochaping.core.scoping import ScopePaths


class ItemType(models.TextChoices):
    # 事项类型 codes used by the national 政务服务平台 catalog.
    LICENSING = "01", _("行政许可")
    PENALTY = "02", _("行政处罚")
    ENFORCEMENT = "03", _("行政强制")
    LEVY = "04", _("行政征收")
    PAYMENT = "05", _("行政给付")
    INSPECTION = "06", _("行政检查")
    CONFIRMATION = "07", _("行政确认")
    REWARD = "08", _("行政奖励")
    ADJUDICATION = "09", _("行政裁决")
    OTHER_POWER = "10", _("其他行政权力")
    PUBLIC_SERVICE = "20", _("公共服务")


class ServiceItem(models.Model):
    scope_paths = ScopePaths(region=("region_id",), department=("department_id", "lead_department_id"))
    implementation_code = models.CharField(_("实施编码"), max_length=60, unique=True)
    basic_code = models.CharField(_("基本编码"), max_length=40, db_index=True)
    name = models.CharField(_("事项名称"), max_length=300)
    basis = models.TextField(_("设定依据"), blank=True)
    item_type = models.CharField(_("事项类型"), max_length=2, choices=ItemType.choices)
    department = models.ForeignKey(
        "org.Department", verbose_name=_("实施部门"), on_delete=models.PROTECT, related_name="items"
    )
    region = models.ForeignKey("org.Region", verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="items")
    lead_department = models.ForeignKey(
        "org.Department",
        verbose_name=_("牵头部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_items",
        help_text=_("跨部门事项须指定牵头部门"),
    )
    cooperating_departments = models.ManyToManyField(
        "org.Department", verbose_name=_("协同部门"), blank=True, related_name="cooperating_items"
    )
    is_active = models.BooleanField(_("在用"), default=True)

    class Meta:
        verbose_name = _("政务服务事项")
        verbose_name_plural = _("政务服务事项")
        ordering = ["implementation_code"]

    def __str__(self) -> str:
        return self.name

    def current_guide(self) -> ServiceGuide | None:
        return self.guides.order_by("-version").first()


class ServiceGuide(models.Model):
    """One version of an item's 办事指南. Versions are only ever added (catalog.services.publish_guide)."""

    scope_paths = ScopePaths(region=("item__region_id",), department=("item__department_id", "item__lead_department_id"))

    item = models.ForeignKey(ServiceItem, verbose_name=_("事项"), on_delete=models.PROTECT, related_name="guides")
    version = models.PositiveIntegerField(_("版本"))
    accepting_unit = models.TextField(_("受理单位"))
    channels = models.TextField(_("办理渠道"))
    conditions = models.TextField(_("申请条件"))
    materials = models.TextField(_("申请材料"))
    procedure = models.TextField(_("办理程序"))
    time_limit = models.TextField(_("办理时限"))
    fees = models.TextField(_("收费依据及标准"))
    evaluation_channels = models.TextField(_("评价渠道"))
    published_at = models.DateTimeField(_("发布时间"), auto_now_add=True)
    published_by = models.CharField(_("发布人"), max_length=150, blank=True)

    ELEMENTS = (
        "accepting_unit",
        "channels",
        "conditions",
        "materials",
        "procedure",
        "time_limit",
        "fees",
        "evaluation_channels",
    )

    class Meta:
        verbose_name = _("办事指南")
        verbose_name_plural = _("办事指南")
        ordering = ["item_id", "-version"]
        constraints = [models.UniqueConstraint(fields=["item", "version"], name="guide_version_unique")]

    def __str__(self) -> str:
        return f"{self.item.name} v{self.version}"
