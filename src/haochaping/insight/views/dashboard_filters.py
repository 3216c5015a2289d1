"""The dashboard's filters and drill-down position, read from the query string and turned into one
:class:`metrics.StatsFilter` — shared by the dashboard and the evaluation list it drills into, so both count the
same rows.

The position is a path region → department or service agency → window → staff member, each given by the code
people use (行政区划代码, 统一社会信用代码, 机构编码, 机构编码/窗口编号, 工号; never a name). Each is looked up through
core.scoping: a code that does not exist and a code outside the caller's scope both answer 404 — the project's
rule for anything out of scope — so nobody can tell the two apart by crafting a URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haochaping.catalog.models import ServiceItem
from haochaping.core.scoping import scope, visibility_for
from haochaping.evaluation.models import Channel
from haochaping.org.models import (
    Department,
    Platform,
    Region,
    ServiceAgency,
    Staff,
    Window,
    validate_region_code,
)
from haochaping.org.rules import region_prefix

from .. import metrics
from ..metrics import StatsFilter
from ..models import DailyParticipation

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366  # three years at most at once
QUICK_PERIODS = (
    ("month", gettext_lazy("本月")), ("last_month", gettext_lazy("上月")),
    ("quarter", gettext_lazy("本季度")), ("year", gettext_lazy("本年")),
)
POSITION_PARAMS = ("region", "department", "agency", "window", "staff", "item", "platform")


def quick_period(name: str, today: date) -> tuple[date, date]:
    """本月 / 上月 / 本季度 / 本年, up to today (a whole month for 上月)."""
    if name == "month":
        return today.replace(day=1), today
    if name == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if name == "quarter":
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
    if name == "year":
        return date(today.year, 1, 1), today
    raise ValueError(name)


def _region_code(value: str) -> None:
    try:
        validate_region_code(value)
    except ValidationError as exc:
        raise ValidationError(_("行政区划代码应为6位、9位或12位数字")) from exc


class DashboardFilter(forms.Form):
    """GET filters. ``from``/``to`` are Python keywords, so those two fields are added in __init__."""

    period = forms.ChoiceField(
        label=gettext_lazy("快捷期间"), required=False, choices=[("", gettext_lazy("近30天或按起止日期")), *QUICK_PERIODS],
        error_messages={"invalid_choice": gettext_lazy("快捷期间应为本月、上月、本季度或本年")},
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("评价渠道"), required=False, choices=[("", gettext_lazy("全部渠道")), *Channel.choices],
        error_messages={"invalid_choice": gettext_lazy("评价渠道不存在，请从列表中选择")},
    )
    region = forms.CharField(required=False, max_length=12, validators=[_region_code], widget=forms.HiddenInput,
                             error_messages={"max_length": gettext_lazy("行政区划代码应为6位、9位或12位数字")})
    department = forms.CharField(required=False, max_length=18, widget=forms.HiddenInput,
                                 error_messages={"max_length": gettext_lazy("统一社会信用代码应为18位")})
    agency = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput,
                             error_messages={"max_length": gettext_lazy("机构编码过长")})
    window = forms.CharField(required=False, max_length=81, widget=forms.HiddenInput,
                             error_messages={"max_length": gettext_lazy("窗口应写作“机构编码/窗口编号”")})
    staff = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput,
                            error_messages={"max_length": gettext_lazy("工号过长")})
    # Not steps of the drill-down but filters across it: one 事项 (实施编码) or one 平台 (平台编码).
    item = forms.CharField(required=False, max_length=60, widget=forms.HiddenInput,
                           error_messages={"max_length": gettext_lazy("实施编码过长")})
    platform = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput,
                               error_messages={"max_length": gettext_lazy("平台编码过长")})

    field_labels = {"region": gettext_lazy("行政区划"), "department": gettext_lazy("部门"),
                    "agency": gettext_lazy("政务服务机构"), "window": gettext_lazy("窗口"), "staff": gettext_lazy("工作人员"),
                    "item": gettext_lazy("事项"), "platform": gettext_lazy("平台")}

    def __init__(self, *args, today: date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        date_widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        self.fields["from"] = forms.DateField(
            label=gettext_lazy("开始日期"), required=False, widget=date_widget,
            error_messages={"invalid": gettext_lazy("开始日期应为日期，如 2026-01-01")})
        self.fields["to"] = forms.DateField(
            label=gettext_lazy("结束日期"), required=False, widget=date_widget,
            error_messages={"invalid": gettext_lazy("结束日期应为日期，如 2026-12-31")})
        self.order_fields(["period", "from", "to", "channel"])

    def clean_window(self):
        value = self.cleaned_data.get("window", "").strip()
        if value and not all(value.partition("/")[::2]):
            raise ValidationError(_("窗口应写作“机构编码/窗口编号”"))
        return value

    def clean(self):
        data = super().clean()
        if data.get("period"):
            data["from"], data["to"] = quick_period(data["period"], self.today)
            return data
        start, end = data.get("from"), data.get("to")
        if "from" in self.errors or "to" in self.errors:
            return data
        if start and end and start > end:
            self.add_error("to", _("结束日期不能早于开始日期"))
        elif start and end and (end - start).days >= MAX_DAYS:
            self.add_error("to", _("一次最多查看三年，请缩短时间范围"))
        else:
            data["to"] = end = end or (self.today if not start else min(start + timedelta(days=MAX_DAYS - 1), self.today))
            data["from"] = start or end - timedelta(days=DEFAULT_DAYS - 1)
            if data["from"] > data["to"]:  # a start in the future: the day itself
                data["to"] = data["from"]
        return data

    def errors_by_label(self) -> list[tuple[str, str]]:
        out = []
        for name, errors in self.errors.items():
            label = self.fields[name].label or self.field_labels.get(name, name) if name in self.fields else ""
            out += [(str(label), str(e)) for e in errors]
        return out


@dataclass
class Position:
    """Where the dashboard stands: each step a model instance in the caller's scope, or None."""

    region: Region | None = None
    department: Department | None = None
    agency: ServiceAgency | None = None
    window: Window | None = None
    staff: Staff | None = None
    item: ServiceItem | None = None  # a filter across the path (the catalog is public: looked up unscoped)
    platform: Platform | None = None
    params: dict[str, str] = field(default_factory=dict)  # the codes, as in the URL

    @property
    def level(self) -> str:
        """The deepest step given: staff, window, agency, department or region (the scope's root counts as one)."""
        for name in ("staff", "window", "agency", "department"):
            if getattr(self, name) is not None:
                return name
        return "region"

    @property
    def name(self) -> str:
        obj = getattr(self, self.level)
        if obj is None:
            return ""
        if isinstance(obj, Window):
            return f"{obj.agency.name} {obj.name}"
        return obj.name


