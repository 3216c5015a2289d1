"""The evaluator's receipt page (回执查询) and the follow-up (追加评价) made from it, plus the large-text toggle.

The receipt code is a bearer secret: it is only ever POSTed, never put in a URL (URLs end up in logs, browser
history and Referer headers). A successful lookup keeps the evaluation's id in the session and redirects to
``/r/view/``. Failed lookups are counted per client address; after :data:`FAILURE_LIMIT` failures in
:data:`FAILURE_WINDOW` seconds the address gets a 429 page until the window ends (a 12-character code has 60 bits,
so this only stops noisy guessing; it is not what makes codes unguessable).

Bad-review progress: the rectification app (a later issue) answers :data:`~haochaping.evaluation.signals.receipt_progress`;
until a receiver answers, a bad review shows the fixed first step "差评已转交办理单位核实处理".

Follow-up channel: a follow-up is made on this web page, whatever channel the original came through, so it is
recorded as an online evaluation — channel ``mobile`` when the browser says it is a phone (``Sec-CH-UA-Mobile: ?1``
or "Mobile" in the User-Agent), otherwise ``pc``. Source ``receipt:followup``.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from haochaping.accounts import ratelimit
from haochaping.core.client_ip import client_ip
from haochaping.core.problems import DomainError
from haochaping.org import policy

from .. import rules, services
from ..models import Channel, Evaluation, EvaluationType
from ..pages import RatingContext, rate
from ..progress import progress
from ..signals import receipt_log

SESSION_KEY = "receipt_evaluation_id"
FAILURE_LIMIT = 10
FAILURE_WINDOW = 10 * 60
LARGE_TEXT_COOKIE = "large_text"
LARGE_TEXT_MAX_AGE = 365 * 24 * 60 * 60


def _client_key(request) -> str:
    # The address is hashed: the cache holds a counter, not who visited.
    address = client_ip(request)
    return hashlib.sha256(f"receipt:{address}".encode()).hexdigest()[:32]


def _blocked_key(client: str) -> str:
    return f"receipt-blocked:{client}"


def _limited(request, retry_after: int):
    response = render(request, "evaluation/receipt_limited.html", {"retry_minutes": max(1, -(-retry_after // 60))}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def open_receipt(request, evaluation_id: int):
    """Let this session see the receipt of ``evaluation_id`` (its code was entered, or an answer link opened) and
    go there. A fresh session id first: the session now gives access to an evaluation."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = evaluation_id
    return redirect("receipt:view")


@require_http_methods(["GET", "POST"])
def lookup(request):
    """Enter the receipt code (POST only); on success remember the evaluation in the session."""
    if request.method != "POST":
        return render(request, "evaluation/receipt.html", {})
    client = _client_key(request)
    blocked_until = cache.get(_blocked_key(client))
    if blocked_until is not None and blocked_until > time.time():
        return _limited(request, math.ceil(blocked_until - time.time()))
    code = request.POST.get("code", "").strip().replace(" ", "").upper()
    error = ""
    status = 422
    if not code:
        error = _("请输入评价回执码")
    elif any(c in "01OI" for c in code):
        error = _("评价回执码中没有数字0、1和字母O、I，请对照回执核对后重试")
    elif len(code) != services.RECEIPT_LENGTH or any(c not in services.RECEIPT_ALPHABET for c in code):
        error = _("评价回执码应为%(n)d位字母和数字，请核对后重试") % {"n": services.RECEIPT_LENGTH}
    else:
        try:
            evaluation = services.find_by_receipt(code)
        except DomainError as exc:
            error, status = exc.detail, exc.status
        else:
            return open_receipt(request, evaluation.pk)
    if code:
        # Only codes count: an empty submit is a slip, not a guess.
        decision = ratelimit.hit(f"receipt:{client}", FAILURE_LIMIT, window=FAILURE_WINDOW)
        if not decision.allowed:
            cache.set(_blocked_key(client), time.time() + decision.retry_after, timeout=decision.retry_after)
            return _limited(request, decision.retry_after)
    # What was typed stays in the box to correct (a receipt code is no personal data).
    return render(request, "evaluation/receipt.html", {"error": error, "typed": code[:20]}, status=status)


