"""The QR code at every window (R3.1): the printable sign, and the mobile page its code opens.

The page asks for the 办件编号 and the verification code printed on the applicant's receipt (a POST, so neither
lands in a URL or an access log), then hands over to the shared rating flow (pages.rate). Wrong combinations get
one message that does not tell which part was wrong, and failures are rate-limited per address and per 办件.
A signed 办件 link (/q/r/<token>/) skips the code.
"""

from __future__ import annotations

import logging
import time

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from haochaping.accounts.login import client_address
from haochaping.core import crypto
from haochaping.core.scoping import scope
from haochaping.org.models import Window
from haochaping.records import verification as record_verification
from haochaping.records.models import RecordStatus, ServiceRecord, Stage

from .. import pages, printing, verification
from ..models import Channel, Evaluation, EvaluationType

log = logging.getLogger(__name__)

# Guessing one 办件's code is stopped after a few tries from anywhere. An address gets more: a hall's Wi-Fi or a
# carrier's NAT puts many visitors behind one address, and one visitor's typing mistakes must not lock out the rest.
MAX_FAILURES_PER_RECORD = 5
MAX_FAILURES_PER_ADDRESS = 30
FAILURE_WINDOW_SECONDS = 15 * 60
SESSION_KEY = "hcp_qr_record"
# How long a verified 办件 stays open in the visitor's session (the session itself ends sooner when idle).
SESSION_SECONDS = 30 * 60


# --- the sign ------------------------------------------------------------------------------------------------


def _sign_window(request, window_id: int) -> Window:
    if not request.user.has_perm("org.view_window"):
        raise PermissionDenied
    window = scope(Window.objects.select_related("agency"), request.user).filter(pk=window_id).first()
    if window is None:
        raise Http404(_("窗口不存在"))
    return window


def _sign(request, window: Window) -> printing.Sign:
    url = request.build_absolute_uri(reverse("qr:window", args=[verification.window_token(window.pk)]))
    return printing.Sign(window_name=window.name, agency_name=window.agency.name, url=url)


