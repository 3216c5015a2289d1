"""The window evaluator page (评价器, R3.1): a full-screen tablet page bound to one registered device.

Activation: the tablet is activated once by typing its device secret. The secret is then kept in a signed cookie
that is HttpOnly (page scripts, and so the offline queue, never see it), SameSite=Strict, Secure in production and
long-lived. It is never put in a URL or in localStorage. The cookie holds the secret itself, not a device id:
every request authenticates it again (``kiosk.authenticate_kiosk``), so deactivating a lost tablet takes effect
at its next request. Anyone holding the cookie holds the device, exactly as anyone holding the secret did.

The rating flow is ``pages.rate`` (no JavaScript needed). ``static/haochaping/kiosk.js`` enhances it: it polls
``state`` for a new 办件, submits through ``submit`` (JSON) and, when the network is down, queues the evaluation
in localStorage and delivers it later; the idempotency key inside the signed form token makes every retry a
replay, so each evaluation is stored exactly once.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from haochaping.accounts import ratelimit
from haochaping.core.client_ip import client_ip
from haochaping.core.problems import DomainError
from haochaping.org import policy
from haochaping.records.models import ServiceRecord

from .. import kiosk, pages, rules, services
from ..models import Channel, Label
from ..progress import handling_note

COOKIE = "hcp_kiosk"
COOKIE_SALT = "haochaping.kiosk.device"
COOKIE_MAX_AGE = 365 * 24 * 60 * 60  # a tablet is activated once, by the hall's administrator
# A queued evaluation may wait for the network this long; the period rules (services) still apply on arrival.
QUEUED_MAX_AGE = 3 * 24 * 60 * 60
ACTIVATION_FAILURES_PER_MINUTE = 10
BASE = "evaluation/kiosk_base.html"


def _device(request):
    """(device or None, whether the request carried a device cookie at all)."""
    secret = request.get_signed_cookie(COOKIE, default=None, salt=COOKIE_SALT)
    if not secret:
        return None, COOKIE in request.COOKIES
    return kiosk.authenticate_kiosk(secret), True


def _reset_seconds() -> int:
    return int(getattr(settings, "HAOCHAPING_KIOSK_RESET_SECONDS", 10))


def _state_key(session) -> str:
    # Opaque to the page; changes whenever the business system pushes or clears a 办件.
    if session is None:
        return ""
    return f"{session.record_id}:{session.stage}:{session.set_at.timestamp() if session.set_at else ''}"


def _common(device, session=None) -> dict:
    return {
        "evaluator_base": BASE,
        "device": device,
        "kiosk_window": device.window,
        "kiosk_state_key": _state_key(session),
        "kiosk_reset_seconds": _reset_seconds(),
    }


def _activation_page(request, error: str = "", status: int = 200, *, forget: bool = False):
    response = render(request, "evaluation/kiosk_activate.html",
                      {"evaluator_base": BASE, "errors": {"secret": error} if error else {}}, status=status)
    if forget:
        response.delete_cookie(COOKIE, samesite="Strict")
    return response


def _refused_device(request, had_cookie: bool):
    if had_cookie:
        return _activation_page(request, "本评价器已停用或设备密钥已失效，请联系大厅管理员重新激活", 403, forget=True)
    return _activation_page(request)


def _token_payload(token: str, max_age: int) -> dict | None:
    try:
        payload = signing.loads(token, salt=pages.FORM_SALT, max_age=max_age)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    return payload if isinstance(payload, dict) and {"k", "p", "s", "t"} <= payload.keys() else None


def _bad_levels(region_code: str) -> list[dict]:
    # The labels of each bad level, so kiosk.js can show the reasons step without a round trip (offline too).
    return [
        {"level": c["level"], "text": c["text"], "labels": Label.objects.filter(level=c["level"], is_active=True)}
        for c in pages.level_choices(region_code) if c["is_bad"]
    ]


def _rate_limit(device) -> None:
    ratelimit.enforce(f"kiosk:{device.prefix}", 60, who="该评价器", field="device")


@never_cache
@require_http_methods(["GET", "POST"])
def page(request):
    """The device's page: activation, the waiting screen, or the rating flow for the current 办件."""
    device, had_cookie = _device(request)
    if device is None:
        return _refused_device(request, had_cookie)
    session = kiosk.current(device)
    record, stage = (session.record, session.stage) if session else (None, "")
    if request.method == "POST":
        try:
            _rate_limit(device)
        except DomainError as exc:
            return render(request, "evaluation/kiosk_waiting.html",
                          {**_common(device, session), "error": exc.detail}, status=exc.status)
        # The form names its 办件 in the signed token: a citizen who rated while the next 办件 was being pushed
        # still rates the one they saw. services refuses any 办件 of another window.
        payload = _token_payload(request.POST.get("form_token", ""), pages.FORM_MAX_AGE)
        if payload is not None:
            found = ServiceRecord.objects.select_related("item", "window", "staff").by_number(payload["p"]).first()
            if found is not None and found.window_id != device.window_id:
                # Refused before anything of that 办件 (its item, staff name and 工号) reaches this tablet.
                return render(request, "evaluation/kiosk_waiting.html",
                              {**_common(device, session), "error": "该办件不属于本窗口，评价器不能评价"}, status=403)
            if found is not None:
                record, stage = found, payload["s"]
    if record is None:
        return render(request, "evaluation/kiosk_waiting.html", _common(device, session))

    def after_submit(result):
        kiosk.clear_current(device, record=result.evaluation.record, stage=stage)

    ctx = pages.RatingContext(
        record=record, stage=stage, channel=Channel.KIOSK, source=f"kiosk:{device.prefix}", kiosk=device,
        template="evaluation/kiosk_rate.html", after_submit=after_submit,
        extra_context={**_common(device, session), "kiosk_bad_levels": _bad_levels(record.region_id)},
    )
    return pages.rate(request, ctx)


