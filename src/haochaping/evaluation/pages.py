"""The evaluator's rating flow, shared by every channel's page (kiosk, QR, SMS link, online 一事一评, hotline, paper).

Works without JavaScript, on an old phone or a kiosk: step 1 shows five large level buttons; a good level submits
at once; a bad level (差评, R3.4) shows that level's labels and a comment box, then submits. Each rendered form carries
a signed idempotency key, so a double tap or a resubmitted page never writes a second evaluation.

A channel's view resolves the 办件 and stage however that channel does it, then calls :func:`rate`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from django.core import signing
from django.shortcuts import render

from haochaping.core.problems import DomainError
from haochaping.org import policy

from . import fingerprint, rules, services
from .models import Label
from .progress import handling_note

FORM_SALT = "haochaping.evaluation.form"
FORM_MAX_AGE = 2 * 60 * 60  # a form left open over lunch still submits; older ones start again


@dataclass
class RatingContext:
    """What the flow needs from the channel's view."""

    record: object  # records.ServiceRecord
    stage: str
    channel: str
    source: str
    evaluation_type: str = "active"
    # Extra hidden fields the channel's form must carry back (e.g. a signed link token), name → value.
    hidden: dict = field(default_factory=dict)
    # Template blocks: what the page says above the buttons.
    heading: str = "请您对本次服务作出评价"
    template: str = "evaluation/rate.html"
    extra_context: dict = field(default_factory=dict)
    ask_questionnaire: bool = False
    evaluator_name: str = ""
    evaluator_phone: str = ""
    kiosk: object | None = None
    # An operator records what a caller says (12345): the steps speak of 来电人, not to the reader as 您.
    for_caller: bool = False
    after_submit: object | None = None  # callable(result) -> HttpResponse | None


def level_choices(region_code: str) -> list[dict]:
    label_set = policy.label_set(region_code)
    return [
        {"level": n, "text": rules.level_text(n, label_set), "is_bad": rules.is_bad(n)} for n in reversed(rules.LEVELS)
    ]


def new_form_token(ctx: RatingContext) -> str:
    payload = {"k": secrets.token_urlsafe(16), "p": ctx.record.project_no, "s": ctx.stage, "t": ctx.evaluation_type}
    return signing.dumps(payload, salt=FORM_SALT)


def form_subject(token: str) -> tuple[str, str] | None:
    """(办件编号, stage) of a rating form's token still valid, or None: which 办件 a form was for, whatever became of
    the visitor's session (a form sent again after its evaluation)."""
    try:
        payload = signing.loads(token, salt=FORM_SALT, max_age=FORM_MAX_AGE)
    except signing.BadSignature:
        return None
    return payload.get("p"), payload.get("s")


def read_form_token(token: str, ctx: RatingContext) -> str:
    """The idempotency key inside a form token, after checking it belongs to this 办件 and stage."""
    try:
        payload = signing.loads(token, salt=FORM_SALT, max_age=FORM_MAX_AGE)
    except signing.SignatureExpired:
        raise DomainError(400, "页面已过期", "页面停留时间过长，请重新评价", "form_token", code="expired") from None
    except signing.BadSignature:
        raise DomainError(400, "请求无效", "评价表单无效，请刷新页面后重新评价", "form_token", code="invalid") from None
    if (payload.get("p"), payload.get("s"), payload.get("t")) != (ctx.record.project_no, ctx.stage, ctx.evaluation_type):
        raise DomainError(400, "请求无效", "评价表单与办件不符，请刷新页面后重新评价", "form_token", code="invalid")
    return f"form-{payload['k']}"


