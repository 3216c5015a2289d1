"""The callback pages: 12345 operators' list (/work/callbacks/) and the page where a call is recorded (the phone
shown masked, revealed on request with the access logged); supervisors' page of figures per unit, the flagged
callbacks and a draw for a unit and period. Thin: each form calls one service."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haochaping.core.client_ip import client_ip
from haochaping.core.problems import DomainError
from haochaping.core.scoping import scope
from haochaping.org.models import Department
from haochaping.rectification.views.common import is_supervisor, workbench_view

from . import rules, services
from .models import CallbackItem, CallStatus

PAGE_SIZE = 50
ANSWERS = [(rules.Answer.YES, gettext_lazy("是")), (rules.Answer.NO, gettext_lazy("否")),
           (rules.Answer.UNSURE, gettext_lazy("不确定"))]
REVEAL_REASON = gettext_lazy("回访调查：拨打评价人电话核实评价")


def _caller(user) -> bool:
    return services.may_call(user)


def _supervisor(user) -> bool:
    return user.is_active and is_supervisor(user)


class ListFilter(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("回访状态"), required=False,
                               choices=[("", gettext_lazy("全部"))] + list(CallStatus.choices))


@workbench_view(allow=_caller)
def callback_list(request):
    form = ListFilter(request.GET or None)
    status = form.cleaned_data.get("status", "") if form.is_bound and form.is_valid() else ""
    qs = services.visible_items(request.user).select_related(
        "sample__department", "evaluation__item", "evaluation__record").order_by("status", "-sample__period_start", "pk")
    if status:
        qs = qs.filter(status=status)
    elif not form.is_bound:
        qs = qs.exclude(status=CallStatus.DONE)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(i, services.masked_phone(i)) for i in page.object_list]
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "supervision/sampling/list.html", {
        "form": form, "page": page, "rows": rows, "query": params.urlencode(), "workbench_section": "callbacks"})


class CallForm(forms.Form):
    reached = forms.ChoiceField(label=gettext_lazy("电话是否接通"), widget=forms.RadioSelect,
                                choices=[("yes", gettext_lazy("已接通")), ("no", gettext_lazy("未接通"))],
                                error_messages={"required": gettext_lazy("请选择电话是否接通")})
    gave_rating = forms.ChoiceField(label=gettext_lazy("“这条评价是您本人作出的吗？”"), widget=forms.RadioSelect,
                                    choices=ANSWERS, required=False)
    pressured = forms.ChoiceField(label=gettext_lazy("“是否有人要求或施压让您作出这个评价？”"),
                                  widget=forms.RadioSelect, choices=ANSWERS, required=False)
    satisfaction_now = forms.TypedChoiceField(
        label=gettext_lazy("“您现在对这次服务的满意程度？”（1最不满意，5最满意）"), widget=forms.RadioSelect,
        choices=[(str(n), str(n)) for n in range(1, 6)], coerce=int, empty_value=None, required=False)
    notes = forms.CharField(label=gettext_lazy("备注"), required=False, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": 3}))

    def outcome(self) -> rules.CallOutcome:
        d = self.cleaned_data
        reached = d["reached"] == "yes"
        return rules.CallOutcome(reached=reached, gave_rating=d["gave_rating"] if reached else "",
                                 pressured=d["pressured"] if reached else "",
                                 satisfaction_now=d["satisfaction_now"] if reached else None, notes=d["notes"])


class RevealForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("查看理由"), max_length=200, initial=REVEAL_REASON,
                             error_messages={"required": gettext_lazy("请填写查看理由")})


def _item(request, item_id) -> CallbackItem:
    item = (services.visible_items(request.user)
            .select_related("sample__department", "evaluation__item", "evaluation__record", "evaluation__window",
                            "evaluation__agency").filter(pk=item_id).first())
    if item is None:
        raise Http404(_("回访清单中没有这一条"))
    return item


@workbench_view(allow=_caller)
def callback_detail(request, item_id: int):
    item = _item(request, item_id)
    form = CallForm(request.POST if request.POST.get("action") == "call" else None)
    reveal = RevealForm(request.POST if request.POST.get("action") == "reveal" else None)
    phone, status = "", 200
    if request.method == "POST" and request.POST.get("action") == "reveal":
        if reveal.is_valid():
            try:
                phone = services.reveal_phone(item.pk, reveal.cleaned_data["reason"], actor=request.user,
                                              ip=client_ip(request))
            except DomainError as exc:
                reveal.add_error("reason" if exc.field == "reason" else None, exc.detail)
                status = exc.status if exc.status in (403, 404) else 422
        else:
            status = 422
    elif request.method == "POST" and request.POST.get("action") == "call":
        if form.is_valid():
            try:
                services.record_call(item.pk, form.outcome(), actor=request.user)
            except DomainError as exc:
                for name, message in (exc.extra.get("errors") or {exc.field: exc.detail}).items():
                    form.add_error(name if name in form.fields else None, message)
            else:
                messages.success(request, _("回访结果已保存"))
                return redirect("callbacks:list")
        status = 422
    return render(request, "supervision/sampling/detail.html", {
        "item": item, "form": form, "reveal": reveal, "phone": phone, "masked": services.masked_phone(item),
        "calls": item.calls.select_related("operator").order_by("-at", "-pk"), "workbench_section": "callbacks",
    }, status=status)


class PeriodForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("期间开始"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("期间结束"), widget=forms.DateInput(attrs={"type": "date"}))


class DrawForm(PeriodForm):
    department = forms.ChoiceField(label=gettext_lazy("单位"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        units = scope(Department.objects.all(), user).order_by("region_id", "name")[:500]
        self.fields["department"].choices = [(str(d.pk), d.name) for d in units]


@workbench_view(allow=_supervisor)
def supervision_page(request):
    last_start, last_end = rules.previous_month(timezone.localdate())
    period = PeriodForm(request.GET or None, initial={"start": last_start, "end": last_end})
    start, end = (period.cleaned_data["start"], period.cleaned_data["end"]) if period.is_bound and period.is_valid() \
        else (last_start, last_end)
    draw = DrawForm(request.POST or None, user=request.user, initial={"start": last_start, "end": last_end})
    status = 200
    if request.method == "POST":
        if draw.is_valid():
            d = draw.cleaned_data
            try:
                drawn = services.draw_sample(int(d["department"]), d["start"], d["end"], actor=request.user)
            except DomainError as exc:
                draw.add_error(exc.field if exc.field in draw.fields else None, exc.detail)
            else:
                n = drawn.sample.items.count()
                messages.success(request, _("已抽取%(n)s条评价列入回访清单") % {"n": n} if drawn.created else
                                 _("该单位该期间已抽过样（%(n)s条），重新抽取结果相同，未新增") % {"n": n})
                return redirect(f"{request.path}?start={d['start']:%Y-%m-%d}&end={d['end']:%Y-%m-%d}")
        status = 422
    flagged = (services.visible_items(request.user).filter(mismatch=True, sample__period_start__gte=start,
                                                           sample__period_end__lte=end)
               .select_related("sample__department", "evaluation__item").order_by("-called_at")[:200])
    return render(request, "supervision/sampling/supervision.html", {
        "period": period, "draw": draw, "start": start, "end": end,
        "units": services.unit_figures(request.user, start, end), "flagged": flagged,
        "workbench_section": "callback_supervision"}, status=status)


