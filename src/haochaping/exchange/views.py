"""数据报送 pages: the operations page (administrators: what waits to go upward, how old the oldest row is, dead
letters, the last reconciliations, the lower nodes' last pushes) and the reports an upper node sent down
(supervisors, scoped to their region). Thin: figures come from exchange.services."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from haochaping.accounts.roles import Role
from haochaping.core.scoping import scope
from haochaping.rectification.views.common import workbench_view

from .models import LowerNode, OutboxEntry, ReceivedReport, Reconciliation, Upstream
from .services import outbox


def may_operate(user) -> bool:
    return bool(user.is_active and (user.is_superuser or getattr(user, "role", None) == Role.ADMINISTRATOR))


def may_read_reports(user) -> bool:
    return bool(user.is_active and (user.is_superuser or getattr(user, "role", None) == Role.SUPERVISOR))


@workbench_view(allow=may_operate)
@require_GET
def operations(request):
    lag = outbox.lag()
    upstreams = [{"upstream": u, **lag.get(u.name, {"pending": 0, "dead": 0, "lag_seconds": 0, "last_error": ""})}
                 for u in Upstream.objects.all()]
    context = {
        "upstreams": upstreams,
        "dead_letters": OutboxEntry.objects.filter(status=OutboxEntry.Status.DEAD).select_related("upstream")[:50],
        "reconciliations": Reconciliation.objects.select_related("upstream")[:30],
        "lower_nodes": LowerNode.objects.select_related("api_key__region"),
        "workbench_section": "exchange",
    }
    return render(request, "exchange/operations.html", context)


def _received(user):
    return scope(ReceivedReport.objects.select_related("upstream"), user)


@workbench_view(allow=may_read_reports)
@require_GET
def received_reports(request):
    return render(request, "exchange/received_reports.html", {"reports": _received(request.user)[:300],
                                                                   "workbench_section": "received_reports"})


@workbench_view(allow=may_read_reports)
@require_GET
def received_report_pdf(request, report_id: int):
    report = _received(request.user).filter(pk=report_id).first()
    if report is None:
        raise Http404(_("没有这份报告"))
    try:
        handle = report.pdf.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404(_("没有这份报告")) from None
    response = FileResponse(handle, as_attachment=True, filename=f"{report.title}.pdf", content_type="application/pdf")
    response["Cache-Control"] = "private, no-store"
    return response