def _lookup(qs, user, *, counted_as: str | None = None, **where):
    obj = scope(qs, user).filter(**where).first()
    if obj is None and counted_as is not None:
        # A unit the caller cannot open as such, but whose evaluations lie in the caller's scope: the departments
        # serving at a hall handler's hall, the halls and 综合受理 windows (and their staff) where a department
        # handler's 办件 were handled. The page's
        # unit tables list them, so they can be drilled into; every figure stays within the caller's own scope.
        # A unit may be listed for its completed 办件 alone (参评率), before any of them is rated.
        candidate = qs.filter(**where).first()
        if candidate is not None and (
                metrics.counted(user, StatsFilter()).filter(**{counted_as: candidate.pk}).exists()
                or scope(DailyParticipation.objects.all(), user).filter(**{counted_as: candidate.pk}).exists()):
            obj = candidate
    if obj is None:
        raise Http404(_("没有找到这个地区或单位"))
    return obj


def position(user, data: dict) -> Position:
    """The scoped objects the cleaned ``data`` names; 404 when one does not exist or lies outside the scope."""
    pos = Position()
    code = data.get("region") or ""
    if code:
        pos.region = _lookup(Region.objects.all(), user, code=code)
    if data.get("department"):
        pos.department = _lookup(Department.objects.all(), user, counted_as="department",
                                 credit_code=data["department"].strip().upper())
    if data.get("agency"):
        pos.agency = _lookup(ServiceAgency.objects.all(), user, counted_as="agency", code=data["agency"])
    if data.get("window"):
        agency_code, _sep, window_code = data["window"].partition("/")
        pos.window = _lookup(Window.objects.select_related("agency"), user, counted_as="window", agency__code=agency_code,
                             code=window_code)
    if data.get("staff"):
        pos.staff = _lookup(Staff.objects.all(), user, counted_as="staff", staff_no=data["staff"])
    # Items and platforms are public (办事指南, the platforms' own pages), so they are found unscoped; the figures
    # under them are still only the caller's.
    if data.get("item"):
        pos.item = ServiceItem.objects.filter(implementation_code=data["item"].strip()).first()
        if pos.item is None:
            raise Http404(_("没有找到这个事项"))
    if data.get("platform"):
        pos.platform = Platform.objects.filter(code=data["platform"].strip()).first()
        if pos.platform is None:
            raise Http404(_("没有找到这个平台"))
    pos.params = {
        name: value for name, value in (
            ("region", pos.region.code if pos.region else ""),
            ("department", pos.department.credit_code if pos.department else ""),
            ("agency", pos.agency.code if pos.agency else ""),
            ("window", f"{pos.window.agency.code}/{pos.window.code}" if pos.window else ""),
            ("staff", pos.staff.staff_no if pos.staff else ""),
            ("item", pos.item.implementation_code if pos.item else ""),
            ("platform", pos.platform.code if pos.platform else ""),
        ) if value
    }
    return pos


def stats_filter(pos: Position, data: dict) -> StatsFilter:
    """The one filter behind every figure of the page (and the evaluation list): scope is applied by metrics."""

    def one(obj):
        return frozenset({obj.pk}) if obj is not None else None

    return StatsFilter(
        region_prefix=region_prefix(pos.region.code) if pos.region else None,
        region_code=pos.region.code if pos.region else None,
        departments=one(pos.department), agencies=one(pos.agency), windows=one(pos.window), staff=one(pos.staff),
        items=one(pos.item), platforms=one(pos.platform),
        channel=data.get("channel") or None, date_from=data.get("from"), date_to=data.get("to"),
    )


def sees_regions(user) -> bool:
    """Region-wide callers (supervisors, superusers) drill through regions; a handler starts at their units."""
    visibility = visibility_for(user)
    return bool(visibility.everything or visibility.region_prefix)


def query(data: dict, pos_params: dict, **changes) -> str:
    """The query string for the same period and channel at another position (``changes``: None removes)."""
    params: dict[str, str] = {}
    if data.get("period"):
        params["period"] = data["period"]
    elif data.get("from") and data.get("to"):
        params["from"], params["to"] = data["from"].isoformat(), data["to"].isoformat()
    if data.get("channel"):
        params["channel"] = data["channel"]
    params |= pos_params
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return urlencode(params)
