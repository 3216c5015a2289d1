"""Appeal pages (申诉, R7.3), mounted at /work/appeals/.

- ``mine``: the rated staff member's or unit's 差评 that may still be appealed, and their appeals;
- ``new``: the appeal form (explanation + evidence files);
- ``queue``: supervisors' review queue, due soonest first;
- ``detail``: one appeal with its evaluation, the case's deadlines, the evidence and the decision form;
- ``evidence``: one evidence file, streamed as a download through the same scope (never a public media URL).

Pages are thin: each form calls one service of :mod:`.appeals`; a refusal is shown next to the field it names.
Everything is looked up through ``core.scoping``; out of scope is the same 404 as nonexistent.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from haochaping.accounts.roles import Role
from haochaping.core import calendar
from haochaping.core.problems import DomainError
from haochaping.core.scoping import scope
from haochaping.evaluation.rules import level_text
from haochaping.org import policy
from haochaping.rectification import services
from haochaping.rectification.downloads import attachment_response
from haochaping.rectification.models import Appeal, CaseAttachment, CaseTransition
from haochaping.rectification.rules import APPEAL_OPEN, AppealState, DeadlineKind, State
from haochaping.rectification.services import appeals

APPEAL_ACTIONS = ("appeal_submitted", "appeal_review", "appeal_upheld", "appeal_rejected")
APPEAL_RELATED = ("case", "case__department", "case__agency", "evaluation", "evaluation__item", "appellant", "reviewer")


def _page(request, template: str, context: dict, status: int = 200):
    context = {"workbench_section": "appeals", **context}
    return render(request, f"rectification/{template}", context, status=status)


def _forbidden(request, who: str):
    return _page(request, "appeal_forbidden.html", {"who": who}, status=403)


def _rated_party_role(user) -> bool:
    return user.is_active and user.role in (Role.STAFF, Role.HANDLER)


def _reviewer_role(user) -> bool:
    return user.is_active and (user.is_superuser or user.role == Role.SUPERVISOR)


def visible_appeals(user):
    """Appeals ``user`` may open: the rated party's (staff member, unit) and the supervisors' of the region."""
    if not (_rated_party_role(user) or _reviewer_role(user)):
        return Appeal.objects.none()
    return scope(Appeal.objects.all(), user)


def _get_appeal(user, appeal_id: int) -> Appeal:
    appeal = visible_appeals(user).select_related(*APPEAL_RELATED).filter(pk=appeal_id).first()
    if appeal is None:
        raise Http404(_("没有这个申诉"))
    return appeal


def _days_left(today, due, region_code: str) -> dict:
    """Working days left until ``due`` as a page says it."""
    left = calendar.working_days_between(today, due, region_code)
    if today > due:
        return {"left": left, "overdue": True, "text": _("已逾期")}
    if left == 0:
        return {"left": 0, "overdue": False, "text": _("今天截止")}
    return {"left": left, "overdue": False, "text": _("剩余%(n)d个工作日") % {"n": left}}


def _deadline_view(row) -> dict:
    """One of the case's deadlines (rules.DeadlineRow) as the appeal page says it."""
    if row.done_on is not None:
        text, css = _("已于%(day)s完成") % {"day": row.done_on.isoformat()}, "due-ok"
    elif row.working_days_left is None:
        text, css = _("无需办理"), "due-ok"
    elif row.overdue:
        text, css = _("已逾期%(n)d个工作日") % {"n": max(-row.working_days_left, 1)}, "due-overdue"
    elif row.working_days_left == 0:
        text, css = _("今天到期"), "due-soon"
    else:
        text = _("剩余%(n)d个工作日") % {"n": row.working_days_left}
        css = "due-soon" if row.working_days_left <= 1 else "due-ok"
    return {"label": DeadlineKind(row.kind).label, "due": row.due, "text": text, "css": css}


def _evaluation_view(evaluation) -> dict:
    """What the pages show of the 差评: level, labels, comment — never who wrote it."""
    return {
        "level": level_text(evaluation.level, policy.label_set(evaluation.region_id)),
        "labels": [label.text for label in evaluation.labels.all()],
        "comment": evaluation.comment,
        "at": evaluation.created_at,
        "item": evaluation.item.name,
    }


# --- the rated party --------------------------------------------------------------------------------------


@login_required
@require_GET
def mine(request):
    """The rated party's 差评 still open to appeal (deadline and days left), and their appeals with their states."""
    user = request.user
    if not _rated_party_role(user):
        return _forbidden(request, _("被评价的窗口工作人员或业务办理单位经办人"))
    today = timezone.localdate()
    cases = (
        appeals.appealable_cases(user)
        .filter(appeal__isnull=True, appeal_due__gte=today)
        .exclude(state=State.CLOSED)
        .select_related("evaluation", "evaluation__item", "department")
        .prefetch_related("evaluation__labels")
        .order_by("appeal_due", "opened_at")
    )
    open_cases = [
        {"case": case, "evaluation": _evaluation_view(case.evaluation),
         "due": _days_left(today, case.appeal_due, case.region_id)}
        for case in cases[:200]
    ]
    own = visible_appeals(user).select_related(*APPEAL_RELATED).order_by("-submitted_at")[:200]
    return _page(request, "appeal_mine.html", {"open_cases": open_cases, "appeals": own})


