"""统计报告 pages (/insight/reports/): supervisors make a region's or a department's report of a finished month,
quarter or year, list the reports of their scope and download them. Thin: reports.services makes them; files are
served only here, after the scope check (out of scope is the same 404 as nonexistent), never by a media URL.

Reports are made right away, in the request, so the supervisor gets the files at once without depending on the
worker: a county's month takes well under a second. The cost grows with the period's completed 办件 (参评率 is
counted from the 办件 table, once per table of the report): about 12 s for a province year of 26,000 evaluations
on SQLite. The worker makes every province's, city's and county's reports anyway, so the large ones are normally
downloaded, not made, here.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from haochaping.core.problems import DomainError
from haochaping.rectification.views.common import workbench_view

from ..reports import periods, services
from ..reports.periods import ReportPeriod

MAX_LISTED = 300
RECENT = {periods.MONTH: 24, periods.QUARTER: 8, periods.YEAR: 5}


class ReportForm(forms.Form):
    """Both fields are parsed here and checked by the service (scope → 404, unfinished period → 422), so an
    out-of-scope subject is refused exactly like a missing one."""

    required_css_class = "required"

    period = forms.CharField(label=gettext_lazy("统计期间"), max_length=30,
                             error_messages={"required": gettext_lazy("请选择统计期间")})
    subject = forms.CharField(label=gettext_lazy("报告对象"), max_length=40,
                              error_messages={"required": gettext_lazy("请选择报告对象（地区或部门）")})

    def clean_period(self) -> ReportPeriod:
        try:
            return ReportPeriod.parse(self.cleaned_data["period"])
        except ValueError:
            raise forms.ValidationError(_("请选择统计期间（月、季度或年度）")) from None

    def clean_subject(self) -> tuple[str, str]:
        kind, _sep, value = self.cleaned_data["subject"].partition(":")
        if kind == "region" and value.isdigit():
            return kind, value
        if kind == "department" and value.isdigit():
            return kind, value
        raise forms.ValidationError(_("请选择报告对象（地区或部门）"))


def _period_groups(today) -> list[tuple[str, list[ReportPeriod]]]:
    return [(periods.KIND_NAMES[k], periods.recent_finished(k, today, n)) for k, n in RECENT.items()]


def _page(request, form: ReportForm, *, status: int = 200):
    user = request.user
    regions, departments = services.subject_choices(user)
    reports = list(services.reports_for(user).order_by("-period_start", "kind", "region_id", "department_id")[:MAX_LISTED])
    subject_groups = [
        (_("地区（含下级）"), [(f"region:{r.code}", f"{r.name}（{r.code}）") for r in regions]),
        (_("部门"), [(f"department:{d.pk}", f"{d.name}（{d.region.name}）") for d in departments]),
    ]
    context = {
        "form": form, "period_groups": _period_groups(timezone.localdate()),
        "subject_groups": [(name, choices) for name, choices in subject_groups if choices],
        "reports": reports, "workbench_section": "reports",
        "chosen_period": form.data.get("period", "") if form.is_bound else "",
        # The supervisor's own region first: the report most often wanted.
        "chosen_subject": form.data.get("subject", "") if form.is_bound else (
            f"region:{regions[0].code}" if regions else ""),
    }
    return render(request, "insight/reports.html", context, status=status)


@workbench_view(allow=services.may_generate)
@require_http_methods(["GET", "POST"])
def report_list(request):
    """GET: the form and the reports; POST: make one, then back to the list (its row on top)."""
    if request.method == "GET":
        return _page(request, ReportForm())
    form = ReportForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=422)
    period = form.cleaned_data["period"]
    kind, value = form.cleaned_data["subject"]
    try:
        outcome = services.generate_report(
            request.user, kind=period.kind, start=period.start,
            region_code=value if kind == "region" else None,
            department_id=int(value) if kind == "department" else None,
        )
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.detail or exc.title)
        return _page(request, form, status=exc.status)
    report = outcome.report
    done = _("已生成报告：%(title)s") if outcome.created else _("已按当前数据重新生成报告：%(title)s")
    messages.success(request, done % {"title": report.title})
    return redirect(f"{request.path}#report-{report.pk}")


@workbench_view(allow=services.may_generate)
@require_GET
def download(request, report_id: int, fmt: str):
    """The report's Excel or PDF file, for those who may see the report (404 otherwise)."""
    report = services.reports_for(request.user).filter(pk=report_id).first()
    if report is None or fmt not in ("xlsx", "pdf"):
        raise Http404(_("没有这份报告"))
    field = report.xlsx if fmt == "xlsx" else report.pdf
    try:
        handle = field.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404(_("没有这份报告")) from None
    content_type = ("application/pdf" if fmt == "pdf" else
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response = FileResponse(handle, as_attachment=True, filename=f"{report.title}.{fmt}", content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    return response
