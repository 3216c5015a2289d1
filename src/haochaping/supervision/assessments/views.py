"""Pages of third-party assessments: the assessor's (commissions of their organisation, submitting and
resubmitting an assessment) and the agency's (commissioning, reviewing: accept or return with the reason,
opening rectification cases from accepted findings). Thin: each form calls one service."""

from __future__ import annotations

from types import SimpleNamespace

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from haochaping.catalog.models import ServiceItem
from haochaping.core.problems import DomainError
from haochaping.core.scoping import scope
from haochaping.org.models import Department, Region
from haochaping.org.rules import region_prefix
from haochaping.rectification.downloads import attachment_response
from haochaping.rectification.views.common import workbench_view

from ..appraisal import services as appraisal_services
from . import services
from .models import Assessment, AssessmentEvidence, AssessorOrganisation, Commission
from .rules import ScoreInput, State

SCORE_ROWS = 8


def may_use(user) -> bool:
    return services.is_supervisor(user) or services.is_assessor(user)


def _error(form, exc: DomainError, rename=None) -> None:
    field = (rename or {}).get(exc.field, exc.field)
    if field in form.fields:
        form.add_error(field, exc.detail)
    elif exc.field and exc.field.startswith("scores["):
        row = int(exc.field[7:exc.field.index("]")]) + 1
        form.add_error(None, _("第%(row)d行评分：%(detail)s") % {"row": row, "detail": exc.detail})
    else:
        form.add_error(None, exc.detail)


@workbench_view(allow=may_use)
def overview(request):
    user = request.user
    commissions = services.visible_commissions(user).select_related("organisation", "scope_region", "agency")
    assessments = (services.visible_assessments(user).select_related("commission", "department")
                   .order_by("-submitted_at")[:100])
    return render(request, "supervision/assessments_overview.html", {
        "commissions": commissions, "assessments": assessments, "is_supervisor": services.is_supervisor(user),
        "pending": services.pending_for(user).count() if services.is_supervisor(user) else 0,
        "workbench_section": "assessments",
    })


class CommissionForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("委托事项"), max_length=200)
    organisation = forms.ModelChoiceField(label=gettext_lazy("评估机构"), queryset=AssessorOrganisation.objects.none())
    scope_region = forms.ModelChoiceField(label=gettext_lazy("评估范围（行政区划）"), queryset=Region.objects.none())
    departments = forms.ModelMultipleChoiceField(label=gettext_lazy("限定部门（可不选）"), required=False,
                                                 queryset=Department.objects.none())
    start = forms.DateField(label=gettext_lazy("委托期间起始日"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("委托期间截止日"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Organisations registered anywhere may be commissioned; the scope is the agency's subtree.
        self.fields["organisation"].queryset = AssessorOrganisation.objects.order_by("name")
        prefix = region_prefix(user.region_id) if user.region_id else ""
        self.fields["scope_region"].queryset = Region.objects.filter(pk__startswith=prefix).order_by("pk")
        self.fields["departments"].queryset = scope(Department.objects.filter(is_active=True), user).order_by("name")


@workbench_view(allow=services.is_supervisor)
def commission_new(request):
    form = CommissionForm(request.POST or None, user=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                c = services.create_commission(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                _error(form, exc, {"period_start": "start", "period_end": "end"})
            else:
                messages.success(request, _("评估委托已登记"))
                return redirect("assessments:commission", commission_id=c.pk)
        status = 422
    return render(request, "supervision/assessments_form.html", {
        "form": form, "heading": _("委托第三方评估"), "button": _("登记委托"), "workbench_section": "assessments",
    }, status=status)


def _commission(user, commission_id) -> Commission:
    c = (services.visible_commissions(user).select_related("organisation", "scope_region", "agency")
         .filter(pk=commission_id).first())
    if c is None:
        raise Http404(_("没有这项评估委托"))
    return c


@workbench_view(allow=may_use)
def commission_detail(request, commission_id: int):
    c = _commission(request.user, commission_id)
    return render(request, "supervision/assessments_commission.html", {
        "c": c, "departments": list(c.departments.all()), "items": list(c.items.all()),
        "assessments": c.assessments.select_related("department").order_by("-submitted_at"),
        "is_assessor": services.is_assessor(request.user), "workbench_section": "assessments",
    })


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the service checks each (type, content, size)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class AssessmentForm(forms.Form):
    department = forms.ModelChoiceField(label=gettext_lazy("被评估部门"), queryset=Department.objects.none())
    item = forms.ModelChoiceField(label=gettext_lazy("评估事项（可不选）"), required=False,
                                  queryset=ServiceItem.objects.none())
    start = forms.DateField(label=gettext_lazy("评估期间起始日"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("评估期间截止日"), widget=forms.DateInput(attrs={"type": "date"}))
    summary = forms.CharField(label=gettext_lazy("评估结论"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    report = forms.FileField(label=gettext_lazy("评估报告（PDF、JPG或PNG）"))

    def __init__(self, *args, commission: Commission, **kwargs):
        super().__init__(*args, **kwargs)
        # Every department of the scope's subtree is offered; the service refuses one outside a narrower scope.
        depts = Department.objects.filter(is_active=True, region__pk__startswith=region_prefix(commission.scope_region_id))
        named = list(commission.departments.values_list("pk", flat=True))
        self.fields["department"].queryset = (depts.filter(pk__in=named) if named else depts).order_by("name")
        items = list(commission.items.values_list("pk", flat=True))
        self.fields["item"].queryset = ServiceItem.objects.filter(pk__in=items).order_by("name")
        choices = [("", "—")] + [(d.code, f"{d.code} {d.name}")
                                 for d in appraisal_services.effective_for(commission.scope_region_id)]
        for i in range(SCORE_ROWS):
            self.fields[f"row{i}-indicator"] = forms.ChoiceField(label=_("第%(n)d项 指标") % {"n": i + 1},
                                                                 choices=choices, required=False)
            self.fields[f"row{i}-score"] = forms.FloatField(label=_("得分（0–100）"), required=False)
            self.fields[f"row{i}-findings"] = forms.CharField(label=_("发现的问题"), required=False, max_length=4000,
                                                              widget=forms.Textarea(attrs={"rows": 2}))
            self.fields[f"row{i}-recommendations"] = forms.CharField(
                label=_("改进建议"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
            self.fields[f"row{i}-files"] = MultipleFileField(label=_("证据材料（可多选）"), required=False)

    def rows(self):
        return [[self[f"row{i}-{name}"] for name in ("indicator", "score", "findings", "recommendations", "files")]
                for i in range(SCORE_ROWS)]

    def main_fields(self):
        return [self[name] for name in ("department", "item", "start", "end", "summary", "report")]

    def scores(self, files) -> tuple[list[ScoreInput], dict[int, list]]:
        out, by_row = [], {}
        for i in range(SCORE_ROWS):
            code = self.cleaned_data.get(f"row{i}-indicator")
            if not code:
                continue
            by_row[len(out)] = files.getlist(f"row{i}-files")
            out.append(ScoreInput(code, self.cleaned_data.get(f"row{i}-score"),
                                  self.cleaned_data.get(f"row{i}-findings") or "",
                                  self.cleaned_data.get(f"row{i}-recommendations") or ""))
        return out, by_row


@workbench_view(allow=services.is_assessor)
def submit(request, commission_id: int):
    c = _commission(request.user, commission_id)
    returned = None
    if request.GET.get("resubmit"):
        returned = c.assessments.filter(pk=request.GET["resubmit"] if request.GET["resubmit"].isdigit() else 0,
                                        state=State.RETURNED).first()
        if returned is None:
            raise Http404(_("没有这份被退回的评估报告"))
    initial = {"start": c.period_start, "end": c.period_end}
    if returned:
        initial.update(department=returned.department_id, item=returned.item_id, start=returned.period_start,
                       end=returned.period_end, summary=returned.summary)
        for i, s in enumerate(returned.scores.select_related("indicator")[:SCORE_ROWS]):
            initial.update({f"row{i}-indicator": s.indicator.code, f"row{i}-score": s.score,
                            f"row{i}-findings": s.findings, f"row{i}-recommendations": s.recommendations})
    form = AssessmentForm(request.POST or None, request.FILES or None, commission=c, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            scores, files = form.scores(request.FILES)
            data = form.cleaned_data
            try:
                a = services.submit_assessment(
                    actor=request.user, commission_id=c.pk, department=data["department"], item=data["item"],
                    start=data["start"], end=data["end"], summary=data["summary"], report=data["report"],
                    scores=scores, files=files, assessment_id=returned.pk if returned else None)
            except DomainError as exc:
                _error(form, exc, {"period_start": "start", "period_end": "end"})
            else:
                messages.success(request, _("评估报告已提交，等待管理机构审核"))
                return redirect("assessments:detail", assessment_id=a.pk)
        status = 422
    return render(request, "supervision/assessments_submit.html", {
        "c": c, "form": form, "returned": returned, "workbench_section": "assessments",
    }, status=status)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=gettext_lazy("审核结论"), widget=forms.RadioSelect, choices=[
        ("accept", gettext_lazy("采纳（评估得分计入该部门的绩效评价）")), ("return", gettext_lazy("退回（须写明理由）"))])
    reason = forms.CharField(label=gettext_lazy("退回理由"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))


def _assessment(user, assessment_id) -> Assessment:
    a = (services.visible_assessments(user).select_related("commission__organisation", "department", "item",
                                                            "decided_by", "submitted_by")
         .filter(pk=assessment_id).first())
    if a is None:
        raise Http404(_("没有这份评估报告"))
    return a


@workbench_view(allow=may_use)
def detail(request, assessment_id: int):
    a = _assessment(request.user, assessment_id)
    is_supervisor = services.is_supervisor(request.user)
    form = DecisionForm(request.POST or None) if is_supervisor and a.state == State.SUBMITTED else None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if not is_supervisor:
            raise Http404
        try:
            if action == "open_cases":
                opened = services.open_cases(a.pk, request.POST.getlist("score"), actor=request.user)
                messages.success(request, _("已立案整改 %(n)d 件") % {"n": len(opened)})
                return redirect("assessments:detail", assessment_id=a.pk)
            if form is None:
                messages.error(request, _("这份评估报告已审核过"))
                return redirect("assessments:detail", assessment_id=a.pk)
            if form.is_valid():
                if form.cleaned_data["decision"] == "accept":
                    services.accept(a.pk, actor=request.user)
                    messages.success(request, _("评估报告已采纳"))
                else:
                    services.return_assessment(a.pk, actor=request.user, reason=form.cleaned_data["reason"])
                    messages.success(request, _("评估报告已退回"))
                return redirect("assessments:detail", assessment_id=a.pk)
        except DomainError as exc:
            if form is not None:
                _error(form, exc)
            else:
                messages.error(request, exc.detail)
                return redirect("assessments:detail", assessment_id=a.pk)
        status = 422
    scores = list(a.scores.select_related("indicator", "case").prefetch_related("evidence"))
    return render(request, "supervision/assessments_detail.html", {
        "a": a, "scores": scores, "form": form, "is_supervisor": is_supervisor,
        "is_assessor": services.is_assessor(request.user),
        "may_open": is_supervisor and a.state == State.ACCEPTED and any(s.findings and not s.case_id for s in scores),
        "workbench_section": "assessments",
    }, status=status)


@workbench_view(allow=may_use)
@require_GET
def report(request, assessment_id: int):
    a = _assessment(request.user, assessment_id)
    try:
        return attachment_response(SimpleNamespace(pk=a.pk, file=a.report, original_name=a.report_name or "report"))
    except FileNotFoundError as exc:
        raise Http404(_("附件文件已不存在")) from exc


@workbench_view(allow=may_use)
@require_GET
def evidence(request, assessment_id: int, file_id: int):
    a = _assessment(request.user, assessment_id)
    item = AssessmentEvidence.objects.filter(score__assessment=a, pk=file_id).first()
    if item is None:
        raise Http404(_("没有这个附件"))
    try:
        return attachment_response(item)
    except FileNotFoundError as exc:
        raise Http404(_("附件文件已不存在")) from exc
