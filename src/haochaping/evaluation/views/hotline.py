"""12345 hotline intake (R3.5/R3.6): an operator records a caller's evaluation of a 办件, channel ``phone``.

Only users holding ``evaluation.record_phone_evaluation`` (Role.HOTLINE) may use it; anyone else signed in gets a
Chinese 403 page, anonymous visitors go to the login page. The operator finds the 办件 by its 办件编号 among the
rows their scope shows (out of scope reads as "not found") — or, since a caller rarely knows that long number, by
the caller's mobile number among the applicants' (POST only: a phone never goes into a URL) — ticks that the caller agreed to have the operator
record the evaluation, and then runs the shared rating flow.

Consent is recorded in the evaluation's ``source``: ``hotline:<operator username>:consent`` — it says who recorded
it and that the caller agreed, without any personal data of the caller. The caller's mobile number is optional
(for a real-name evaluation that can be followed up); it travels only in POST bodies and is stored encrypted.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from haochaping.core import crypto
from haochaping.core.scoping import scope
from haochaping.records.models import ServiceRecord

from .. import rules
from ..models import Channel
from ..pages import RatingContext, rate

PERMISSION = "evaluation.record_phone_evaluation"
CONSENT_TEXT = "来电人同意由话务员代为记录评价"
STAGES = {"accept": "受理", "complete": "办结"}
NOT_FOUND = "在您负责的地区内没有找到这个办件编号，请核对后重试"
PHONE_NOT_FOUND = "在您负责的地区内没有找到这个手机号办理的办件，请核对号码，或请来电人提供办件编号"
BY_PHONE_LIMIT = 20


def source_for(user) -> str:
    return f"hotline:{user.get_username()}:consent"[:100]


def _guard(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not request.user.has_perm(PERMISSION):
        return render(request, "evaluation/hotline_forbidden.html", {}, status=403)
    return None


def _find(user, project_no: str) -> ServiceRecord | None:
    return (
        scope(ServiceRecord.objects.select_related("item", "department", "window", "staff"), user)
        .by_number(project_no).first()
    )


def _default_stage(record: ServiceRecord) -> str:
    return "complete" if record.completed_at else "accept"


@require_http_methods(["GET"])
def search(request):
    """Find the 办件 by 办件编号 (GET ?project_no=, which is not personal data)."""
    refused = _guard(request)
    if refused:
        return refused
    project_no = request.GET.get("project_no", "").strip()
    context: dict = {"project_no": project_no, "stages": STAGES, "consent_text": CONSENT_TEXT}
    status = 200
    if "project_no" in request.GET:
        if not project_no:
            context["errors"] = {"project_no": _("请输入办件编号")}
            status = 422
        else:
            record = _find(request.user, project_no)
            if record is None:
                context["errors"] = {"project_no": _(NOT_FOUND)}
                status = 404
            else:
                context.update(record=record, item=record.item, window=record.window, staff=record.staff,
                               stage=_default_stage(record))
    return render(request, "evaluation/hotline.html", context, status=status)


@require_http_methods(["POST"])
def search_by_phone(request):
    """The caller's most recent 办件 (as applicant) in the operator's scope, found by the mobile number the caller
    gives; each links to the rating flow by its 办件编号 (not personal data)."""
    refused = _guard(request)
    if refused:
        return refused
    # Operators type what the caller says: "138 0000 0001", "138-0000-0001".
    phone = "".join(request.POST.get("caller_phone", "").split()).replace("-", "")
    context: dict = {"stages": STAGES, "consent_text": CONSENT_TEXT}
    problem = rules.phone_problem(phone) if phone else (None, _("请输入来电人的手机号"))
    if problem:
        context["errors"] = {"search_phone": problem[1]}
        return render(request, "evaluation/hotline.html", context, status=422)
    records = list(
        scope(ServiceRecord.objects.select_related("item", "window"), request.user)
        .filter(applicant_phone_index=crypto.blind_index(phone, kind="phone"))
        .order_by("-accepted_at", "-id")[:BY_PHONE_LIMIT]
    )
    if not records:
        context["errors"] = {"search_phone": _(PHONE_NOT_FOUND)}
        return render(request, "evaluation/hotline.html", context, status=404)
    context.update(found=records, found_more=len(records) == BY_PHONE_LIMIT)
    return render(request, "evaluation/hotline.html", context)


@require_http_methods(["POST"])
def record_call(request):
    """Consent step, then the rating flow (every later step re-checks scope and consent)."""
    refused = _guard(request)
    if refused:
        return refused
    project_no = request.POST.get("project_no", "").strip()
    record = _find(request.user, project_no) if project_no else None
    if record is None:
        return render(request, "evaluation/hotline.html",
                      {"project_no": project_no, "stages": STAGES, "consent_text": CONSENT_TEXT,
                       "errors": {"project_no": _(NOT_FOUND)}}, status=404)
    stage = request.POST.get("stage", "")
    phone = request.POST.get("caller_phone", "").strip()
    errors: dict[str, str] = {}
    if stage not in STAGES:
        errors["stage"] = _("请选择评价环节（受理或办结）")
    if request.POST.get("consent") != "1":
        errors["consent"] = _("请先确认“%(consent)s”，未经来电人同意不能代为记录") % {"consent": CONSENT_TEXT}
    problem = rules.phone_problem(phone) if phone else None
    if problem:
        errors["caller_phone"] = problem[1]
    if errors:
        return render(request, "evaluation/hotline.html",
                      {"project_no": project_no, "stages": STAGES, "consent_text": CONSENT_TEXT, "record": record,
                       "item": record.item, "window": record.window, "staff": record.staff,
                       "stage": stage or _default_stage(record), "caller_phone": phone, "consent": request.POST.get("consent"),
                       "errors": errors}, status=422)
    ctx = RatingContext(
        record=record,
        stage=stage,
        channel=Channel.PHONE,
        source=source_for(request.user),
        hidden={"project_no": record.project_no, "stage": stage, "consent": "1", "caller_phone": phone},
        heading=_("代来电人评价（%(stage)s环节）") % {"stage": STAGES[stage]},
        template="evaluation/hotline_rate.html",
        evaluator_phone=phone,
        for_caller=True,
    )
    return rate(request, ctx)