@login_required
@require_http_methods(["GET", "POST"])
def new(request, case_id: int):
    """The appeal form: explanation and evidence files (multipart); errors next to the field."""
    user = request.user
    if not _rated_party_role(user):
        return _forbidden(request, _("被评价的窗口工作人员或业务办理单位经办人"))
    case = (
        appeals.appealable_cases(user).select_related("evaluation", "evaluation__item", "department")
        .filter(pk=case_id).first()
    )
    if case is None:
        raise Http404(_("没有这个整改案件"))
    today = timezone.localdate()
    context = {
        "case": case, "evaluation": _evaluation_view(case.evaluation), "values": {}, "errors": {},
        "due": _days_left(today, case.appeal_due, case.region_id) if case.appeal_due else None,
        "max_files": appeals.MAX_FILES, "max_mb": settings.HAOCHAPING_MAX_UPLOAD_MB,
    }
    if request.method == "POST":
        explanation = request.POST.get("explanation", "")
        context["values"] = {"explanation": explanation}
        try:
            appeal = appeals.submit_appeal(case.pk, actor=user, explanation=explanation,
                                           files=request.FILES.getlist("files"))
        except DomainError as exc:
            if exc.field in ("explanation", "files"):
                context["errors"] = {exc.field: exc.detail or exc.title}
            else:
                context["blocked"] = exc.detail or exc.title
            return _page(request, "appeal_new.html", context, status=exc.status)
        messages.success(request, _("申诉已提交，审核期限为%(due)s。审核期间，案件办理期限照常计算。") % {
            "due": appeal.review_due.isoformat()})
        return redirect("appeals:detail", appeal_id=appeal.pk)
    blocked = appeals.appeal_period_problems(user, case, today)
    if blocked:
        context["blocked"] = blocked[0][1]
    return _page(request, "appeal_new.html", context)


# --- review -----------------------------------------------------------------------------------------------


@login_required
@require_GET
def queue(request):
    """Supervisors' queue: appeals waiting for review, due soonest first, overdue marked; then recent decisions."""
    user = request.user
    if not _reviewer_role(user):
        return _forbidden(request, _("政务服务管理机构的监督人员"))
    today = timezone.localdate()
    visible = visible_appeals(user).select_related(*APPEAL_RELATED)
    waiting = [
        {"appeal": a, "due": _days_left(today, a.review_due, a.case.region_id)}
        for a in visible.filter(state__in=APPEAL_OPEN).order_by("review_due", "submitted_at", "pk")[:500]
    ]
    decided = visible.exclude(state__in=APPEAL_OPEN).order_by("-decided_at", "-pk")[:50]
    return _page(request, "appeal_queue.html", {"waiting": waiting, "decided": decided})


def _detail_context(request, appeal: Appeal) -> dict:
    user = request.user
    case = appeal.case
    today = timezone.localdate()
    reviewer = appeals.may_review(user, case)
    return {
        "appeal": appeal,
        "case": case,
        "case_state": State(case.state).label,
        "evaluation": _evaluation_view(appeal.evaluation),
        "deadlines": [_deadline_view(row) for row in services.case_deadlines(case, today=today)],
        "review_due": _days_left(today, appeal.review_due, case.region_id) if appeal.state in APPEAL_OPEN else None,
        "review_label": DeadlineKind.APPEAL_REVIEW.label,
        "is_open": appeal.state in APPEAL_OPEN,
        "files": list(appeal.attachments.filter(purpose=CaseAttachment.Purpose.APPEAL)),
        "steps": CaseTransition.objects.filter(case=case, action__in=APPEAL_ACTIONS).select_related("actor"),
        "reviewer": reviewer,
        "may_start": reviewer and appeal.state == AppealState.SUBMITTED,
        "unit_figures": appeals.unit_bad_reviews(appeal.evaluation) if reviewer else None,
        "may_open_case": user.is_superuser or user.role in (Role.SUPERVISOR, Role.HANDLER),
        "values": {},
        "errors": {},
    }


@login_required
@require_http_methods(["GET", "POST"])
def detail(request, appeal_id: int):
    """One appeal: the 差评 (level, labels, comment), the case's state and deadlines, the evidence and, for a
    supervisor over the case while it is open, 开始审核 and the decision form (成立/不成立 + 审核意见)."""
    user = request.user
    appeal = _get_appeal(user, appeal_id)
    if request.method != "POST":
        return _page(request, "appeal_detail.html", _detail_context(request, appeal))
    action = request.POST.get("action", "")
    note = request.POST.get("note", "")
    upheld = {"1": True, "0": False}.get(request.POST.get("upheld", ""))
    try:
        if action == "start_review":
            appeals.start_review(appeal.pk, actor=user)
            done = _("已开始审核该申诉。")
        elif action == "decide":
            decided = appeals.decide_appeal(appeal.pk, actor=user, upheld=upheld, note=note)
            done = (_("申诉成立：该差评已不计入统计，案件已办结。") if decided.state == AppealState.UPHELD
                    else _("申诉不成立：案件继续办理。"))
        else:
            raise DomainError(400, _("请求内容有误"), _("请选择要进行的操作"), "action")
    except DomainError as exc:
        appeal = _get_appeal(user, appeal_id)
        context = _detail_context(request, appeal)
        field = exc.field if exc.field in ("upheld", "note") else "decision"
        context["errors"] = {field: exc.detail or exc.title}
        context["values"] = {"note": note, "upheld": request.POST.get("upheld", "")}
        return _page(request, "appeal_detail.html", context, status=exc.status)
    messages.success(request, done)
    return redirect("appeals:detail", appeal_id=appeal.pk)


@login_required
@require_GET
def evidence(request, appeal_id: int, file_id: int):
    """An appeal's evidence file as a download, for those who may open the appeal (404 otherwise)."""
    appeal = _get_appeal(request.user, appeal_id)
    attachment = appeal.attachments.filter(pk=file_id, purpose=CaseAttachment.Purpose.APPEAL).first()
    if attachment is None:
        raise Http404(_("没有这个文件"))
    try:
        return attachment_response(attachment)
    except FileNotFoundError:
        raise Http404(_("没有这个文件")) from None