@login_required
@require_GET
def sign_svg(request, window_id: int):
    """The window's QR sign as SVG (staff who may view the window; out of scope is 404)."""
    window = _sign_window(request, window_id)
    response = HttpResponse(printing.sign_svg(_sign(request, window)), content_type="image/svg+xml; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="window-{window.pk}-qr.svg"'
    return response


@login_required
@require_GET
def sign_pdf(request, window_id: int):
    """The window's QR sign as a printable A4 PDF."""
    window = _sign_window(request, window_id)
    response = HttpResponse(printing.sign_pdf(_sign(request, window)), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="window-{window.pk}-qr.pdf"'
    return response


# --- the evaluator's page ------------------------------------------------------------------------------------


def _window_from_token(token: str) -> Window | None:
    window_id = verification.read_window_token(token)
    return Window.objects.select_related("agency").filter(pk=window_id, is_active=True).first() if window_id else None


def _invalid(request, message: str):
    return render(request, "evaluation/qr_invalid.html", {"message": message}, status=404)


def _bad_window_token(request):
    return _invalid(request, _("二维码无效或窗口已停用，请扫描窗口张贴的最新二维码，或向大厅工作人员咨询"))


def _stage(record: ServiceRecord) -> str:
    return Stage.COMPLETE if record.status == RecordStatus.COMPLETED else Stage.ACCEPT


def _failure_keys(address: str, project_no: str) -> dict[str, int]:
    # Keyed digests: the cache (possibly a shared Redis) holds no 办件编号 or address in clear. Key → its limit.
    return {
        f"qr-fail:addr:{crypto.blind_index(address, kind='qr-address')[:32]}": MAX_FAILURES_PER_ADDRESS,
        f"qr-fail:rec:{crypto.blind_index(project_no, kind='qr-record')[:32]}": MAX_FAILURES_PER_RECORD,
    }


def _blocked(keys: dict[str, int]) -> bool:
    return any((cache.get(k) or 0) >= limit for k, limit in keys.items())


def _count_failure(keys: dict[str, int]) -> None:
    for key in keys:
        # A fixed window from the first failure; add() starts it, incr() counts within it.
        if not cache.add(key, 1, timeout=FAILURE_WINDOW_SECONDS):
            try:
                cache.incr(key)
            except ValueError:
                cache.add(key, 1, timeout=FAILURE_WINDOW_SECONDS)


def _too_many(request, window):
    response = render(request, "evaluation/qr_blocked.html", {"window": window, "minutes": FAILURE_WINDOW_SECONDS // 60},
                      status=429)
    response["Retry-After"] = str(FAILURE_WINDOW_SECONDS)
    return response


def _already_rated(record: ServiceRecord, stage: str) -> bool:
    return Evaluation.objects.filter(record=record, stage=stage, type=EvaluationType.ACTIVE).exists()


@require_http_methods(["GET", "POST"])
def window_page(request, token: str):
    """Step 1 at a window's QR code: identify the 办件 with its number and verification code."""
    window = _window_from_token(token)
    if window is None:
        return _bad_window_token(request)
    context = {"window": window, "token": token}
    if request.method != "POST":
        return render(request, "evaluation/qr_identify.html", context)
    project_no = request.POST.get("project_no", "").strip().upper()
    code = request.POST.get("code", "")
    context["project_no"] = project_no
    errors = {}
    if not project_no:
        errors["project_no"] = _("请填写办件编号")
    if not record_verification.normalise_code(code):
        errors["code"] = _("请填写验证码")
    if errors:
        return render(request, "evaluation/qr_identify.html", {**context, "errors": errors}, status=422)
    address = client_address(request)
    keys = _failure_keys(address, project_no)
    if _blocked(keys):
        log.warning("qr verification blocked: window_id=%s (too many failures)", window.pk)
        return _too_many(request, window)
    record = ServiceRecord.objects.by_number(project_no).filter(window=window).first()
    if record is None or not record_verification.code_matches(record.project_no, code):
        _count_failure(keys)
        # Never the number or the code in the log: the window and the count are enough to spot guessing.
        log.warning("qr verification failed: window_id=%s", window.pk)
        if _blocked(keys):
            return _too_many(request, window)
        errors["form"] = _("办件编号或验证码不正确，请核对办件回执后重新输入")
        return render(request, "evaluation/qr_identify.html", {**context, "errors": errors}, status=422)
    request.session[SESSION_KEY] = {"w": window.pk, "p": record.project_no, "t": int(time.time())}
    return redirect("qr:window_rate", token=token)


def _rating_context(request, record: ServiceRecord, *, hidden=None, after_submit=None) -> pages.RatingContext:
    return pages.RatingContext(
        record=record,
        stage=_stage(record),
        channel=Channel.QR,
        source="qr",
        hidden=hidden or {},
        heading=_("请您对本次服务作出评价"),
        after_submit=after_submit,
    )


def _rated_page(request, record: ServiceRecord, stage: str, window):
    # Whoever got here proved the 办件 (its number and verification code, or a signed link): the receipt code is
    # shown again, for the evaluator who reloaded the thank-you page or lost the code.
    receipt_code = Evaluation.objects.filter(record=record, stage=stage, type=EvaluationType.ACTIVE).values_list(
        "receipt_code", flat=True).first()
    return render(request, "evaluation/qr_done.html", {"record": record, "window": window, "receipt_code": receipt_code,
                                                       "stage_name": Stage(stage).label}, status=409)


def _rated_from_form(request, window):
    """A form sent again after its evaluation was made (the Back button, then 提交 once more): the verification
    is used up, but the form's own signed token names the 办件, so the page says it is rated and shows the receipt
    code instead of starting over at the code step as if nothing had been saved."""
    subject = pages.form_subject(request.POST.get("form_token", "")) if request.method == "POST" else None
    if subject is None:
        return None
    project_no, stage = subject
    record = ServiceRecord.objects.by_number(project_no).filter(window=window).first()
    if record is None or stage != _stage(record) or not _already_rated(record, stage):
        return None
    return _rated_page(request, record, stage, window)


@require_http_methods(["GET", "POST"])
def window_rate(request, token: str):
    """Step 2 at a window's QR code: the shared rating flow for the 办件 verified in step 1."""
    window = _window_from_token(token)
    if window is None:
        return _bad_window_token(request)
    held = request.session.get(SESSION_KEY) or {}
    fresh = held.get("w") == window.pk and time.time() - held.get("t", 0) < SESSION_SECONDS
    record = ServiceRecord.objects.select_related("item", "staff", "window").by_number(held.get("p")).filter(
        window=window
    ).first() if fresh else None
    if record is None:
        done = _rated_from_form(request, window)
        return done if done is not None else redirect("qr:window", token=token)
    stage = _stage(record)
    if request.method != "POST" and _already_rated(record, stage):
        return _rated_page(request, record, stage, window)

    def forget(result):
        # One verification, one evaluation: the next 办件 at this phone starts from the code again.
        request.session.pop(SESSION_KEY, None)

    return pages.rate(request, _rating_context(request, record, after_submit=forget))


@require_http_methods(["GET", "POST"])
def record_link(request, token: str):
    """A signed 办件 link: rate that 办件 directly, no code needed (the signature is the proof)."""
    project_no = verification.read_record_token(token)
    record = (
        ServiceRecord.objects.select_related("item", "staff", "window").by_number(project_no).first()
        if project_no else None
    )
    if record is None:
        return _invalid(request, _("评价链接无效，请核对链接，或扫描窗口二维码输入办件编号和验证码评价"))
    stage = _stage(record)
    if request.method != "POST" and _already_rated(record, stage):
        return _rated_page(request, record, stage, record.window)
    return pages.rate(request, _rating_context(request, record))
