"""How a bad review is being handled, as the evaluator reads it: on the receipt page (views.receipt) and on the
thank-you page right after a 差评 (pages.rate). The rectification app answers
:data:`~haochaping.evaluation.signals.receipt_progress`; until a receiver answers, a bad review shows the fixed first
step :data:`FORWARDED_STEP`."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .models import Evaluation
from .signals import receipt_progress

FORWARDED_STEP = "差评已转交办理单位核实处理"  # shown through _() in progress()


def progress(evaluation: Evaluation) -> dict:
    """What the receipt page shows about the bad-review case: ``{"steps": [...], "answer": str, "excluded": bool,
    "satisfaction": dict | None, "satisfaction_result": str}``.

    Receivers of ``receipt_progress`` return ``None`` or a dict with any of ``steps`` (list of
    ``{"title": str, "at": datetime | None, "detail": str}``), ``answer`` (the reply to the evaluator) and
    ``excluded`` (True when the review no longer counts in statistics, e.g. an upheld appeal), ``satisfaction``
    (``{"url": ..., "due": date, "choices": [(value, label), ...]}`` when the evaluator may now say 满意/不满意
    about the answer, else None) and ``satisfaction_result`` (what they said, as text). The first receiver that
    returns steps wins; ``excluded`` is true if any receiver says so.
    """
    steps: list[dict] = []
    answer = ""
    excluded = False
    satisfaction = None
    satisfaction_result = ""
    for _receiver, response in receipt_progress.send(sender=Evaluation, evaluation=evaluation):
        if not isinstance(response, dict):
            continue
        excluded = excluded or bool(response.get("excluded"))
        if not steps and response.get("steps"):
            steps = list(response["steps"])
            answer = response.get("answer", "") or ""
            satisfaction = response.get("satisfaction") or None
            satisfaction_result = response.get("satisfaction_result", "") or ""
    if not steps and evaluation.is_bad:
        steps = [{"title": _(FORWARDED_STEP), "at": evaluation.created_at, "detail": ""}]
    return {"steps": steps, "answer": answer, "excluded": excluded, "satisfaction": satisfaction,
            "satisfaction_result": satisfaction_result}


def handling_note(evaluation: Evaluation) -> str:
    """What the thank-you page says right after a 差评 (every channel's, the kiosk's included): who handles it and by
    when, from the case opened in the same transaction; "" for a good evaluation."""
    if not evaluation.is_bad:
        return ""
    first = progress(evaluation)["steps"][0]
    detail = f"{first['detail']}。" if first["detail"] else ""
    return f"{first['title']}。{detail}" + _("办理单位会回访核实，整改或说明情况后答复您。")
