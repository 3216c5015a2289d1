"""Supervisors' queue of fraud findings (R8.2): the list in their region subtree (core.scoping), a finding's
evidence, and its confirmation or dismissal. Thin: each decision is one service call."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haochaping.core.problems import DomainError
from haochaping.core.scoping import scope
from haochaping.rectification.views.common import is_supervisor, workbench_view

from . import services
from .models import FindingStatus, FraudFinding
from .rules import Pattern

PAGE_SIZE = 50
EVALUATIONS_SHOWN = 200


def _supervisor_only(user) -> bool:
    return user.is_active and is_supervisor(user)


class FindingFilter(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("状态"), required=False,
                               choices=[("", gettext_lazy("全部"))] + list(FindingStatus.choices))
    pattern = forms.ChoiceField(label=gettext_lazy("线索类型"), required=False,
                                choices=[("", gettext_lazy("全部"))] + list(Pattern.choices))


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=gettext_lazy("核查结论"), widget=forms.RadioSelect, choices=[
        ("confirm", gettext_lazy("确认弄虚作假（涉及评价不计入统计，单位列入问责名单）")),
        ("dismiss", gettext_lazy("排除（未发现问题）")),
    ], error_messages={"required": gettext_lazy("请选择核查结论")})
    note = forms.CharField(label=gettext_lazy("核查意见"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
                           error_messages={"required": gettext_lazy("请填写核查意见")})


def visible_findings(user):
    return scope(FraudFinding.objects.all(), user)


@workbench_view(allow=_supervisor_only)
def finding_list(request):
    form = FindingFilter(request.GET or None)
    qs = visible_findings(request.user).select_related("department", "agency", "window", "staff", "item")
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    status = data.get("status", "open") if form.is_bound else FindingStatus.OPEN
    if status:
        qs = qs.filter(status=status)
    if data.get("pattern"):
        qs = qs.filter(pattern=data["pattern"])
    page = Paginator(qs.order_by("-detected_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "supervision/fraud_list.html", {
        "form": form, "page": page, "query": params.urlencode(), "workbench_section": "fraud",
    })


@workbench_view(allow=_supervisor_only)
def finding_detail(request, finding_id: int):
    finding = (visible_findings(request.user).select_related("department", "agency", "window", "staff", "item",
                                                             "region", "decided_by")
               .filter(pk=finding_id).first())
    if finding is None:
        raise Http404(_("没有这条线索"))
    form = DecisionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            decide = services.confirm_finding if form.cleaned_data["decision"] == "confirm" else services.dismiss_finding
            try:
                decide(finding.pk, actor=request.user, note=form.cleaned_data["note"])
            except DomainError as exc:
                form.add_error("note" if exc.field == "note" else None, exc.detail)
            else:
                messages.success(request, _("核查结论已保存"))
                return redirect("fraud:detail", finding_id=finding.pk)
        status = 422
    evaluations = (finding.evaluations.select_related("window", "staff", "item", "exclusion")
                   .order_by("created_at", "pk")[:EVALUATIONS_SHOWN])
    return render(request, "supervision/fraud_detail.html", {
        "finding": finding, "form": form, "evaluations": evaluations, "shown": EVALUATIONS_SHOWN,
        "total": finding.evaluations.count(), "workbench_section": "fraud",
    }, status=status)