def rate(request, ctx: RatingContext):
    """Render or process the rating flow for one 办件 stage."""
    base = {
        "record": ctx.record,
        "item": ctx.record.item,
        "staff": ctx.record.staff,
        "window": ctx.record.window,
        "ctx": ctx,
        "hidden": ctx.hidden,
        "heading": ctx.heading,
        "levels": level_choices(ctx.record.region_id),
        "questions": rules.QUESTIONNAIRE if ctx.ask_questionnaire else {},
        **ctx.extra_context,
    }
    # The flow starts with the level step: on a GET, or on a channel's own POST that leads into it (e.g. the
    # hotline's consent form), which carries no form token yet.
    if request.method != "POST" or "form_token" not in request.POST:
        # A stage whose period has ended (or not begun) says so before anyone picks a level and writes a comment.
        closed = services.rating_closed(ctx.record, ctx.stage) if ctx.evaluation_type == "active" else None
        if closed:
            return render(request, ctx.template, {**base, "step": "closed", "errors": {"form": closed}}, status=409)
        return render(request, ctx.template, {**base, "step": "level", "form_token": new_form_token(ctx)})

    form_token = request.POST.get("form_token", "")
    errors: dict[str, str] = {}
    try:
        idempotency_key = read_form_token(form_token, ctx)
    except DomainError as exc:
        return render(request, ctx.template, {**base, "step": "level", "form_token": new_form_token(ctx),
                                              "errors": {"form": exc.detail}}, status=exc.status)
    if "change_level" in request.POST:
        # Back to the levels with the same form token: whatever is chosen next is still this one evaluation.
        return render(request, ctx.template, {**base, "step": "level", "form_token": form_token})
    try:
        level = int(request.POST.get("level", ""))
    except ValueError:
        level = 0
    if level not in rules.LEVELS:
        errors["level"] = "请选择一个评价等级"
        return render(request, ctx.template, {**base, "step": "level", "form_token": form_token, "errors": errors},
                      status=422)
    labels = request.POST.getlist("labels")
    comment = request.POST.get("comment", "").strip()
    questionnaire = _questionnaire(request.POST) if ctx.ask_questionnaire else {}
    step_context = {
        **base, "level": level, "level_text": rules.level_text(level, policy.label_set(ctx.record.region_id)),
        "is_bad": rules.is_bad(level), "labels": Label.objects.filter(level=level, is_active=True),
        "chosen_labels": labels, "comment": comment, "form_token": form_token, "answers": questionnaire,
    }
    # A bad level first shows its reasons; the second POST (with "confirm") submits. So does a follow-up of any
    # level: it is there to add what the first evaluation did not say, and only one is allowed.
    needs_details = rules.is_bad(level) or ctx.ask_questionnaire or ctx.evaluation_type == "followup"
    if needs_details and "confirm" not in request.POST:
        return render(request, ctx.template, {**step_context, "step": "details"})
    data = services.EvaluationInput(
        idempotency_key=idempotency_key,
        project_no=ctx.record.project_no,
        stage=ctx.stage,
        channel=ctx.channel,
        level=level,
        type=ctx.evaluation_type,
        labels=labels,
        comment=comment,
        questionnaire=questionnaire,
        evaluator_name=ctx.evaluator_name,
        evaluator_phone=ctx.evaluator_phone,
    )
    try:
        result = services.submit_evaluation(
            data, source=ctx.source, actor=getattr(request, "user", None), kiosk=ctx.kiosk,
            # A 评价器 is a device bound to its window on the hall's network: its address and cookie say nothing
            # about who rated, and would look like the staff's own (supervision.fraud).
            client=None if ctx.kiosk else fingerprint.of_request(request),
        )
    except DomainError as exc:
        step = "details" if exc.field in ("labels", "comment") or (exc.field or "").startswith("questionnaire") else "level"
        # The page shows errors beside labels, comment and level; anything else (a second evaluation, a closed
        # period) is a message about the whole form.
        shown = exc.field if exc.field in ("labels", "comment", "level") else "form"
        if exc.field == "stage":  # the period ended while the page was open: no level buttons to try again with
            step = "closed"
        return render(request, ctx.template, {**step_context, "step": step,
                                              "errors": {shown: exc.detail}}, status=exc.status)
    if ctx.after_submit is not None:
        response = ctx.after_submit(result)
        if response is not None:
            return response
    # A 差评's evaluator learns at once who handles it and by when (the case was opened in the same transaction).
    handling = handling_note(result.evaluation)
    return render(request, ctx.template, {**step_context, "step": "thanks", "result": result,
                                          "evaluation": result.evaluation, "handling": handling})


def _questionnaire(post) -> dict:
    answers: dict = {}
    for key in rules.QUESTIONNAIRE:
        value = post.get(f"q_{key}", "")
        if key == "suggestions":
            if value.strip():
                answers[key] = value.strip()
        elif value in ("yes", "no"):
            answers[key] = value == "yes"
    return answers
