"""The answering page, for anyone with a phone (works on a 320 px screen, no script): /s/t/<token>/ is the
personal link of an SMS invitation; /s/<key>/ is the open link of the web page and the QR code (``?c=qr``), where
the phone is checked by an SMS code first, so one phone answers once. A second answer is refused with a clear
message; invalid answers come back with every error next to its question and nothing stored."""

from __future__ import annotations

import time

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from haochaping.accounts import ratelimit
from haochaping.core import crypto
from haochaping.core.client_ip import client_ip
from haochaping.core.problems import DomainError

from . import services
from .models import Channel, Survey, SurveyResponse, SurveyStatus

TEMPLATE = "supervision/surveys/answer.html"
# Codes are text messages someone pays for and a phone receives: a few per phone, a few dozen per address.
CODES_PER_PHONE, PHONE_WINDOW = 3, 600
CODES_PER_ADDRESS, ADDRESS_WINDOW = 20, 3600


def _session_key(survey: Survey) -> str:
    return f"survey-{survey.pk}"


def _questions(survey: Survey, data=None, errors=None):
    out = []
    for n, q in enumerate(survey.questions.order_by("position"), start=1):
        name = f"q{q.pk}"
        chosen = set(data.getlist(name)) if data is not None else set()
        out.append({
            "n": n, "q": q, "name": name, "error": (errors or {}).get(name, ""),
            "options": [(str(i), o, str(i) in chosen) for i, o in enumerate(q.options)],
            "marks": [(str(m), str(m) in chosen) for m in range(1, q.scale_max + 1)],
            "text": data.get(name, "") if data is not None else "",
        })
    return out


def _page(request, survey, *, step, status=200, **extra):
    return render(request, TEMPLATE, {"survey": survey, "step": step, **extra}, status=status)


def _answer(request, survey, *, channel, invitation=None, phone=""):
    if request.method == "POST" and request.POST.get("action") == "answer":
        try:
            services.submit_response(survey, {k: request.POST.getlist(k) for k in request.POST}, channel=channel,
                                     invitation=invitation, phone=phone, name=request.POST.get("respondent_name", ""))
        except DomainError as exc:
            if exc.status == 409:
                return _page(request, survey, step="already", status=409, message=exc.detail)
            errors = exc.extra.get("errors") or {exc.field or "form": exc.detail}
            return _page(request, survey, step="answer", status=422, errors=errors,
                         questions=_questions(survey, request.POST, errors), name=request.POST.get("respondent_name", ""))
        request.session.pop(_session_key(survey), None)
        return _page(request, survey, step="thanks")
    return _page(request, survey, step="answer", questions=_questions(survey))


def _limit_codes(request, phone: str) -> None:
    """Refuse (429) a code for a phone or from an address that asked too often; counted before sending."""
    by_phone = ratelimit.hit(f"survey-code-phone:{crypto.blind_index(phone, kind='phone')}", CODES_PER_PHONE,
                             window=PHONE_WINDOW)
    by_address = ratelimit.hit(f"survey-code-ip:{client_ip(request)}", CODES_PER_ADDRESS, window=ADDRESS_WINDOW)
    if not (by_phone.allowed and by_address.allowed):
        raise DomainError(429, _("请求过于频繁"), _("获取验证码过于频繁，请稍后再试"), "phone", code="rate_limited")


def invited(request, token: str):
    invitation = services.invitation_for(token)
    if invitation is None:
        raise Http404(_("链接无效"))
    survey = invitation.survey
    if survey.status != SurveyStatus.LAUNCHED:
        return _page(request, survey, step="closed", status=410)
    if SurveyResponse.objects.filter(invitation=invitation).exists():
        return _page(request, survey, step="already", status=409,
                     message=_("您已经提交过这份问卷，每人只能作答一次，感谢您的参与"))
    return _answer(request, survey, channel=Channel.SMS, invitation=invitation)


def open_link(request, key: str):
    survey = services.open_survey(key)
    if survey is None or survey.status == SurveyStatus.DRAFT:
        raise Http404(_("链接无效"))
    if survey.status != SurveyStatus.LAUNCHED:
        return _page(request, survey, step="closed", status=410)
    channel = Channel.QR if request.GET.get("c") == "qr" else Channel.WEB
    state = request.session.get(_session_key(survey), {})
    phone = crypto.sm4_decrypt(bytes.fromhex(state["verified"])) if state.get("verified") else ""
    if phone:
        return _answer(request, survey, channel=channel, phone=phone)
    action = request.POST.get("action") if request.method == "POST" else ""
    if action == "code":
        entered = request.POST.get("phone", "")
        try:
            phone = services.normalise_phone(entered)
            _limit_codes(request, phone)
            digest = services.send_code(survey, phone)
        except DomainError as exc:
            status = exc.status if exc.status in (409, 429) else 422
            return _page(request, survey, step="phone", status=status, errors={"phone": exc.detail}, phone=entered)
        request.session[_session_key(survey)] = {"pending": crypto.sm4_encrypt(phone).hex(), "digest": digest,
                                                 "until": time.time() + services.CODE_TTL.total_seconds(), "tries": 0}
        return _page(request, survey, step="code", masked=phone[:3] + "****" + phone[-4:])
    if action == "verify" and state.get("pending"):
        pending = crypto.sm4_decrypt(bytes.fromhex(state["pending"]))
        masked = pending[:3] + "****" + pending[-4:]
        if time.time() > state.get("until", 0) or state.get("tries", 0) >= services.CODE_TRIES:
            request.session.pop(_session_key(survey), None)
            return _page(request, survey, step="phone", status=422,
                         errors={"phone": _("验证码已失效，请重新获取")})
        if not services.code_matches(survey, pending, request.POST.get("code", ""), state["digest"]):
            state["tries"] = state.get("tries", 0) + 1
            request.session[_session_key(survey)] = state
            return _page(request, survey, step="code", status=422, masked=masked,
                         errors={"code": _("验证码不正确，请核对短信中的6位数字")})
        request.session[_session_key(survey)] = {"verified": state["pending"]}
        return redirect(request.get_full_path())
    return _page(request, survey, step="phone")


