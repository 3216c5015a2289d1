"""Core admin: the working-day calendar (R4.6) and the read-only audit log.

Calendar writes go through core.services (audited; the cache follows through core.receivers). Both calendar
lists warn, in Chinese, about the years around now that have no published arrangement and therefore count
Monday–Friday only; the year list offers a form to type a whole State Council notice in.
"""

from __future__ import annotations

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haochaping.core.admin_scoping import ScopedAdminMixin

from . import calendar, calendar_rules, services
from .models import AuditEntry, CalendarDay, CalendarYear
from .problems import DomainError

WEEKDAYS = "一二三四五六日"


def _actor(request) -> str:
    return request.user.get_username() or f"user:{request.user.pk}"


def _region_names(codes) -> dict[str, str]:
    """Region names for display; core sits below org, so it asks the app registry instead of importing."""
    codes = [c for c in codes if c]
    if not codes or not apps.is_installed("haochaping.org"):
        return {}
    Region = apps.get_model("org", "Region")
    wanted = set(codes) | {c.ljust(12, "0") for c in codes}
    names = {}
    for code, name in Region.objects.filter(code__in=wanted).values_list("code", "name"):
        names[calendar_rules.canonical_region_code(code)] = name
    return names


def fallback_warning(request) -> None:
    """Put the "year not entered" warning on the page being rendered (GET only, so it is not repeated
    after a redirect)."""
    if request.method != "GET":
        return
    missing = calendar.fallback_years(calendar_rules.years_to_watch(timezone.localdate()))
    if not missing:
        return
    text = calendar_rules.fallback_notice(missing)
    url = reverse("admin:core_calendaryear_enter")
    messages.warning(
        request, format_html('{}。<a href="{}?year={}">{}</a>', text, url, missing[0], _("录入全年安排"))
    )


class YearFilter(admin.SimpleListFilter):
    title = gettext_lazy("年份")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        years = sorted({d.year for d in CalendarDay.objects.dates("date", "year")}, reverse=True)
        return [(str(y), _("%(year)s年") % {"year": y}) for y in years]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(date__year=int(self.value()))
        return queryset


class RegionFilter(admin.SimpleListFilter):
    title = gettext_lazy("适用地区")
    parameter_name = "region"
    NATIONAL = "national"

    def lookups(self, request, model_admin):
        codes = sorted(set(CalendarDay.objects.exclude(region_code="").values_list("region_code", flat=True)))
        names = _region_names(codes)
        return [(self.NATIONAL, _("全国"))] + [(c, f"{names.get(c, '')}（{c}）") for c in codes]

    def queryset(self, request, queryset):
        if self.value() == self.NATIONAL:
            return queryset.filter(region_code="")
        if self.value():
            return queryset.filter(region_code=self.value())
        return queryset


class CalendarDayForm(forms.ModelForm):
    class Meta:
        model = CalendarDay
        fields = ["date", "is_workday", "name", "region_code"]

    def clean_region_code(self):
        code = self.cleaned_data.get("region_code") or ""
        try:
            code = calendar_rules.canonical_region_code(code)
        except ValueError:
            raise forms.ValidationError(_("行政区划代码应为6、9或12位数字，留空表示全国")) from None
        if code and apps.is_installed("haochaping.org"):
            Region = apps.get_model("org", "Region")
            if not Region.objects.filter(code__in={code, code.ljust(12, "0")}).exists():
                raise forms.ValidationError(_("行政区划代码%(code)s不存在，请先在“行政区划”中添加") % {"code": code})
        return code


@admin.register(CalendarDay)
class CalendarDayAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = CalendarDayForm
    list_display = ["date", "weekday", "name", "is_workday", "region", "source"]
    list_filter = [YearFilter, RegionFilter, "is_workday", "source"]
    search_fields = ["name", "region_code"]
    date_hierarchy = "date"
    ordering = ["-date", "region_code"]
    list_per_page = 100

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if apps.is_installed("haochaping.org"):
            Region = apps.get_model("org", "Region")
            queryset = queryset.annotate(
                region_name=Subquery(Region.objects.filter(code=OuterRef("region_code")).values("name")[:1])
            )
        return queryset

    @admin.display(description=gettext_lazy("星期"))
    def weekday(self, obj: CalendarDay) -> str:
        return _("周%(day)s") % {"day": WEEKDAYS[obj.date.weekday()]}

    @admin.display(description=gettext_lazy("适用地区"), ordering="region_code")
    def region(self, obj: CalendarDay) -> str:
        if not obj.region_code:
            return _("全国")
        name = getattr(obj, "region_name", None)
        return f"{name}（{obj.region_code}）" if name else obj.region_code

    def changelist_view(self, request, extra_context=None):
        fallback_warning(request)
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        services.save_calendar_day(obj, actor=_actor(request))

    def delete_model(self, request, obj):
        services.delete_calendar_days([obj], actor=_actor(request))

    def delete_queryset(self, request, queryset):
        services.delete_calendar_days(queryset, actor=_actor(request))


class ArrangementForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("年份"), min_value=2000, max_value=2100)
    note = forms.CharField(
        label=gettext_lazy("依据"), max_length=200, widget=forms.TextInput(attrs={"size": 70}),
        help_text=gettext_lazy("如：国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕×号）"),
    )
    holidays = forms.CharField(
        label=gettext_lazy("放假安排"),
        widget=forms.Textarea(attrs={"rows": 9, "cols": 60, "placeholder": "2027-01-01 至 2027-01-03 元旦"}),
        help_text=gettext_lazy("每行一段：开始日期 至 结束日期 名称；只放一天时只写一个日期。周末也可写入，不影响计算。"),
    )
    workdays = forms.CharField(
        label=gettext_lazy("调休上班日"), required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 60, "placeholder": "2027-02-06 春节调休上班"}),
        help_text=gettext_lazy("每行一天：日期 名称。这些周六、周日按工作日计算。"),
    )


@admin.register(CalendarYear)
class CalendarYearAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["year", "source", "note", "holiday_count", "workday_count"]
    list_filter = ["source"]
    search_fields = ["note"]
    readonly_fields = ["source"]
    fields = ["year", "note", "source"]
    change_list_template = "admin/core/calendaryear/change_list.html"

    def get_urls(self):
        return [
            path("enter/", self.admin_site.admin_view(self.enter_view), name="core_calendaryear_enter"),
        ] + super().get_urls()

    def get_queryset(self, request):
        def national(workday: bool):
            days = CalendarDay.objects.filter(region_code="", is_workday=workday, date__year=OuterRef("year"))
            return Coalesce(Subquery(days.order_by().values("region_code").annotate(n=Count("pk")).values("n")[:1]), 0)

        return super().get_queryset(request).annotate(holidays=national(False), workdays=national(True))

    @admin.display(description=gettext_lazy("全国放假日数"))
    def holiday_count(self, obj: CalendarYear) -> int:
        return obj.holidays

    @admin.display(description=gettext_lazy("调休上班日数"))
    def workday_count(self, obj: CalendarYear) -> int:
        return obj.workdays

    def changelist_view(self, request, extra_context=None):
        fallback_warning(request)
        extra = {"can_enter": self._can_enter(request), **(extra_context or {})}
        return super().changelist_view(request, extra)

    def save_model(self, request, obj, form, change):
        services.save_calendar_year(obj, actor=_actor(request))

    def delete_model(self, request, obj):
        services.delete_calendar_years([obj], actor=_actor(request))

    def delete_queryset(self, request, queryset):
        services.delete_calendar_years(queryset, actor=_actor(request))

    def _can_enter(self, request) -> bool:
        return request.user.has_perms(
            ["core.add_calendaryear", "core.change_calendaryear", "core.add_calendarday", "core.change_calendarday",
             "core.delete_calendarday"]
        )

    def enter_view(self, request):
        """Type a whole year's State Council notice in one form."""
        if not self._can_enter(request):
            raise PermissionDenied
        if request.method == "POST":
            form = ArrangementForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    services.enter_year_arrangement(
                        data["year"], holidays_text=data["holidays"], workdays_text=data["workdays"],
                        note=data["note"], actor=_actor(request),
                    )
                except DomainError as exc:
                    form.add_error(exc.field if exc.field in form.fields else None, exc.detail)
                else:
                    messages.success(request, _("%(year)s年节假日安排已录入，期限将按新安排计算") % {"year": data["year"]})
                    return redirect("admin:core_calendaryear_changelist")
        else:
            year = request.GET.get("year", "")
            form = ArrangementForm(initial={"year": int(year)} if year.isdigit() else {})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("录入全年节假日安排"),
            "form": form,
        }
        return TemplateResponse(request, "admin/core/calendaryear/enter_arrangement.html", context)


@admin.register(AuditEntry)
class AuditEntryAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The audit log can be read, never written or edited through the admin."""

    list_display = ["at", "actor", "action", "object_type", "object_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor", "action", "object_id"]
    date_hierarchy = "at"
    readonly_fields = ["at", "actor", "action", "object_type", "object_id", "data"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- third-party admins in Chinese (core/thirdparty.py names the apps) ------------------------------------------------

def _tasks_admin_in_chinese() -> None:
    """django-tasks-db's result admin titles two columns with plain English strings (not translatable): re-register it
    with Chinese titles, the rest unchanged."""
    from django_tasks_db.admin import DBTaskResultAdmin
    from django_tasks_db.models import DBTaskResult

    class TaskResultAdmin(DBTaskResultAdmin):
        @admin.display(description=gettext_lazy("错误堆栈"))
        def formatted_traceback(self, obj):
            return super().formatted_traceback(obj)

        @admin.display(description=gettext_lazy("最早执行时间"))
        def display_run_after(self, obj):
            return super().display_run_after(obj)

    if admin.site.is_registered(DBTaskResult):
        admin.site.unregister(DBTaskResult)
    admin.site.register(DBTaskResult, TaskResultAdmin)


_tasks_admin_in_chinese()
