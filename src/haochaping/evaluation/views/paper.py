"""Paper evaluation forms (书面评价表, R3.2): print numbered forms per agency, and enter filled ones.

Entering is done by a signed-in user holding ``evaluation.enter_paper_form`` who can see the form's agency and
is not the rated staff member (R7.1, checked in services); the scanned form is required as evidence.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from haochaping.core import uploads
from haochaping.core.problems import DomainError
from haochaping.core.scoping import scope
from haochaping.org import policy
from haochaping.org.models import ServiceAgency
from haochaping.records.models import RecordStatus, ServiceRecord, Stage

from .. import printing, rules, services
from ..models import Channel, Label, PaperForm

log = logging.getLogger(__name__)

ENTER_PERMISSION = "evaluation.enter_paper_form"
FIELDS = ("form_number", "project_no", "level", "labels", "comment", "scan")


def visible_agencies(user):
    """Agencies whose forms ``user`` may print or enter: their scope, and a window staff member's own hall.

    Staff see only their own rows (core.scoping), so their hall is added here: entering a colleague's
    paper forms is exactly what they are asked to do.
    """
    own = Q(pk__in=scope(ServiceAgency.objects.all(), user).values("pk"))
    staff = getattr(user, "staff", None) if getattr(user, "staff_id", None) else None
    if staff is not None and staff.agency_id:
        own |= Q(pk=staff.agency_id)
    return ServiceAgency.objects.filter(own)


def _forbidden(request):
    return render(request, "evaluation/paper_forbidden.html", status=403)


# A supervisor's region may hold hundreds of halls; the index lists the first ones by code.
INDEX_LIMIT = 200


def may_print(user) -> bool:
    return user.has_perm(ENTER_PERMISSION) or user.has_perm("org.view_serviceagency")


@login_required
@require_http_methods(["GET"])
def index(request):
    """书面评价表 (/paper/): print forms for each hall the user may print for, and enter filled ones (linked from the
    workbench)."""
    user = request.user
    if not may_print(user):
        return _forbidden(request)
    agencies = list(visible_agencies(user).filter(is_active=True).order_by("code")[: INDEX_LIMIT + 1])
    return render(request, "evaluation/paper_index.html", {
        "agencies": agencies[:INDEX_LIMIT], "more": len(agencies) > INDEX_LIMIT,
        "may_enter": user.has_perm(ENTER_PERMISSION), "workbench_section": "paper",
    })


@login_required
@require_http_methods(["GET", "POST"])
def print_forms(request, agency_id: int):
    """GET: choose how many forms to print. POST: create that many numbered forms and return them as a PDF."""
    user = request.user
    if not may_print(user):
        return _forbidden(request)
    agency = visible_agencies(user).filter(pk=agency_id, is_active=True).first()
    if agency is None:
        raise Http404(_("政务服务机构不存在"))
    context = {"agency": agency, "count": request.GET.get("count", "10"), "max": services.MAX_PAPER_FORMS_PER_PRINT,
               "may_enter": user.has_perm(ENTER_PERMISSION)}
    if request.method != "POST":
        return render(request, "evaluation/paper_print.html", context)
    raw = request.POST.get("count", "").strip()
    context["count"] = raw
    try:
        forms = services.create_paper_forms(agency, int(raw) if raw.isdigit() else 0)
    except DomainError as exc:
        return render(request, "evaluation/paper_print.html", {**context, "error": exc.detail}, status=exc.status)
    log.info("paper forms printed: agency_id=%s count=%d by user_id=%s", agency.pk, len(forms), user.pk)
    label_set = policy.label_set(agency.region_id)
    pdf = printing.paper_forms_pdf(
        [printing.FormPage(number=f.number, agency_name=agency.name) for f in forms],
        levels=printing.level_texts(label_set),
        labels=list(Label.objects.filter(is_active=True, level__lte=2).order_by("code").values_list("code", "text")),
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="paper-forms-{forms[0].number}.pdf"'
    return response


def _level_choices():
    return [
        {"level": n, "text": f"{rules.level_text(n, 'satisfaction')}（{rules.level_text(n, 'good')}）"}
        for n in reversed(rules.LEVELS)
    ]


def _entry_context(values: dict, errors: dict | None = None) -> dict:
    return {
        "values": values,
        "errors": errors or {},
        "levels": _level_choices(),
        "labels": Label.objects.filter(is_active=True, level__lte=2).order_by("code"),
        "max_mb": settings.HAOCHAPING_MAX_UPLOAD_MB,
        "max_comment": rules.MAX_COMMENT,
    }


@login_required
@require_http_methods(["GET", "POST"])
def enter_form(request):
    """Enter one filled paper form; each form number is entered once, by someone other than the rated staff."""
    user = request.user
    if not user.has_perm(ENTER_PERMISSION):
        return _forbidden(request)
    if request.method != "POST":
        return render(request, "evaluation/paper_enter.html", _entry_context({}))
    post = request.POST
    values = {
        "form_number": post.get("form_number", "").strip().upper(),
        "project_no": post.get("project_no", "").strip().upper(),
        "level": post.get("level", ""),
        "labels": post.getlist("labels"),
        "comment": post.get("comment", "").strip(),
    }
    errors: dict[str, str] = {}
    status = 422
    form = None
    if not values["form_number"]:
        errors["form_number"] = _("请填写表单编号")
    else:
        form = PaperForm.objects.filter(number=values["form_number"], agency__in=visible_agencies(user)).first()
        if form is None:
            errors["form_number"] = _("没有这个表单编号，或该表单不属于您可以录入的政务服务机构")
        elif form.evaluation_id is not None:
            errors["form_number"] = _("该评价表编号已录入过，每张评价表只能录入一次")
            status = 409
    if not values["project_no"]:
        errors["project_no"] = _("请填写评价表上的办件编号")
    level = int(values["level"]) if values["level"].isdigit() else 0
    if level not in rules.LEVELS:
        errors["level"] = _("请选择评价表上勾选的评价等级")
    if len(values["comment"]) > rules.MAX_COMMENT:
        errors["comment"] = _("意见和建议不能超过 %(n)d 个字") % {"n": rules.MAX_COMMENT}
    scan = request.FILES.get("scan")
    scan_kind = None
    try:
        scan_kind = uploads.check_scan(scan, label=_("评价表扫描件"))
    except ValidationError as exc:
        errors["scan"] = exc.messages[0]
    if errors:
        return render(request, "evaluation/paper_enter.html", _entry_context(values, errors), status=status)
    record = ServiceRecord.objects.by_number(values["project_no"]).only("status").first()
    stage = Stage.ACCEPT if record is not None and record.status != RecordStatus.COMPLETED else Stage.COMPLETE
    data = services.EvaluationInput(
        idempotency_key=f"paper-{form.number}",
        project_no=values["project_no"],
        stage=stage,
        channel=Channel.PAPER,
        level=level,
        labels=values["labels"],
        comment=values["comment"],
    )
    try:
        result = services.enter_paper_form(form.pk, data, actor=user, scan=scan, scan_name=f"{form.number}.{scan_kind}")
    except DomainError as exc:
        field = exc.field if exc.field in FIELDS else "form"
        return render(request, "evaluation/paper_enter.html", _entry_context(values, {field: exc.detail}), status=exc.status)
    log.info("paper form entered: form=%s by user_id=%s", form.number, user.pk)
    messages.success(
        request,
        _("评价表 %(number)s 已录入，评价回执码 %(code)s。") % {"number": form.number, "code": result.evaluation.receipt_code},
    )
    return redirect("paper:enter")
