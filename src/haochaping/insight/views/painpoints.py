"""差评痛点 pages (/insight/painpoints/): the recurring problems in the bad reviews a supervisor or handler may
see, and — for supervisors — turning one into a tracked 集中问题 (rectification.focus).

Thin: the analysis is :mod:`.painpoints`, the 集中问题 is opened by ``rectification.focus.open_focus_issue``;
a refusal is shown next to the field it names.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from haochaping.catalog.models import ServiceItem
from haochaping.core.problems import DomainError
from haochaping.core.scoping import scope
from haochaping.org.models import Department
from haochaping.rectification.services import focus
from haochaping.rectification.views.common import current_due, is_supervisor, workbench_view

from ..painpoints import Period, pain_points, services, snapshots, taxonomy
from ..painpoints.choices import filter_choices, region_choices

MAX_DAYS = 731  # two years at most per analysis
MAX_DEPARTMENT_CHOICES = 500


class FilterForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("开始日期"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    end = forms.DateField(label=gettext_lazy("结束日期"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    item = forms.IntegerField(label=gettext_lazy("事项"), required=False, min_value=1)
    unit = forms.IntegerField(label=gettext_lazy("部门"), required=False, min_value=1)
    region = forms.RegexField(label=gettext_lazy("地区"), required=False, regex=r"^(\d{6}|\d{9}|\d{12})$",
                              error_messages={"invalid": gettext_lazy("地区代码应为6、9或12位数字")})

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("结束日期不能早于开始日期"))
        elif start and end and (end - start).days > MAX_DAYS:
            self.add_error("end", _("一次最多分析两年的差评，请缩短时间范围"))
        return data

    def period(self) -> Period:
        default = Period.last_months(6)
        if not self.is_valid():
            return default
        start, end = self.cleaned_data.get("start"), self.cleaned_data.get("end")
        if start and end:
            return Period(start, end)
        if start:
            return Period(start, min(start + timedelta(days=MAX_DAYS), timezone.localdate()))
        if end:
            return Period(Period.last_months(6, end).start, end)
        return default

    def value(self, name):
        return self.cleaned_data.get(name) if self.is_valid() else None


class FocusIssueForm(forms.Form):
    required_css_class = "required"

    summary = forms.CharField(
        label=gettext_lazy("问题概述"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("请填写问题概述")},
        help_text=gettext_lazy("交给责任部门的问题描述；请勿写入评价人的姓名、电话等个人信息。"),
    )
    department = forms.TypedChoiceField(
        label=gettext_lazy("责任部门"), coerce=int, error_messages={"required": gettext_lazy("请选择责任部门")},
    )
    topic = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, department_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", _("请选择")), *department_choices]


def _department_choices(topic, in_scope: list[tuple[int, str]]) -> list:
    """The topic's own units first (most bad reviews first), then the other departments in the user's scope."""
    own = [(n.key, n.name) for n in topic.units]
    own_keys = {k for k, _n in own}
    others = [(k, n) for k, n in in_scope if k not in own_keys]
    groups = []
    if own:
        groups.append((_("本主题涉及的部门"), own))
    if others:
        groups.append((_("监督范围内的其他部门"), others))
    return groups


def _scope_departments(user) -> list[tuple[int, str]]:
    qs = scope(Department.objects.all(), user).order_by("region_id", "name", "pk")
    return list(qs.values_list("pk", "name")[:MAX_DEPARTMENT_CHOICES])


def _case_url(case_id: int) -> str | None:
    try:
        return reverse("rectification:case", kwargs={"case_id": case_id})
    except NoReverseMatch:
        return None


def _open_issues(user) -> list[dict]:
    rows = []
    for case in focus.open_focus_issues(user)[:200]:
        rows.append({
            "case": case, "url": _case_url(case.pk), "due": current_due(case),
        })
    return rows


def _analysis(user, filters: FilterForm, period: Period):
    """(result, items, units, regions, computed_at or None) for the page. The default period of a whole-region
    actor comes from the worker's snapshot (issue 14: one indexed read, whatever the number of 差评), its choice
    lists even when an item, unit or region is chosen; anything else is analysed live (cached a few minutes)."""
    snapshot = services.snapshot_for(user, period) if period == snapshots.default_period() else None
    narrowed = bool(filters.value("item") or filters.value("unit") or filters.value("region"))
    if snapshot is not None and not narrowed:
        return snapshot.result, snapshot.items, snapshot.units, snapshot.regions, snapshot.computed_at
    result = pain_points(user, period, item_id=filters.value("item"), department_id=filters.value("unit"),
                         region_code=filters.value("region") or None)
    if snapshot is not None:
        return result, snapshot.items, snapshot.units, snapshot.regions, None
    items, units = filter_choices(user, period)
    return result, items, units, region_choices(user, period), None


def _computed_note(computed_at) -> str:
    if computed_at is None:
        return ""
    when = timezone.localtime(computed_at).strftime("%Y-%m-%d %H:%M")
    return _("分析时间：%(when)s，每%(minutes)d分钟更新") % {"when": when, "minutes": snapshots.every_minutes()}


def _query(filters: FilterForm, period: Period) -> str:
    params = {"start": period.start.isoformat(), "end": period.end.isoformat()}
    for name in ("item", "unit", "region"):
        if filters.value(name):
            params[name] = filters.value(name)
    return urlencode(params)


def _told_apart(items: list) -> list:
    """The 事项 choices, each region's implementation of the same item named with its region (居民身份证换领 is
    listed by every county that handles it)."""
    seen = Counter(choice.name for choice in items)
    twins = [choice.key for choice in items if seen[choice.name] > 1]
    if not twins:
        return items
    regions = dict(ServiceItem.objects.filter(pk__in=twins).values_list("pk", "region__name"))
    return [replace(choice, name=f"{choice.name}（{regions[choice.key]}）") if choice.key in regions else choice
            for choice in items]


def _with_dashboard_dates(query):
    """The dashboard's ``from``/``to`` read as this page's ``start``/``end``: a link carrying a dashboard's range
    analyses that range, not silently the default six months."""
    if not ({"from", "to"} & set(query)) or {"start", "end"} & set(query):
        return query
    query = query.copy()
    for theirs, ours in (("from", "start"), ("to", "end")):
        if theirs in query:
            query[ours] = query[theirs]
    return query


def _page(request, filters: FilterForm, *, failed: FocusIssueForm | None = None, status: int = 200):
    user = request.user
    period = filters.period()
    if not filters.is_bound or (filters.is_valid() and not (filters.cleaned_data.get("start")
                                                             and filters.cleaned_data.get("end"))):
        # The date fields show the period actually analysed (the default six months, or the end a lone start
        # implies), not empty boxes.
        data = filters.data.copy() if filters.is_bound else {}
        data.update(start=period.start.isoformat(), end=period.end.isoformat())
        filters = FilterForm(data)
    item_id, unit_id, region_code = filters.value("item"), filters.value("unit"), filters.value("region") or None
    result, items, units, regions, computed_at = _analysis(user, filters, period)
    items = _told_apart(items)
    supervisor = is_supervisor(user)
    topic_forms = {}
    if supervisor:
        in_scope = _scope_departments(user)
        for topic in result.topics:
            if failed is not None and failed.prefix == f"t{topic.number}":
                topic_forms[topic.number] = failed
                continue
            topic_forms[topic.number] = FocusIssueForm(
                prefix=f"t{topic.number}", department_choices=_department_choices(topic, in_scope),
                initial={"summary": topic.summary(period), "topic": topic.number,
                         "department": topic.units[0].key if topic.units else ""},
            )
    query = _query(filters, period)
    context = {
        "filters": filters, "period": period, "result": result, "items": items, "units": units,
        "item_id": item_id, "unit_id": unit_id, "supervisor": supervisor, "query": query,
        "regions": regions, "region_code": region_code, "kinds": (*taxonomy.KINDS, *services.promoted_kinds()),
        "topics": [(t, topic_forms.get(t.number)) for t in result.topics],
        "open_issues": _open_issues(user), "workbench_section": "painpoints",
        "computed_note": _computed_note(computed_at),
        # A refused form whose topic is gone (the analysis changed meanwhile) is shown above the topics.
        "orphan": failed if failed is not None and failed.prefix not in {f"t{t.number}" for t in result.topics} else None,
    }
    return render(request, "insight/painpoints.html", context, status=status)


@workbench_view()
@require_GET
def painpoints(request):
    return _page(request, FilterForm(_with_dashboard_dates(request.GET) or None))


@workbench_view(allow=lambda user: user.is_active and is_supervisor(user))
@require_POST
def focus_issue(request):
    """列为集中问题: one topic's form, posted with the page's filters in the query string."""
    user = request.user
    filters = FilterForm(request.GET or None)
    period = filters.period()
    prefix = _prefix(request.POST)
    result = _analysis(user, filters, period)[0]  # the topics the page showed (numbered alike)
    topic = next((t for t in result.topics if f"t{t.number}" == prefix), None)
    choices = _department_choices(topic, _scope_departments(user)) if topic else [
        (_("监督范围内的部门"), _scope_departments(user))]
    form = FocusIssueForm(request.POST, prefix=prefix, department_choices=choices)
    if form.is_valid():
        data = form.cleaned_data
        try:
            case = focus.open_focus_issue(
                summary=data["summary"], department=data["department"], actor=user,
                source=f"painpoints:{period.start.isoformat()}..{period.end.isoformat()}",
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.detail or exc.title)
        else:
            messages.success(request, _("已列为集中问题（案件编号%(no)06d），责任部门：%(dept)s，限期整改期限：%(due)s") % {
                "no": case.pk, "dept": case.department.name, "due": case.rectify_due.isoformat(),
            })
            return redirect(f"{reverse('insight:painpoints')}?{_query(filters, period)}#focus-issues")
    if topic is None:
        form.add_error(None, _("分析结果已更新，请在下方重新选择要列为集中问题的主题"))
    return _page(request, filters, failed=form, status=422)


def _prefix(post) -> str:
    """The topic form's prefix ("t3") from the posted field names."""
    for key in sorted(post.keys()):
        head, sep, _rest = key.partition("-")
        if sep and head.startswith("t") and head[1:].isdigit():
            return head
    return "t0"


@workbench_view(allow=lambda user: user.is_active and is_supervisor(user))
@require_POST
def promote_kind(request):
    """新增为问题分类: an emerging topic becomes a kind of the taxonomy (all bad reviews are then reclassified by the
    worker)."""
    filters = FilterForm(request.GET or None)
    period = filters.period()
    post = request.POST
    try:
        kind = services.promote_topic(
            code=post.get("code", ""), name=post.get("name", ""), definition=post.get("definition", ""),
            examples=post.get("examples", "").splitlines(), actor=request.user,
        )
    except DomainError as exc:
        messages.error(request, _("未能新增问题分类：%(why)s") % {"why": exc.detail or exc.title})
        return redirect(f"{reverse('insight:painpoints')}?{_query(filters, period)}#topics-h")
    messages.success(request, _("已新增问题分类“%(name)s”（%(code)s），后台将重新归类全部差评。") % {
        "name": kind.name, "code": kind.code})
    return redirect(f"{reverse('insight:painpoints')}?{_query(filters, period)}#taxonomy")
