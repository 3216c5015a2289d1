"""Answer the evaluation app's signals: a 差评 opens its case in the evaluation's own transaction, a retried submit
gets the same case id, and the receipt page shows the case's steps (DESIGN.md "Layout": signals go upward)."""

from __future__ import annotations

from django.dispatch import receiver
from django.utils.translation import gettext as _

from haochaping.evaluation.models import Evaluation
from haochaping.evaluation.signals import evaluation_replayed, evaluation_written, receipt_progress
from haochaping.evaluation.views_receipt import FORWARDED_STEP

from . import services
from .models import CaseTransition, RectificationCase
from .rules import Outcome


@receiver(evaluation_written, sender=Evaluation, dispatch_uid="rectification.open_case")
def open_case(sender, evaluation, **kwargs):
    if not evaluation.is_bad:
        return None
    # No try/except: a failure here must roll the evaluation back too (one transaction).
    return {"case_id": services.open_case_for_evaluation(evaluation).pk}


@receiver(evaluation_replayed, sender=Evaluation, dispatch_uid="rectification.replayed_case")
def replayed_case(sender, evaluation, **kwargs):
    case_id = services.case_id_for_evaluation(evaluation)
    return {"case_id": case_id} if case_id is not None else None


def _title(case: RectificationCase, step: CaseTransition) -> tuple[str, str]:
    """What the evaluator reads for one step: (title, detail). Handlers' notes stay internal: they may name people."""
    if step.action == "open":
        # The same words the receipt page shows before any case exists, then who and by when.
        return (_(FORWARDED_STEP), _("责任单位：%(unit)s；回访核实期限：%(due)s") % {
            "unit": case.department.name, "due": case.callback_due.isoformat()})
    if step.action == "assign":
        return _("已指定承办人"), ""
    if step.action == "callback":
        return _("已回访核实"), ""
    if step.action == "outcome":
        title = _("处理结果：%(outcome)s") % {"outcome": Outcome(case.outcome).label} if case.outcome else _("已确定处理结果")
        ledger = getattr(case, "ledger", None) if case.outcome == Outcome.DEADLINE else None
        detail = _("整改期限：%(due)s") % {"due": ledger.deadline.isoformat()} if ledger is not None else ""
        return title, detail
    if step.action == "progress":
        return _("整改进展已更新"), ""
    if step.action == "complete_ledger":
        return _("整改已完成"), ""
    if step.action == "answer":
        return _("已答复评价人"), ""
    if step.action == "close":
        return _("案件已办结"), ""
    return step.get_to_state_display(), ""


@receiver(receipt_progress, sender=Evaluation, dispatch_uid="rectification.receipt_progress")
def progress(sender, evaluation, **kwargs):
    case = (
        RectificationCase.objects.select_related("department", "ledger")
        .filter(evaluation_id=evaluation.pk)
        .first()
    )
    if case is None:
        return None
    steps = []
    for step in case.transitions.all():
        title, detail = _title(case, step)
        steps.append({"title": title, "at": step.at, "detail": detail})
    return {"steps": steps, "answer": case.answer}
