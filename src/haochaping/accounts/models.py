"""API clients authenticate with keys that carry scopes (DESIGN.md "People, scopes, privacy")."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haochaping.core.fields import PersonalDataField
from haochaping.core.masking import mask_name
from haochaping.core.scoping import EVERYTHING, NOTHING, ScopePaths, Visibility
from haochaping.org.rules import region_prefix

from .roles import NEEDS_REGION, NEEDS_STAFF, NEEDS_UNIT, Role

# How a role is named after a person's name: 张三（经办人，历下区人社局）.
ROLE_SHORT = {
    Role.EVALUATOR: _("评价人"), Role.STAFF: _("窗口工作人员"), Role.HANDLER: _("经办人"), Role.SUPERVISOR: _("监督人员"),
    Role.ASSESSOR: _("第三方评估"), Role.HOTLINE: _("12345话务员"), Role.ADMINISTRATOR: _("系统管理员"),
}


LABEL_RELATED = ("department", "agency", "region", "staff")


def display_related(path: str) -> tuple[str, ...]:
    """What ``select_related`` needs so that showing the user at ``path`` (``str(user)``: name, role, unit) costs no
    further query per row."""
    return tuple(f"{path}__{r}" for r in LABEL_RELATED)


class User(AbstractUser):
    """A person who signs in. The role decides what they may do; region and unit decide what they see."""

    scope_paths = ScopePaths(region=("region_id",), department=("department_id",), agency=("agency_id",), staff=("staff_id",))

    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.EVALUATOR)
    region = models.ForeignKey(
        "org.Region", verbose_name=_("所属行政区划"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("监督人员看到本地区及下级地区的全部数据；系统管理员留空表示全国"),
    )
    department = models.ForeignKey(
        "org.Department", verbose_name=_("所属部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    agency = models.ForeignKey(
        "org.ServiceAgency", verbose_name=_("所属政务服务机构"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    staff = models.OneToOneField(
        "org.Staff", verbose_name=_("对应工作人员（工号）"), null=True, blank=True, on_delete=models.PROTECT, related_name="user"
    )
    totp_secret = PersonalDataField(_("动态口令密钥"), kind="secret")
    totp_confirmed_at = models.DateTimeField(_("动态口令绑定时间"), null=True, blank=True)
    # The last TOTP time step accepted: a code is good once, and never one older than the last (replay guard).
    totp_last_step = models.BigIntegerField(null=True, blank=True, editable=False)
    must_change_password = models.BooleanField(_("下次登录须修改密码"), default=False)
    is_demo = models.BooleanField(_("演示账号"), default=False)

    objects = UserManager()
    label_related = LABEL_RELATED  # what str() reads: core.admin_scoping's filters load it with the choices

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        permissions = [("reveal_personal_data", _("查看完整个人信息（须说明理由）"))]

    def clean(self):
        super().clean()
        if self.role in NEEDS_REGION and not self.region_id:
            raise ValidationError({"region": _("该角色必须指定所属行政区划")})
        if self.role in NEEDS_UNIT and not (self.department_id or self.agency_id):
            raise ValidationError({"department": _("业务办理单位经办人必须指定所属部门或政务服务机构")})
        if self.role in NEEDS_STAFF and not self.staff_id:
            raise ValidationError({"staff": _("窗口工作人员必须关联工号")})

    def scope_visibility(self) -> Visibility:
        """What this person may see (core.scoping asks the actor): the role decides which of region, unit or
        staff record counts; an inactive account, or one missing what its role needs, sees nothing."""
        if not self.is_authenticated or not self.is_active:
            return NOTHING
        if self.is_superuser:
            return EVERYTHING
        role = self.role
        if role == Role.ADMINISTRATOR:
            return Visibility(region_prefix=region_prefix(self.region_id)) if self.region_id else EVERYTHING
        if role in (Role.SUPERVISOR, Role.ASSESSOR, Role.HOTLINE) and self.region_id:
            return Visibility(region_prefix=region_prefix(self.region_id))
        if role == Role.HANDLER and (self.department_id or self.agency_id):
            return Visibility(department_id=self.department_id, agency_id=self.agency_id)
        if role == Role.STAFF and self.staff_id:
            return Visibility(staff_id=self.staff_id)
        return NOTHING

    @property
    def person_name(self) -> str:
        """The person's name as Chinese writes it (姓 then 名, no space), else their staff record's name; "" if none."""
        name = f"{self.last_name}{self.first_name}".strip()
        if not name and self.staff_id:
            name = self.staff.name
        return name

    @property
    def place(self) -> str:
        """The unit (department or hall) the person works for, else their region's name."""
        for unit in (self.department_id and self.department, self.agency_id and self.agency,
                     self.region_id and self.region):
            if unit:
                return unit.name
        return ""

    def __str__(self) -> str:
        """张三（经办人，历下区人社局）: people are shown by name, role and unit, never by a login name such as
        handler-11370; without a name on file, the role and unit with the login name in brackets. An evaluator's
        name is personal data: masked (张*)."""
        role = ROLE_SHORT.get(self.role, str(self.get_role_display()))
        details = "，".join(str(x) for x in (role, self.place) if x)
        name = self.person_name
        if name and self.role == Role.EVALUATOR:
            name = mask_name(name)
        if not name:
            return f"{details}（账号 {self.username}）" if details else self.username
        return f"{name}（{details}）"

    @property
    def is_insider(self) -> bool:
        from .roles import INSIDERS

        return self.is_superuser or self.role in INSIDERS


class Scope(models.TextChoices):
    RECORDS_WRITE = "records:write", _("推送办件")
    RECORDS_READ = "records:read", _("读取办件")
    EVALUATIONS_WRITE = "evaluations:write", _("提交评价")
    EVALUATIONS_READ = "evaluations:read", _("读取评价")
    STATS_READ = "stats:read", _("读取统计")
    CASES_READ = "cases:read", _("读取整改案件与申诉")
    CASES_WRITE = "cases:write", _("登记投诉")


class ApiKey(models.Model):
    scope_paths = ScopePaths(region=("region_id",))
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
    rate_limit_per_minute = models.PositiveIntegerField(
        _("每分钟请求上限"), default=600, help_text=_("超过后返回 429 并给出 Retry-After")
    )

    class Meta:
        verbose_name = _("接口密钥")
        verbose_name_plural = _("接口密钥")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    def scope_visibility(self) -> Visibility:
        """A key bound to a region sees that subtree; an unbound key sees everything (core.scoping asks)."""
        return Visibility(region_prefix=region_prefix(self.region_id)) if self.region_id else EVERYTHING

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class PersonalDataAccess(models.Model):
    """One reveal of a person's full name, phone or ID number (R7.2): who, whose, which field, why, when, from where.

    ``region_code`` is the subject's region, copied so supervisors see the log of their subtree.
    """

    scope_paths = ScopePaths(region=("region_code",))

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(User, verbose_name=_("查看人"), on_delete=models.PROTECT, related_name="personal_data_accesses")
    subject_type = models.CharField(_("对象类型"), max_length=60)
    subject_id = models.CharField(_("对象"), max_length=64)
    field = models.CharField(_("字段"), max_length=60)
    reason = models.TextField(_("理由"))
    region_code = models.CharField(_("对象所属行政区划"), max_length=12, db_index=True)
    ip_address = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)

    class Meta:
        verbose_name = _("个人信息查看记录")
        verbose_name_plural = _("个人信息查看记录")
        ordering = ["-at"]
        indexes = [models.Index(fields=["user", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.subject_type}:{self.subject_id}.{self.field}"
