"""Supervisors' pages (R4.5): every case in their subtree with filters, its CSV, the figures per unit, the
reminders/escalations/reports. All through core.scoping; the CSV carries no personal data or free text."""

from __future__ import annotations

import csv
from datetime import date, datetime, time, timedelta

from django import forms
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Exists, F, OuterRef, Q
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haochaping.core.scoping import scope
from haochaping.evaluation.rules import level_text
from haochaping.org.models import Department, Region
from haochaping.org.rules import region_prefix
from haochaping.rectification.models import CaseNotice, CaseTransition
from haochaping.rectification.rules import AppealState, Outcome, State
from haochaping.rectification.views.common import (
    DUE_STATES,
    is_supervisor,
    visible_cases,
    with_current_due,
    workbench_view,
)
from haochaping.rectification.views.queue import list_rows, rows_of, with_list_related

PAGE_SIZE = 50
YES_NO = [("", gettext_lazy("全部")), ("1", gettext_lazy("是")), ("0", gettext_lazy("否"))]


class RegionChoice(forms.ModelChoiceField):
    def label_from_instance(self, region):
        # Counties share names across cities (市中区): a county is named with its city.
        return f"{region.parent.name}{region.name}" if region.level == Region.Level.COUNTY and region.parent else region.name


class CaseFilter(forms.Form):
    number = forms.RegexField(label=gettext_lazy("案件编号"), regex=r"^\s*\d{1,10}\s*$", required=False,
                              max_length=12, error_messages={"invalid": gettext_lazy("案件编号应为数字，如 001744")})
    region = RegionChoice(label=gettext_lazy("地区"), queryset=Region.objects.none(), required=False,
                          empty_label=gettext_lazy("全部"))
    opened_from = forms.DateField(label=gettext_lazy("立案日期自"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    opened_to = forms.DateField(label=gettext_lazy("立案日期至"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    overdue = forms.ChoiceField(label=gettext_lazy("逾期"), choices=YES_NO, required=False)
    state = forms.ChoiceField(label=gettext_lazy("状态"), choices=[("", gettext_lazy("全部"))] + list(State.choices),
                              required=False)
    department = forms.ModelChoiceField(label=gettext_lazy("责任单位"), queryset=Department.objects.none(),
                                        required=False, empty_label=gettext_lazy("全部"))
    outcome = forms.ChoiceField(label=gettext_lazy("处理结果"), required=False,
                                choices=[("", gettext_lazy("全部")), ("none", gettext_lazy("尚未确定"))] + list(Outcome.choices))
    real_name = forms.ChoiceField(label=gettext_lazy("实名"), choices=YES_NO, required=False)
    reported = forms.ChoiceField(label=gettext_lazy("已上报"), choices=YES_NO, required=False,
                                 help_text=gettext_lazy("逾期上报或报备管理机构的"))
    supervised = forms.ChoiceField(label=gettext_lazy("已督办"), choices=YES_NO, required=False,
                                   help_text=gettext_lazy("填写过督办意见的"))
    sort = forms.ChoiceField(label=gettext_lazy("排序"), required=False, choices=[
        ("due", gettext_lazy("期限由近到远")), ("-due", gettext_lazy("期限由远到近")), ("-opened", gettext_lazy("最新立案在前")),
    ])

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = scope(Department.objects.all(), user).order_by("region_id", "name")
        self.fields["region"].queryset = scope(
            Region.objects.filter(level__lte=Region.Level.COUNTY), user).select_related("parent").order_by("code")


def filtered_cases(request):
    """The supervisor's cases under the GET filters (invalid filter values are ignored, not errors), in the chosen
    order, and that order's name."""
    form = CaseFilter(request.GET or None, user=request.user)
    qs = with_current_due(visible_cases(request.user))
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    today = timezone.localdate()
    if data.get("overdue") == "1":
        qs = qs.filter(state__in=DUE_STATES, current_due__lt=today)  # the state: the index, not every case's CASE
    elif data.get("overdue") == "0":
        qs = qs.filter(Q(current_due__isnull=True) | Q(current_due__gte=today))
    if data.get("number"):
        qs = qs.filter(pk=int(data["number"]))
    if data.get("region"):
        qs = qs.filter(region__code__startswith=region_prefix(data["region"].code))
    tz = timezone.get_current_timezone()
    if data.get("opened_from"):
        qs = qs.filter(opened_at__gte=datetime.combine(data["opened_from"], time.min, tzinfo=tz))
    if data.get("opened_to"):
        qs = qs.filter(opened_at__lt=datetime.combine(data["opened_to"] + timedelta(days=1), time.min, tzinfo=tz))
    if data.get("state"):
        qs = qs.filter(state=data["state"])
    if data.get("department"):
        qs = qs.filter(department=data["department"])
    if data.get("outcome") == "none":
        qs = qs.filter(outcome="")
    elif data.get("outcome"):
        qs = qs.filter(outcome=data["outcome"])
    if data.get("real_name") in ("1", "0"):
        qs = qs.filter(is_real_name=data["real_name"] == "1")
    reported = Q(escalated_at__isnull=False) | Q(Exists(CaseNotice.objects.filter(
        case=OuterRef("pk"), kind__in=[CaseNotice.Kind.ESCALATION, CaseNotice.Kind.REPORT])))
    if data.get("reported") == "1":
        qs = qs.filter(reported)
    elif data.get("reported") == "0":
        qs = qs.exclude(reported)
    supervised = Exists(CaseTransition.objects.filter(case=OuterRef("pk"), action="supervise"))
    if data.get("supervised") == "1":
        qs = qs.filter(supervised)
    elif data.get("supervised") == "0":
        qs = qs.exclude(supervised)
    sort = data.get("sort") or "due"
    if sort == "-opened":
        qs = qs.order_by("-opened_at", "-pk")
    elif sort == "-due":
        qs = qs.order_by(F("current_due").desc(nulls_last=True), "-opened_at", "-pk")
    else:
        qs = qs.order_by(F("current_due").asc(nulls_last=True), "opened_at", "pk")
    return form, qs, sort


class DueFirst:
    """The filtered cases in one of the due-date orders (``qs`` ordered by current_due … NULLS LAST, then 立案时间), for
    Paginator (``count()`` and slices): those with a current deadline, then the rest, a page read by two queries.

    In one query PostgreSQL must compute and sort the deadline of every case in the supervisor's subtree before it
    can return the first 50: with 178 031 cases, 353 of the page's 419 ms (bench/README "Issue 14 re-measured on an
    idle machine"). Only cases in DUE_STATES, the few still on their unit's desk, have a deadline; the rest, nearly
    all of them, come back in the order of the index on opened_at. A page's ids are read first and then its cases
    with everything shown of them, so the rows a later page skips are never joined with their 办件 and evaluation."""

    def __init__(self, qs):
        _due, *then = qs.query.order_by
        # A deadline exactly in DUE_STATES: together every case once, in qs's order. By state, not by current_due IS
        # NULL, which PostgreSQL cannot estimate (it joined all 178 031 cases first).
        self.with_due = qs.filter(state__in=DUE_STATES)
        self.without_due = qs.exclude(state__in=DUE_STATES).order_by(*then)

    @cached_property
    def with_due_count(self) -> int:
        return self.with_due.count()

    def count(self) -> int:
        return self.with_due_count + self.without_due.count()

    def __getitem__(self, window: slice) -> list:
        start, stop, n = window.start or 0, window.stop, self.with_due_count
        cases = self._read(self.with_due, start, min(stop, n)) if start < n else []
        if stop > n:
            cases += self._read(self.without_due, max(start - n, 0), stop - n)
        return cases

    @staticmethod
    def _read(part, start: int, stop: int) -> list:
        ids = list(part.values_list("pk", flat=True)[start:stop])
        return list(with_list_related(part.filter(pk__in=ids))) if ids else []


def _supervisor_only(user) -> bool:
    return user.is_active and is_supervisor(user)


@workbench_view(allow=_supervisor_only)
def case_list(request):
    form, qs, sort = filtered_cases(request)
    cases = DueFirst(qs) if sort in ("due", "-due") else with_list_related(qs)
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "rectification/supervision.html", {
        "form": form, "page": page, "rows": rows_of(page.object_list), "query": params.urlencode(),
        "workbench_section": "supervision",
    })


def _cell(value) -> str:
    # Spreadsheet formula injection: a cell must not start with a formula character.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


CSV_HEADER = [
    gettext_lazy("案件编号"), gettext_lazy("类型"), gettext_lazy("状态"), gettext_lazy("行政区划"),
    gettext_lazy("责任单位"), gettext_lazy("事项"), gettext_lazy("评价等级"), gettext_lazy("差评标签"),
    gettext_lazy("实名"), gettext_lazy("处理结果"), gettext_lazy("立案时间"), gettext_lazy("当前期限"),
    gettext_lazy("逾期"), gettext_lazy("已上报"), gettext_lazy("申诉"),
]


@workbench_view(allow=_supervisor_only)
def case_csv(request):
    """The filtered list as CSV (UTF-8 with BOM for spreadsheet programs). No names, phones, comments or notes."""
    _form, qs, _sort = filtered_cases(request)
    today = timezone.localdate()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="cases-{today.isoformat()}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow([str(h) for h in CSV_HEADER])
    reported_ids = set(CaseNotice.objects.filter(
        case__in=qs.values("pk"), kind__in=[CaseNotice.Kind.ESCALATION, CaseNotice.Kind.REPORT],
    ).values_list("case_id", flat=True))
    for row in list_rows(qs.select_related("region")):
        case, due = row["case"], row["due"]
        evaluation = case.evaluation
        appeal = getattr(case, "appeal", None) if _has(case, "appeal") else None
        writer.writerow([_cell(v) for v in (
            f"{case.pk:06d}", case.get_kind_display(), case.get_state_display(), case.region.name,
            case.department.name, case.record.item.name if case.record else "",
            level_text(evaluation.level) if evaluation else "",
            "；".join(f"{label.code} {label.text}" for label in evaluation.labels.all()) if evaluation else "",
            _("是") if case.is_real_name else _("否"), case.get_outcome_display(),
            timezone.localtime(case.opened_at).strftime("%Y-%m-%d %H:%M"),
            due.due.isoformat() if due else "", (_("是") if due and due.overdue else _("否")),
            _("是") if (case.escalated_at or case.pk in reported_ids) else _("否"),
            appeal.get_state_display() if appeal else "",
        )])
    return response


def _has(obj, name) -> bool:
    try:
        return getattr(obj, name) is not None
    except ObjectDoesNotExist:
        return False


class PeriodForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("开始日期"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                            error_messages={"invalid": gettext_lazy("开始日期应为日期，如 2026-01-01")})
    end = forms.DateField(label=gettext_lazy("结束日期"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                          error_messages={"invalid": gettext_lazy("结束日期应为日期，如 2026-12-31")})

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("结束日期不能早于开始日期"))
        return data


def _period_start(day: date):
    return timezone.make_aware(datetime.combine(day, time.min))


@workbench_view(allow=_supervisor_only)
def figures(request):
    """回访率, 整改率, 按时办结率, 实名差评回访整改率 (目标100%), 申诉率, 申诉成立率 per unit, for cases opened in
    the period (rectification.figures; "—" where there is no denominator)."""
    from haochaping.rectification import figures as case_figures_module

    form = PeriodForm(request.GET or None)
    qs = visible_cases(request.user)
    status = 200
    if form.is_bound and not form.is_valid():
        status = 422
    else:
        data = form.cleaned_data if form.is_bound else {}
        if data.get("start"):
            qs = qs.filter(opened_at__gte=_period_start(data["start"]))
        if data.get("end"):
            qs = qs.filter(opened_at__lt=_period_start(data["end"] + timedelta(days=1)))
    rows = case_figures_module.case_figures(qs, by="department") if status == 200 else []
    total = case_figures_module.case_figures(qs, by=None) if status == 200 else []
    return render(request, "rectification/figures.html", {
        "form": form, "rows": rows, "total": total[0] if total else None, "workbench_section": "figures",
    }, status=status)


@workbench_view(allow=_supervisor_only)
def notices(request):
    """Reminders before deadlines, escalations after them, reports to the management agency, newest first."""
    kind = request.GET.get("kind", "")
    qs = scope(CaseNotice.objects.all(), request.user).select_related("case", "case__department", "agency")
    if kind in CaseNotice.Kind.values:
        qs = qs.filter(kind=kind)
    page = Paginator(qs.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "rectification/notices.html", {
        "page": page, "kind": kind, "kinds": CaseNotice.Kind.choices, "workbench_section": "notices",
        "query": f"kind={kind}" if kind else "", "AppealState": AppealState,
    })
