"""Opening a complaint (投诉) case by hand (/work/complaints/new/): about a 办件 (by its 办件编号, routed like a
差评) or directly about a department. Supervisors and 12345 operators (as services.open_complaint allows)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from haochaping.core.problems import DomainError
from haochaping.core.scoping import scope
from haochaping.org.models import Department
from haochaping.records.models import ServiceRecord
from haochaping.rectification import services
from haochaping.rectification.views.common import (
    may_open_complaint,
    may_use_workbench,
    visible_cases,
    workbench_view,
)
from haochaping.rectification.views.forms import ComplaintForm, show_error


@workbench_view(allow=may_open_complaint)
@require_http_methods(["GET", "POST"])
def new_complaint(request):
    user = request.user
    departments = scope(Department.objects.all(), user).order_by("region_id", "name")
    form = ComplaintForm(request.POST or None, departments=departments)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            record = None
            project_no = data["project_no"].strip()
            if project_no:
                # Out of scope looks exactly like a wrong number.
                record = scope(ServiceRecord.objects.select_related("window", "platform"), user).filter(
                    project_no=project_no).first()
                if record is None:
                    form.add_error("project_no", _("没有找到这个办件编号，请核对"))
            if not form.errors:
                try:
                    case = services.open_complaint(
                        summary=data["summary"], actor=user, record=record, department=data["department"],
                        is_real_name=data["is_real_name"],
                    )
                except DomainError as exc:
                    show_error(form, exc)
                    status = exc.status
                else:
                    messages.success(request, _("已登记投诉，案件编号%(no)06d") % {"no": case.pk})
                    if may_use_workbench(user) and visible_cases(user).filter(pk=case.pk).exists():
                        return redirect("rectification:case", case_id=case.pk)
                    return redirect("rectification:complaint_new")
    return render(request, "rectification/complaint_new.html", {"form": form, "workbench_section": "complaint"},
                  status=status)
