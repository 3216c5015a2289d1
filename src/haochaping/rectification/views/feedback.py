"""The evaluator's answer on how their bad review was handled (满意/不满意, R4.4), posted from the receipt page,
and the link in the answer SMS that opens that page (reply_links).

The evaluation is the one whose receipt code was entered in this session (evaluation.views.receipt keeps its id
under ``SESSION_KEY``); nothing in the form names it, so nobody can answer for someone else's review. The page
works without JavaScript: a plain POST, then back to the receipt page with a message.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from haochaping.core.problems import DomainError
from haochaping.evaluation.views.receipt import SESSION_KEY, open_receipt
from haochaping.rectification import reply_links, services
from haochaping.rectification.rules import Satisfaction, State


@require_POST
def answer(request):
    """Record 满意/不满意 for the answered case of the evaluation in this session."""
    evaluation_id = request.session.get(SESSION_KEY)
    if evaluation_id is None:
        return redirect("receipt:lookup")
    try:
        case = services.record_satisfaction(evaluation_id, request.POST.get("satisfaction", ""))
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        if case.state == State.REOPENED:
            messages.success(request, _("已收到您的意见。案件已转政务服务管理机构复核，复核结果将在本页显示。"))
        elif case.satisfaction == Satisfaction.SATISFIED:
            messages.success(request, _("感谢您的确认，案件已办结。"))
        else:
            messages.success(request, _("已收到您的意见并记录在案，案件已办结。"))
    return redirect("receipt:view")


@never_cache
@require_GET
def reply_link(request, token: str):
    """The link in the answer SMS: the receipt page of the evaluation, as if its receipt code had been entered."""
    opened = reply_links.open_link(token)
    if opened.evaluation_id is None:
        # Unknown, forged and expired links say nothing about any evaluation.
        status = 410 if opened.expired else 404
        return render(request, "rectification/reply_link_invalid.html", {"expired": opened.expired}, status=status)
    return open_receipt(request, opened.evaluation_id)
