"""Who provides services and who supervises them (R2.1)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from haochaping.core.fields import PersonalDataField
from haochaping.core.scoping import ScopePaths

from . import rules


def validate_credit_code(value: str) -> None:
    problem = rules.credit_code_problem(value)
    if problem:
        raise ValidationError(problem, code="credit_code")


def validate_region_code(value: str) -> None:
    if not rules.is_region_code(value):
        raise ValidationError(_("行政区划代码应为6、9或12位数字"), code="region_code")


class RegionQuerySet(models.QuerySet):
    def subtree(self, code: str) -> RegionQuerySet:
        """The region and everything below it (GB/T 2260 codes share their ancestors' prefixes)."""
        return self.filter(code__startswith=rules.region_prefix(code))


class Region(models.Model):
    scope_paths = ScopePaths(region=("code",))
    class Level(models.IntegerChoices):
        PROVINCE = 1, _("省级")
        CITY = 2, _("市级")
        COUNTY = 3, _("县级")
        TOWNSHIP = 4, _("乡镇级")
        VILLAGE = 5, _("村级")

    code = models.CharField(_("行政区划代码"), max_length=12, primary_key=True, validators=[validate_region_code])
    name = models.CharField(_("名称"), max_length=100)
    level = models.PositiveSmallIntegerField(_("层级"), choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级区划"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class RegionPolicy(models.Model):
    """Per-region settings that override the national defaults; the nearest ancestor's policy applies."""

    scope_paths = ScopePaths(region=("region_id",))

    class LabelSet(models.TextChoices):
        SATISFACTION = "satisfaction", _("非常满意…非常不满意")
        GOOD = "good", _("很好…很差")

    region = models.OneToOneField(Region, verbose_name=_("行政区划"), on_delete=models.CASCADE, related_name="policy")
    supplementary_days = models.PositiveSmallIntegerField(
        _("补充评价期限（工作日）"), null=True, blank=True, help_text=_("办件办结后可补充评价的工作日数，空则沿用上级或全国默认（5）")
    )
    label_set = models.CharField(_("评价等级文字"), max_length=20, choices=LabelSet.choices, blank=True)
    # Rectification and appeal deadlines in working days (R4.2, R4.6, R7.3); empty = the parent's or the default.
    callback_days = models.PositiveSmallIntegerField(_("回访核实期限（工作日）"), null=True, blank=True, help_text=_("默认1"))
    fix_now_days = models.PositiveSmallIntegerField(_("立行立改期限（工作日）"), null=True, blank=True, help_text=_("默认5"))
    rectify_days = models.PositiveSmallIntegerField(_("限期整改期限（工作日）"), null=True, blank=True, help_text=_("默认15"))
    appeal_days = models.PositiveSmallIntegerField(
        _("申诉期限（工作日）"), null=True, blank=True, help_text=_("案件立案后可申诉的工作日数，默认3")
    )
    appeal_review_days = models.PositiveSmallIntegerField(_("申诉审核期限（工作日）"), null=True, blank=True, help_text=_("默认5"))
    satisfaction_days = models.PositiveSmallIntegerField(
        _("评价人确认期限（工作日）"), null=True, blank=True, help_text=_("答复后评价人可表示满意或不满意的工作日数，默认5")
    )
    publish_staff_results = models.BooleanField(
        _("公开工作人员评价结果"), null=True, blank=True, help_text=_("空则沿用上级；默认不公开")
    )

    class Meta:
        verbose_name = _("地区评价规则")
        verbose_name_plural = _("地区评价规则")

    def __str__(self) -> str:
        return str(self.region)


class ManagementAgency(models.Model):
    """政务服务管理机构: one per region, supervises everything in the region's subtree."""

    scope_paths = ScopePaths(region=("region_id",))

    region = models.OneToOneField(Region, verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="management_agency")
    name = models.CharField(_("名称"), max_length=200)
    credit_code = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, null=True, blank=True, validators=[validate_credit_code]
    )

    class Meta:
        verbose_name = _("政务服务管理机构")
        verbose_name_plural = _("政务服务管理机构")
        ordering = ["region_id"]

    def __str__(self) -> str:
        return self.name


class Sector(models.TextChoices):
    """What kind of unit a department is: a government department (the default), or a public-service enterprise
    (§五: 供水、供电、供气、供热、通信、邮政、公共交通) evaluated through the same channels and shown apart."""

    GOVERNMENT = "", _("政府部门")
    WATER = "water", _("供水")
    POWER = "power", _("供电")
    GAS = "gas", _("供气")
    HEATING = "heating", _("供热")
    TELECOM = "telecom", _("通信")
    POST = "post", _("邮政")
    TRANSPORT = "transport", _("公共交通")


class Department(models.Model):
    scope_paths = ScopePaths(region=("region_id",), department=("pk",))
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True, validators=[validate_credit_code])
    name = models.CharField(_("名称"), max_length=200)
    region = models.ForeignKey(Region, verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="departments")
    is_vertical = models.BooleanField(
        _("垂直管理部门"), default=False, help_text=_("派驻地方大厅的垂直管理部门，通过所在地区的系统评价（§五(一)）")
    )
    is_active = models.BooleanField(_("在用"), default=True)
    sector = models.CharField(_("单位类别"), max_length=20, choices=Sector.choices, default=Sector.GOVERNMENT,
                              blank=True, db_index=True,
                              help_text=_("公共服务企业（供水、供电、供气等）在统计、报告和门户中单独列示（§五）"))
    industry_department = models.ForeignKey(
        "self", verbose_name=_("行业主管部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="supervised_enterprises",
        help_text=_("公共服务企业的行业主管部门：可查看和督办该企业的评价与整改"),
    )

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["region_id", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_enterprise(self) -> bool:
        return bool(self.sector)


class ServiceAgency(models.Model):
    """政务服务机构: a hall, center or station where services are given."""

    scope_paths = ScopePaths(region=("region_id",), agency=("pk",))

    class Kind(models.TextChoices):
        HALL = "hall", _("政务服务大厅")
        CENTER = "center", _("政务服务中心")
        STATION = "station", _("便民服务站点")

    code = models.CharField(_("机构编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    region = models.ForeignKey(Region, verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="service_agencies")
    address = models.CharField(_("地址"), max_length=300, blank=True)
    is_active = models.BooleanField(_("在用"), default=True)

    class Meta:
        verbose_name = _("政务服务机构")
        verbose_name_plural = _("政务服务机构")
        ordering = ["region_id", "code"]

    def __str__(self) -> str:
        return self.name


class Window(models.Model):
    scope_paths = ScopePaths(region=("agency__region_id",), department=("department_id",), agency=("agency_id",))
    agency = models.ForeignKey(ServiceAgency, verbose_name=_("政务服务机构"), on_delete=models.PROTECT, related_name="windows")
    code = models.CharField(_("窗口编号"), max_length=40)
    name = models.CharField(_("名称"), max_length=200)
    department = models.ForeignKey(
        Department, verbose_name=_("入驻部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="windows"
    )
    is_active = models.BooleanField(_("在用"), default=True)

    class Meta:
        verbose_name = _("窗口")
        verbose_name_plural = _("窗口")
        ordering = ["agency_id", "code"]
        constraints = [models.UniqueConstraint(fields=["agency", "code"], name="window_code_unique_in_agency")]

    def __str__(self) -> str:
        return f"{self.agency.name} {self.name}"


class Staff(models.Model):
    """A staff member is rated by name and 工号 (staff_no); staff names are public in the hall, not PII of citizens."""

    scope_paths = ScopePaths(
        region=("agency__region_id", "department__region_id"), department=("department_id",), agency=("agency_id",), staff=("pk",)
    )

    staff_no = models.CharField(_("工号"), max_length=40, unique=True)
    name = models.CharField(_("姓名"), max_length=50)
    agency = models.ForeignKey(ServiceAgency, verbose_name=_("政务服务机构"), null=True, blank=True, on_delete=models.PROTECT, related_name="staff")
    department = models.ForeignKey(Department, verbose_name=_("部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="staff")
    window = models.ForeignKey(Window, verbose_name=_("窗口"), null=True, blank=True, on_delete=models.SET_NULL, related_name="staff")
    is_active = models.BooleanField(_("在岗"), default=True)

    class Meta:
        verbose_name = _("工作人员")
        verbose_name_plural = _("工作人员")
        ordering = ["staff_no"]

    def __str__(self) -> str:
        return f"{self.name}（{self.staff_no}）"


class Platform(models.Model):
    scope_paths = ScopePaths(region=("region_id",), department=("operator_id",))
    class Kind(models.TextChoices):
        BUSINESS_SYSTEM = "business_system", _("业务系统")
        HOTLINE = "hotline", _("热线")
        MOBILE = "mobile", _("移动端")
        SELF_SERVICE = "self_service", _("自助端")
        PC = "pc", _("PC端")

    code = models.CharField(_("平台编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    region = models.ForeignKey(Region, verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="platforms")
    operator = models.ForeignKey(
        Department, verbose_name=_("运营单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="platforms"
    )
    # 一事一评 (R3.5): the platform signs requests to open the region's evaluation page with this secret, and may
    # send the evaluator back only to these URL prefixes (one per line).
    evaluation_secret = PersonalDataField(_("评价页面签名密钥"), kind="secret")
    return_url_prefixes = models.TextField(_("允许的返回地址前缀"), blank=True, help_text=_("每行一个，如 https://www.example.gov.cn/"))
    is_active = models.BooleanField(_("在用"), default=True)

    class Meta:
        verbose_name = _("政务服务平台")
        verbose_name_plural = _("政务服务平台")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name