@never_cache
@require_POST
def activate(request):
    """Activate this tablet with the device secret shown when the device was registered."""
    # Only wrong secrets count, keyed by a digest of the address: enough to stop guessing, no address stored.
    who = hashlib.sha256(client_ip(request).encode()).hexdigest()[:12]
    blocked_key = f"kiosk-activate-blocked:{who}"
    if cache.get(blocked_key):
        return _activation_page(request, "尝试次数过多，请1分钟后再试", 429)
    secret = request.POST.get("secret", "").strip()
    if not secret:
        return _activation_page(request, "请输入设备密钥", 422)
    device = kiosk.authenticate_kiosk(secret)
    if device is None:
        decision = ratelimit.hit(f"kiosk-activate:{who}", ACTIVATION_FAILURES_PER_MINUTE)
        if not decision.allowed:
            cache.set(blocked_key, True, timeout=decision.retry_after)
        return _activation_page(request, "设备密钥不正确，或该评价器已停用", 403)
    response = redirect("kiosk:page")
    response.set_signed_cookie(
        COOKIE, secret, salt=COOKIE_SALT, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Strict",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


def _problem(status: int, title: str, detail: str, field: str | None = None, headers=None) -> JsonResponse:
    body = {"title": title, "status": status, "detail": detail}
    if field:
        body["field"] = field
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False},
                            content_type="application/problem+json")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


@never_cache
@require_GET
def state(request):
    """What the device shows now, as an opaque key kiosk.js compares with its page's."""
    device, _had_cookie = _device(request)
    if device is None:
        return _problem(403, "禁止操作", "评价器未激活或已停用", "device")
    return JsonResponse({"key": _state_key(kiosk.current(device))})


@never_cache
@require_POST
def submit(request):
    """kiosk.js's submit (also its offline queue's retries): the fields of the rating form, answered in JSON.

    201 with the receipt code when stored, 200 when the same form was already stored (a retry), problem details
    otherwise. The 办件, stage and idempotency key come from the signed form token, never from the client."""
    device, _had_cookie = _device(request)
    if device is None:
        return _problem(403, "禁止操作", "评价器未激活或已停用", "device")
    payload = _token_payload(request.POST.get("form_token", ""), QUEUED_MAX_AGE)
    if payload is None:
        return _problem(400, "请求无效", "评价表单无效或已过期，请重新评价", "form_token")
    try:
        level = int(request.POST.get("level", ""))
    except ValueError:
        level = 0
    if level not in rules.LEVELS:
        return _problem(422, "请求内容有误", "请选择一个评价等级", "level")
    data = services.EvaluationInput(
        # The same key as pages.read_form_token: the no-script POST and this one are retries of each other.
        idempotency_key=f"form-{payload['k']}",
        project_no=payload["p"],
        stage=payload["s"],
        channel=Channel.KIOSK,
        level=level,
        type=payload["t"],
        labels=request.POST.getlist("labels"),
        comment=request.POST.get("comment", "").strip(),
    )
    user = getattr(request, "user", None)
    try:
        _rate_limit(device)
        result = services.submit_evaluation(
            data, source=f"kiosk:{device.prefix}", kiosk=device,
            actor=user if user is not None and user.is_authenticated else None,
        )
    except DomainError as exc:
        return _problem(exc.status, exc.title, exc.detail, exc.field, exc.headers)
    ev = result.evaluation
    kiosk.clear_current(device, record=ev.record, stage=data.stage)
    return JsonResponse(
        {
            "receipt_code": ev.receipt_code,
            "level_text": rules.level_text(ev.level, policy.label_set(ev.region_id)),
            "is_bad": ev.is_bad,
            "handling": handling_note(ev),
            "replayed": result.replayed,
        },
        status=200 if result.replayed else 201,
        json_dumps_params={"ensure_ascii": False},
    )
