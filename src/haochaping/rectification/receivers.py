"""Answer the evaluation app's signals: a 差评 opens its case in the evaluation's own transaction, a retried submit
gets the same case id, and the receipt page shows the case's steps (DESIGN.md "Layout": signals go upward)."""

from __future__ import annotations

from django.dispatch import receiver
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haochaping.evaluation.models import Evaluation, EvaluationExclusion
from haochaping.evaluation.progress import FORWARDED_STEP
from haochaping.evaluation.signals import (
    evaluation_replayed,
    evaluation_written,
    evaluations_written,
    receipt_progress,
)
from haochaping.rectification import rules, services
from haochaping.rectification.models import CaseTransition, RectificationCase
from haochaping.rectification.rules import Outcome, Satisfaction, State
from haochaping.rectification.services.batch import open_cases_for_evaluations

IMPORT_SOURCE_PREFIX = "import:"
# Evaluations a lower node relays (exchange, source "node:…") have their cases at that node, which reports outcomes.
HANDLED_ELSEWHERE = (IMPORT_SOURCE_PREFIX, "node:")


@receiver(evaluation_written, sender=Evaluation, dispatch_uid="rectification.open_case")
def open_case(sender, evaluation, **kwargs):
    # History brought over from a former system (source "import:…") was handled there: opening cases for it
    # would put months of long-passed deadlines on today's workbench.
    if not evaluation.is_bad or evaluation.source.startswith(HANDLED_ELSEWHERE):
        return None
    # No try/except: a failure here must roll the evaluation back too (one transaction).
    return {"case_id": services.open_case_for_evaluation(evaluation).pk}


@receiver(evaluations_written, sender=Evaluation, dispatch_uid="rectification.open_cases")
def open_cases(sender, evaluations, **kwargs):
    # The 差评 (a few in a hundred) open their cases together: what open_case does for each, a few statements in all.
    rows = [row for row in evaluations if row.is_bad and not row.source.startswith(HANDLED_ELSEWHERE)]
    return {"case_ids": open_cases_for_evaluations(rows)}


@receiver(evaluation_replayed, sender=Evaluation, dispatch_uid="rectification.replayed_case")
def replayed_case(sender, evaluation, **kwargs):
    case_id = services.case_id_for_evaluation(evaluation)
    return {"case_id": case_id} if case_id is not None else None


_PLAIN_TITLES = {
    "assign": gettext_lazy("已指定承办人"),
    "callback": gettext_lazy("已回访核实"),
    "propose": gettext_lazy("办理单位已将核实结果提请政务服务管理机构确认"),
    "reject_proposal": gettext_lazy("政务服务管理机构已审核核实结果，办理单位继续办理"),
    "extension": gettext_lazy("政务服务管理机构已审批整改延期申请"),
    "progress": gettext_lazy("整改进展已更新"),
    "complete_ledger": gettext_lazy("整改已完成"),
    "answer": gettext_lazy("已答复评价人"),
    "supervise": gettext_lazy("政务服务管理机构已督办"),
    "escalate": gettext_lazy("办理超过期限，已报政务服务管理机构督办"),
    "send_back": gettext_lazy("政务服务管理机构要求重新办理"),
    "reopen": gettext_lazy("您对处理结果不满意，已转政务服务管理机构复核"),
    "close": gettext_lazy("案件已办结"),
    "appeal_submitted": gettext_lazy("被评价方已提出申诉，案件继续办理"),
    "appeal_review": gettext_lazy("政务服务管理机构正在审核申诉"),
    "appeal_upheld": gettext_lazy("申诉成立，案件已办结"),
    "appeal_rejected": gettext_lazy("申诉不成立，案件继续办理"),
}


def _day(day) -> str:
    # An evaluator reads dates as the receipt page prints its times: 2026年12月8日, not 2026-12-08.
    return dateformat.format(day, "Y年n月j日")


def _title(case: RectificationCase, step: CaseTransition) -> tuple[str, str]:
    """What the evaluator reads for one step: (title, detail). Notes stay internal: handlers' and supervisors'
    notes may name people, and a proposal or an appeal is the unit's view, not a decision."""
    if step.action == "open":
        # The same words the receipt page shows before any case exists, then who and by when.
        return (_(FORWARDED_STEP), _("责任单位：%(unit)s；回访核实期限：%(due)s") % {
            "unit": case.department.name, "due": _day(case.callback_due)})
    if step.action in ("outcome", "confirm"):
        outcome = step_outcome(case, step)
        title = _("处理结果：%(outcome)s") % {"outcome": Outcome(outcome).label} if outcome else _("已确定处理结果")
        detail = ""
        if outcome == Outcome.DEADLINE and case.outcome == Outcome.DEADLINE:
            ledger = getattr(case, "ledger", None)
            if ledger is not None:
                due = rules.ledger_due(case.rectify_due, ledger.deadline, ledger.extension_approved)
                detail = _("整改期限：%(due)s") % {"due": _day(due)}
        elif outcome in (Outcome.MISTAKEN, Outcome.MALICIOUS):
            detail = _("经政务服务管理机构确认")
        return title, detail
    if step.action == "satisfaction":
        return _("已收到您对处理结果的意见，案件已办结"), ""
    if step.action in _PLAIN_TITLES:
        return str(_PLAIN_TITLES[step.action]), ""
    return step.get_to_state_display(), ""


def step_outcome(case: RectificationCase, step: CaseTransition) -> str:
    """The outcome a step decided: the case's own unless the case was sent back and decided again since."""
    latest = [t.pk for t in case.transitions.all() if t.action in ("outcome", "confirm")]
    if latest and latest[-1] == step.pk:
        return case.outcome
    return ""


def _satisfaction_form(case: RectificationCase) -> dict | None:
    """Whether the receipt page offers 满意/不满意 now (the feedback view re-checks everything)."""
    if case.state != State.ANSWERED or case.satisfaction:
        return None
    if case.satisfaction_due is not None and timezone.localdate() > case.satisfaction_due:
        return None
    return {"url": reverse("feedback:answer"), "due": case.satisfaction_due,
            "choices": [(value, label) for value, label in Satisfaction.choices]}


@receiver(receipt_progress, sender=Evaluation, dispatch_uid="rectification.receipt_progress")
def progress(sender, evaluation, **kwargs):
    case = (
        RectificationCase.objects.select_related("department", "ledger")
        .prefetch_related("transitions")
        .filter(evaluation_id=evaluation.pk)
        .first()
    )
    if case is None:
        return None
    steps = []
    for step in case.transitions.all():
        title, detail = _title(case, step)
        steps.append({"title": title, "at": step.at, "detail": detail})
    # The answer is shown once given, and not while a sent-back case is being handled again.
    shown = case.answer if case.answered_at is not None else ""
    excluded = EvaluationExclusion.objects.filter(evaluation_id=evaluation.pk).exists()
    return {"steps": steps, "answer": shown, "excluded": excluded, "satisfaction": _satisfaction_form(case),
            "satisfaction_result": case.get_satisfaction_display() if case.satisfaction else ""}
