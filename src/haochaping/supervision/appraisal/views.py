"""The appraisal's pages (绩效评价): the period's results in the user's scope, ranked and comparable; a unit's
breakdown; the indicator system in force (a supervisor adds the region's own); scores entered by hand. Thin:
each form calls one service and shows a refusal next to the field it names."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haochaping.core.problems import DomainError
from haochaping.core.scoping import scope
from haochaping.org.models import Department, Region
from haochaping.rectification.views.common import is_handler, is_supervisor, workbench_view

from . import rules, services, sources
from .models import Appraisal
from .rules import Dimension


def may_read(user) -> bool:
    return user.is_active and (is_supervisor(user) or is_handler(user))


def may_manage(user) -> bool:
    return user.is_active and is_supervisor(user)


def _month(value: str | None) -> tuple[date, date]:
    """``YYYY-MM`` → that month; anything else → last month."""
    try:
        year, month = (int(x) for x in (value or "").split("-"))
        return rules.month_of(date(year, month, 1))
    except (TypeError, ValueError):
        return rules.last_month(timezone.localdate())


def source_label(name: str) -> str:
    if name == rules.MANUAL:
        return _("人工评分（附评分依据）")
    source = sources.REGISTRY.get(name)
    return source.label if source else name


def _user_region(user):
    return Region.objects.filter(pk=user.region_id).first() if user.region_id else None


@workbench_view(allow=may_read)
def appraisal_list(request):
    start, end = _month(request.GET.get("month"))
    region = _user_region(request.user)
    if request.method == "POST":
        if not may_manage(request.user):
            raise Http404
        start, end = _month(request.POST.get("month"))
        try:
            if region is None:
                raise DomainError(422, "请求内容有误", _("您的账号没有所属行政区划"), "region")
            rows = services.compute(region=region, start=start, end=end, actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(request, _("已计算 %(n)d 个部门的绩效评价") % {"n": len(rows)})
        return redirect(f"{request.path}?month={start:%Y-%m}")
    results = list(services.results(request.user, start, end))
    periods = [(s, e) for s, e in services.periods(request.user) if s.day == 1 and rules.month_of(s) == (s, e)]
    return render(request, "supervision/appraisal_list.html", {
        "results": results, "start": start, "end": end, "month": f"{start:%Y-%m}",
        "months": [f"{s:%Y-%m}" for s, _e in periods], "may_manage": may_manage(request.user),
        "region": region, "workbench_section": "appraisal",
    })


def _rank(row: Appraisal, user) -> tuple[int | None, int]:
    scored = list(services.results(user, row.period_start, row.period_end).exclude(score__isnull=True)
                  .values_list("pk", flat=True))
    return (scored.index(row.pk) + 1 if row.pk in scored else None), len(scored)


@workbench_view(allow=may_read)
def appraisal_detail(request, appraisal_id: int):
    row = (scope(Appraisal.objects.all(), request.user).select_related("department", "region")
           .filter(pk=appraisal_id).first())
    if row is None:
        raise Http404(_("没有这条绩效评价结果"))
    rank, of = _rank(row, request.user)
    dims = dict(Dimension.choices)
    lines = [{**line, "dimension_name": dims.get(line["dimension"], line["dimension"]),
              "source_name": source_label(line["source"]),
              "weight_pct": line["weight"] * 100} for line in row.breakdown]
    return render(request, "supervision/appraisal_detail.html", {
        "row": row, "lines": lines, "rank": rank, "of": of, "workbench_section": "appraisal",
    })


class IndicatorForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("指标代码"), max_length=20,
                           help_text=gettext_lazy("与上级指标代码相同即为对该指标从严；新代码即为本地区增设的指标"))
    name = forms.CharField(label=gettext_lazy("指标名称"), max_length=100)
    dimension = forms.ChoiceField(label=gettext_lazy("一级指标"), choices=Dimension.choices)
    source = forms.ChoiceField(label=gettext_lazy("数据来源"), choices=())
    weight = forms.FloatField(label=gettext_lazy("权重（在一级指标内）"))
    floor = forms.FloatField(label=gettext_lazy("零分值"))
    target = forms.FloatField(label=gettext_lazy("满分值"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [(rules.MANUAL, source_label(rules.MANUAL))] + [
            (n, f"{n}：{source_label(n)}") for n in sources.names()]


@workbench_view(allow=may_read)
def indicator_list(request):
    region = _user_region(request.user)
    form = IndicatorForm(request.POST or None) if may_manage(request.user) else None
    status = 200
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            try:
                services.define_indicator(actor=request.user, region=region, **form.cleaned_data)
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.detail)
            else:
                messages.success(request, _("指标已保存"))
                return redirect("appraisal:indicators")
        status = 422
    dims = dict(Dimension.choices)
    indicators = [{"d": d, "dimension_name": dims[d.dimension], "source_name": source_label(d.source),
                   "direction": _("越低越好") if d.lower_is_better else _("越高越好")}
                  for d in services.effective_for(region.code if region else None)]
    return render(request, "supervision/appraisal_indicators.html", {
        "indicators": indicators, "form": form, "region": region,
        "dimension_weights": [(dims[k], v) for k, v in rules.DIMENSION_WEIGHTS.items()],
        "workbench_section": "appraisal",
    }, status=status)


class ManualScoreForm(forms.Form):
    indicator_code = forms.ChoiceField(label=gettext_lazy("指标"), choices=())
    department = forms.ModelChoiceField(label=gettext_lazy("部门"), queryset=Department.objects.none())
    month = forms.CharField(label=gettext_lazy("考核月份（YYYY-MM）"), max_length=7)
    value = forms.FloatField(label=gettext_lazy("得分（0–100）"))
    evidence = forms.CharField(label=gettext_lazy("评分依据"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000,
                               error_messages={"required": gettext_lazy("请填写评分依据")})

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = scope(Department.objects.filter(is_active=True), user).order_by("name")
        region = user.region_id
        self.fields["indicator_code"].choices = [(d.code, f"{d.code} {d.name}") for d in services.effective_for(region)
                                                 if d.source == rules.MANUAL]

    def clean_month(self):
        value = self.cleaned_data["month"]
        try:
            year, month = (int(x) for x in value.split("-"))
            return rules.month_of(date(year, month, 1))
        except (TypeError, ValueError):
            raise forms.ValidationError(_("考核月份应为 YYYY-MM，如 2026-11")) from None


@workbench_view(allow=may_manage)
def manual_score(request):
    form = ManualScoreForm(request.POST or None, user=request.user,
                           initial={"month": f"{rules.last_month(timezone.localdate())[0]:%Y-%m}"})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            start, end = data["month"]
            try:
                services.record_manual_score(actor=request.user, indicator_code=data["indicator_code"],
                                             department=data["department"], start=start, end=end,
                                             value=data["value"], evidence=data["evidence"])
            except DomainError as exc:
                field = {"indicator": "indicator_code", "period_start": "month", "period_end": "month"}.get(
                    exc.field, exc.field)
                form.add_error(field if field in form.fields else None, exc.detail)
            else:
                messages.success(request, _("人工评分已保存，重新计算该月绩效评价后生效"))
                return redirect("appraisal:manual")
        status = 422
    return render(request, "supervision/appraisal_manual.html", {"form": form, "workbench_section": "appraisal"},
                  status=status)