def _session_evaluation(request) -> Evaluation | None:
    pk = request.session.get(SESSION_KEY)
    if pk is None:
        return None
    return services.evaluation_with_record(id=pk)


def followup_problem(evaluation: Evaluation) -> str:
    """Why no follow-up can be made from this receipt now, or "" when one can."""
    if evaluation.type != EvaluationType.ACTIVE:
        return _("追加评价不能再追加评价")
    if evaluation.channel == Channel.SYSTEM_DEFAULT:
        return _("导入的系统默认评价不能追加评价")
    if services.followup_taken(evaluation):
        return services._duplicate_message(EvaluationType.FOLLOWUP)
    return ""


def view(request):
    """The evaluation behind the receipt code entered in this session (no personal data)."""
    evaluation = _session_evaluation(request)
    if evaluation is None:
        return redirect("receipt:lookup")
    label_set = policy.label_set(evaluation.region_id)
    context = {
        "evaluation": evaluation,
        "level_text": rules.level_text(evaluation.level, label_set),
        "labels": list(evaluation.labels.all()),
        "progress": progress(evaluation),
        "followup_problem": followup_problem(evaluation),
        # The stage's follow-up, if made: whoever holds this receipt made it (from this page), and sees it here.
        "followup": Evaluation.objects.filter(
            record_id=evaluation.record_id, stage=evaluation.stage, type=EvaluationType.FOLLOWUP
        ).exclude(pk=evaluation.pk).order_by("created_at").first() if evaluation.type == EvaluationType.ACTIVE else None,
        "log": log_state(evaluation),
    }
    if context["followup"] is not None:
        context["followup_text"] = rules.level_text(context["followup"].level, label_set)
    return render(request, "evaluation/receipt_view.html", context)


def log_state(evaluation: Evaluation) -> dict | None:
    """Where the evaluation stands in the verifiable log (R8.1), from the first receiver of ``receipt_log`` that
    answers; None when no app keeps a log."""
    for _receiver, response in receipt_log.send(sender=Evaluation, evaluation=evaluation):
        if isinstance(response, dict):
            return response
    return None


def _online_channel(request) -> str:
    if request.headers.get("Sec-CH-UA-Mobile") == "?1" or "Mobile" in request.headers.get("User-Agent", ""):
        return Channel.MOBILE
    return Channel.PC


@require_http_methods(["GET", "POST"])
def followup(request):
    """追加评价 of the evaluation in this session: the shared rating flow with type ``followup``."""
    evaluation = _session_evaluation(request)
    if evaluation is None:
        return redirect("receipt:lookup")
    problem = followup_problem(evaluation)
    if problem and request.method != "POST":
        # A POST goes on to the service, whose refusal (409) the flow shows on the page.
        return render(request, "evaluation/receipt_followup_closed.html", {"evaluation": evaluation, "problem": problem},
                      status=409)
    ctx = RatingContext(
        record=evaluation.record,
        stage=evaluation.stage,
        channel=_online_channel(request),
        source="receipt:followup",
        evaluation_type=EvaluationType.FOLLOWUP,
        heading=_("追加评价"),
        template="evaluation/receipt_followup.html",
        extra_context={"original": evaluation},
    )
    return rate(request, ctx)


@require_POST
def text_size(request):
    """The header's 大字版/标准版 toggle (适老化, R8.3): a cookie read by core.context_processors.large_text."""
    large = request.POST.get("large") == "1"
    # Back to the page the toggle was pressed on (same-origin Referer); not a "next" field, so that pages do not
    # carry their own path in every response (two 404s for different ids must read the same).
    target = request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = reverse("catalog:home")
    response = HttpResponseRedirect(target)
    response.set_cookie(
        LARGE_TEXT_COOKIE, "1" if large else "0", max_age=LARGE_TEXT_MAX_AGE, samesite="Lax",
        secure=not settings.DEBUG and request.is_secure(), httponly=True,
    )
    return response
