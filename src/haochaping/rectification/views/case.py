"""The case page (/work/cases/<id>/): everything about one case, and a form for each step the signed-in user may
take now. Each form POSTs to its own URL and calls one service; a refusal re-renders the page with the message
next to the field (nothing changed), a success redirects back with a message (PRG)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from axes.helpers import get_client_ip_address
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from haochaping.accounts.models import display_related
from haochaping.core.problems import DomainError
from haochaping.rectification import rules, services
from haochaping.rectification.downloads import attachment_response
from haochaping.rectification.models import CaseAttachment, CaseNotice, CaseTransition, LedgerProgress
from haochaping.rectification.rules import AppealState, State
from haochaping.rectification.services import appeals
from haochaping.rectification.views import forms as f
from haochaping.rectification.views.common import (
    due_view,
    get_case,
    is_handler,
    is_supervisor,
    visible_cases,
    workbench_view,
)

# How the timeline names each step (CaseTransition.action); unknown actions show as they are.
ACTION_LABELS = {
    "open": gettext_lazy("立案"), "assign": gettext_lazy("指派承办人"), "callback": gettext_lazy("回访核实"),
    "outcome": gettext_lazy("确定处理结果"), "propose": gettext_lazy("提请认定误评或恶意差评"),
    "confirm": gettext_lazy("确认误评或恶意差评"), "reject_proposal": gettext_lazy("不予认定误评或恶意差评"),
    "progress": gettext_lazy("填报整改进展"), "complete_ledger": gettext_lazy("整改台账完成"),
    "extension": gettext_lazy("审批整改延期"), "answer": gettext_lazy("答复%(person)s"), "close": gettext_lazy("办结"),
    "reopen": gettext_lazy("%(person)s不满意，重新办理"), "satisfaction": gettext_lazy("%(person)s确认处理结果"),
    "send_back": gettext_lazy("监督退回重办"), "supervise": gettext_lazy("督办意见"),
    "appeal_submitted": gettext_lazy("提出申诉"), "appeal_review": gettext_lazy("申诉审核中"),
    "appeal_upheld": gettext_lazy("申诉成立"), "appeal_rejected": gettext_lazy("申诉不成立"),
    "escalate": gettext_lazy("逾期上报"), "transfer": gettext_lazy("转办"),
}


def _said(text, case) -> str:
    """``text`` (a step's title or message, a timeline label) for ``case``: %(person)s is its 评价人 or 投诉人."""
    return text % {"person": rules.counterpart(case.kind)} if "%(person)s" in str(text) else text


@dataclass(frozen=True)
class Step:
    """A form on the case page: who may see it (role and the case's state), which form, which service call."""

    name: str
    title: str
    submit: str
    form: type
    shown: Callable  # (user, case) -> bool
    call: Callable  # (case, data, files, user) -> None
    done: str  # the success message
    multipart: bool = False
    intro: str = ""


def _handler(user) -> bool:
    return user.is_superuser or is_handler(user)


def _pending_extension(case) -> bool:
    return services.extension_pending(case, _ledger(case))


def _ledger(case):
    try:
        return case.ledger
    except ObjectDoesNotExist:  # no 台账 (not 限期整改)
        return None


def _callback_input(d):
    return services.CallbackInput(at=d["at"], method=d["method"], reached=d["reached"], contact=d["contact"],
                                  facts=d["facts"])


def _outcome_input(d):
    return services.OutcomeInput(
        outcome=d["outcome"], detail=d["detail"], legal_basis=d["legal_basis"], evidence=d["evidence"],
        problem=d["problem"], measures=d["measures"], responsible_person=d["responsible_person"],
        deadline=d["deadline"], extension_reason=d["extension_reason"],
    )


def _in(action):
    return lambda case: action in rules.allowed_actions(case.state)


STEPS: dict[str, Step] = {s.name: s for s in [
    Step("assign", gettext_lazy("指派承办人"), gettext_lazy("指派"), f.AssignForm,
         lambda u, c: (_handler(u) or is_supervisor(u)) and c.state in rules.ASSIGNABLE,
         lambda c, d, files, u: services.assign(c.pk, d["assignee"], actor=u), gettext_lazy("已指派承办人")),
    Step("transfer", gettext_lazy("转办"), gettext_lazy("转办"), f.TransferForm,
         lambda u, c: (_handler(u) or is_supervisor(u)) and bool(services.transfer_choices(c)),
         lambda c, d, files, u: services.transfer(c.pk, d["department"], reason=d["reason"], actor=u),
         gettext_lazy("已转办，办理期限不变"),
         intro=gettext_lazy("核实后发现问题不属于本单位的（如平台故障、审批事项本身的问题），转给负责的单位办理。"
                            "转办记入办理记录，办理期限和已做的回访核实不变。")),
    Step("callback", gettext_lazy("记录回访核实"), gettext_lazy("保存回访记录"), f.CallbackForm,
         lambda u, c: _handler(u) and _in("callback")(c),
         lambda c, d, files, u: services.record_callback(c.pk, _callback_input(d), actor=u), gettext_lazy("已记录回访核实")),
    Step("outcome", gettext_lazy("确定处理结果"), gettext_lazy("提交处理结果"), f.OutcomeForm,
         lambda u, c: _handler(u) and _in("outcome")(c) and not c.proposed_outcome,
         lambda c, d, files, u: services.choose_outcome(c.pk, _outcome_input(d), actor=u, files=d["files"]),
         gettext_lazy("已提交处理结果"), multipart=True,
         intro=gettext_lazy("按所选处理结果填写对应内容：立行立改写明整改内容；限期整改填写台账；解释说明写明解释和依据；"
                            "误评或恶意差评提供证据，经监督人员确认后生效。")),
    Step("progress", gettext_lazy("填报整改进展"), gettext_lazy("保存进展"), f.ProgressForm,
         lambda u, c: _handler(u) and c.state == State.RECTIFYING,
         lambda c, d, files, u: services.add_ledger_progress(c.pk, note=d["note"], actor=u), gettext_lazy("已填报整改进展")),
    Step("complete", gettext_lazy("整改完成"), gettext_lazy("提交整改完成"), f.CompleteForm,
         lambda u, c: _handler(u) and _in("complete_ledger")(c),
         lambda c, d, files, u: services.complete_ledger(c.pk, evidence=d["evidence"], actor=u, files=d["files"]),
         gettext_lazy("台账已完成"), multipart=True),
    Step("answer", gettext_lazy("答复%(person)s"), gettext_lazy("发送答复"), f.AnswerForm,
         lambda u, c: _handler(u) and _in("answer")(c),
         lambda c, d, files, u: services.answer(c.pk, text=d["answer"], actor=u), gettext_lazy("已答复%(person)s")),
    Step("close", gettext_lazy("办结案件"), gettext_lazy("办结"), f.CloseForm,
         lambda u, c: (_handler(u) and c.state == State.ANSWERED) or (is_supervisor(u) and c.state == State.REOPENED),
         lambda c, d, files, u: services.close(c.pk, actor=u, note=d["note"]), gettext_lazy("案件已办结"),
         intro=gettext_lazy("一般不必办结：%(person)s确认满意、或确认期限过后，系统自动办结。提前办结后，%(person)s不能再表示"
                            "是否满意，只在%(person)s已当面或电话表示满意时使用，并在办结说明中写明。")),
    Step("confirm", gettext_lazy("确认误评或恶意差评"), gettext_lazy("确认"), f.ConfirmForm,
         lambda u, c: is_supervisor(u) and c.state == State.CALLED_BACK and bool(c.proposed_outcome),
         lambda c, d, files, u: services.confirm_not_adopted(c.pk, actor=u, note=d["note"]),
         gettext_lazy("已确认，该评价不计入统计，并已报备管理机构"),
         intro=gettext_lazy("确认后该评价不计入统计（记录保留），案件报备同级政务服务管理机构。")),
    Step("reject", gettext_lazy("不予认定"), gettext_lazy("不予认定"), f.NoteForm,
         lambda u, c: is_supervisor(u) and c.state == State.CALLED_BACK and bool(c.proposed_outcome),
         lambda c, d, files, u: services.reject_not_adopted(c.pk, actor=u, note=d["note"]),
         gettext_lazy("已不予认定，案件退回承办单位重新确定处理结果")),
    Step("extension", gettext_lazy("审批延期"), gettext_lazy("提交审批"), f.ExtensionForm,
         lambda u, c: is_supervisor(u) and _pending_extension(c),
         lambda c, d, files, u: services.decide_extension(c.pk, approve=d["approve"], actor=u, note=d["note"]),
         gettext_lazy("已审批延期申请")),
    Step("send_back", gettext_lazy("退回重办"), gettext_lazy("退回"), f.NoteForm,
         lambda u, c: is_supervisor(u) and _in("send_back")(c),
         lambda c, d, files, u: services.send_back(c.pk, actor=u, note=d["note"]),
         gettext_lazy("已退回承办单位重新办理"), intro=gettext_lazy("退回后案件回到“已回访核实”，承办单位重新确定处理结果。")),
    Step("note", gettext_lazy("督办意见"), gettext_lazy("保存意见"), f.NoteForm,
         lambda u, c: is_supervisor(u),
         lambda c, d, files, u: services.add_supervision_note(c.pk, actor=u, note=d["note"]), gettext_lazy("已记录督办意见")),
]}


def _make_form(step: Step, case, data=None, files=None):
    kwargs = {"prefix": step.name}
    if step.form in (f.AssignForm, f.TransferForm, f.CallbackForm, f.AnswerForm, f.OutcomeForm):
        kwargs["case"] = case
    return step.form(data, files, **kwargs)


def _step_context(step: Step, case, form):
    return {
        "name": step.name, "form": form, "title": _said(step.title, case), "submit": step.submit, "multipart": step.multipart,
        # Closing a reopened case is the supervisor's review, not the handler's early close the intro is about.
        "intro": "" if step.name == "close" and case.state == State.REOPENED else _said(step.intro, case),
        "id": f"step-{step.name}", "action": reverse("rectification:step", args=[case.pk, step.name]),
    }


def _contact(request, case) -> dict | None:
    """The 查看联系方式 box for the case's assignee (services.contact_fields), or None."""
    fields = services.contact_fields(case, request.user)
    if not fields:
        return None
    return {"form": f.ContactForm(fields=fields, prefix="contact"), "revealed": None,
            "action": reverse("rectification:contact", args=[case.pk])}


def _render(request, case, *, bound: tuple[str, object] | None = None, status: int = 200, contact=None):
    user = request.user
    steps = []
    for step in STEPS.values():
        if bound and bound[0] == step.name:
            steps.append(_step_context(step, case, bound[1]))
        elif step.shown(user, case):
            steps.append(_step_context(step, case, _make_form(step, case)))
    evaluation = case.evaluation
    ledger = _ledger(case)
    appeal = getattr(case, "appeal", None) if _has_appeal(case) else None
    context = {
        "case": case,
        "evaluation": evaluation,
        "labels": list(evaluation.labels.all()) if evaluation else [],
        "deadlines": [due_view(row) for row in services.case_deadlines(case)],
        "timeline": [
            {"t": t, "label": _said(ACTION_LABELS.get(t.action, t.action), case), "from_state": rules.state_label(t.from_state, case.kind),
             "to_state": rules.state_label(t.to_state, case.kind)}
            for t in CaseTransition.objects.filter(case=case).select_related(*display_related("actor"))
        ],
        "ledger": ledger,
        "progress": list(LedgerProgress.objects.filter(entry=ledger).select_related(*display_related("actor"))) if ledger else [],
        "attachments": list(CaseAttachment.objects.filter(case=case).select_related("uploaded_by")),
        # Whether the evaluator opened the answer SMS's link (the latest answer's; reply_links).
        "reply_link": case.reply_links.order_by("-created_at").first() if case.answered_at else None,
        "appeal": appeal,
        "appeal_open": appeal is not None and appeal.state in rules.APPEAL_OPEN,
        # The rated party may appeal from here while the period lasts (the form says the rest).
        "may_appeal": appeal is None and case.appeal_due is not None and case.appeal_due >= timezone.localdate()
        and appeals.appealable_cases(user).filter(pk=case.pk).exists(),
        "notices": list(CaseNotice.objects.filter(case=case).select_related("agency")) if is_supervisor(user) else [],
        "steps": steps,
        # A case routed to the wrong unit with nowhere to transfer it (a complaint about a department, a 办件 of
        # one unit): the handler is told whom to ask rather than left with the outcomes only.
        "cannot_transfer": not is_supervisor(user) and case.state in rules.TRANSFERABLE and not case.proposed_outcome
        and bool(steps) and "transfer" not in {s["name"] for s in steps},
        "contact": contact if contact is not None else _contact(request, case),
        "is_supervisor": is_supervisor(user),
        "workbench_section": "supervision" if is_supervisor(user) else "queue",
        "AppealState": AppealState,
        "person": rules.counterpart(case.kind),
    }
    return render(request, "rectification/case.html", context, status=status)


def _has_appeal(case) -> bool:
    try:
        return case.appeal is not None
    except ObjectDoesNotExist:
        return False


@workbench_view()
@require_GET
def case_detail(request, case_id: int):
    return _render(request, get_case(request.user, case_id))


@workbench_view()
@require_POST
def case_step(request, case_id: int, step: str):
    """One step on the case: the form parses, the service decides (and locks, and writes the transition)."""
    case = get_case(request.user, case_id)
    spec = STEPS.get(step)
    if spec is None:
        raise Http404(_("没有这个操作"))
    # Role first: a handler cannot confirm, a supervisor does not answer. Whether the state allows the step is the
    # service's to say (so the message is the rules' own).
    if not spec.shown(request.user, case) and not _role_may(spec, request.user, case):
        return render(request, "rectification/forbidden.html", {"step": _said(spec.title, case)}, status=403)
    form = _make_form(spec, case, request.POST, request.FILES)
    if not form.is_valid():
        return _render(request, case, bound=(spec.name, form), status=422)
    try:
        spec.call(case, form.cleaned_data, request.FILES, request.user)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404(exc.detail) from exc
        f.show_error(form, exc)
        # The case as it is now (a concurrent step may have moved it), with nothing of this request written.
        return _render(request, get_case(request.user, case_id), bound=(spec.name, form), status=exc.status)
    messages.success(request, _said(spec.done, case))
    if not visible_cases(request.user).filter(pk=case.pk).exists():
        return redirect("rectification:queue")  # transferred to a unit this user does not see: back to the queue
    return redirect("rectification:case", case_id=case.pk)


@workbench_view()
@require_POST
def contact(request, case_id: int):
    """查看联系方式: the evaluator's phone or name, once, in this response (never cached, never in a URL or a
    message cookie); services.reveal_contact writes the access-log row with the reason (accounts.privacy)."""
    case = get_case(request.user, case_id)
    fields = services.contact_fields(case, request.user)
    form = f.ContactForm(request.POST, fields=fields, prefix="contact")
    form.is_valid()  # the service decides; the form carries the values and the service's message back
    try:
        value = services.reveal_contact(case.pk, request.POST.get("contact-field", ""),
                                        request.POST.get("contact-reason", ""), actor=request.user,
                                        ip=get_client_ip_address(request))
    except DomainError as exc:
        if exc.status == 404:
            raise Http404(exc.detail) from exc
        if exc.status == 403:
            return render(request, "rectification/forbidden.html", {"step": _("查看联系方式")}, status=403)
        form.errors.clear()
        f.show_error(form, exc)
        box = {"form": form, "revealed": None, "action": request.path} if fields else None
        response = _render(request, case, status=exc.status, contact=box)
        add_never_cache_headers(response)
        return response
    label = dict(fields).get(request.POST.get("contact-field", ""), "")
    box = {"form": f.ContactForm(fields=fields, prefix="contact"), "action": request.path,
           "revealed": {"label": label, "value": value}}
    response = _render(request, case, contact=box)
    add_never_cache_headers(response)  # the clear value must not stay in a browser or proxy cache
    return response


# Which role may take each step at all (whatever the state): a handler's steps and a supervisor's.
SUPERVISOR_STEPS = {"confirm", "reject", "extension", "send_back", "note"}
SHARED_STEPS = {"assign", "close", "transfer"}


def _role_may(spec: Step, user, case) -> bool:
    if user.is_superuser:
        return True
    if spec.name in SHARED_STEPS:
        return is_handler(user) or is_supervisor(user)
    if spec.name in SUPERVISOR_STEPS:
        return is_supervisor(user)
    return is_handler(user)


@workbench_view()
@require_GET
def attachment(request, case_id: int, file_id: int):
    """An evidence file of a case the user can see, as a download (never a public URL, never shown inline)."""
    case = get_case(request.user, case_id, related=())
    item = CaseAttachment.objects.filter(case=case, pk=file_id).first()
    if item is None:
        raise Http404(_("没有这个附件"))
    try:
        return attachment_response(item)
    except FileNotFoundError as exc:
        raise Http404(_("附件文件已不存在")) from exc
