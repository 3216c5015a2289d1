"""Login pages: password → TOTP (or enrolment) → new password when required → signed in. See accounts.login."""

from __future__ import annotations

from urllib.parse import urlencode

from axes.helpers import get_lockout_response
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from . import login as flow
from .forms import LoginForm, NewPasswordForm, OtpForm
from .roles import Role

STEP_URLS = {"otp": "accounts:login_otp", "enrol": "accounts:login_enrol", "password": "accounts:login_password"}


def _safe_next(request, url: str) -> str:
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return ""


# Where each role starts (README "Demo accounts"): people who handle and supervise cases at the workbench
# (rectification's /work/, which sends each role on to its own page: handlers their queue, supervisors the
# supervision list, window staff their own results); 12345 operators at the hotline page; third-party assessors at
# their commissions (supervision.assessments); administrators and superusers at the admin.
WORKBENCH_URL = "/work/"
HOTLINE_URL = "/hotline/"
ASSESSOR_URL = "/work/assessments/"
WORKBENCH_ROLES = {Role.STAFF, Role.HANDLER, Role.SUPERVISOR}


def landing_url(user) -> str:
    """The page ``user`` lands on after signing in, when they were not on their way somewhere."""
    if not user.is_superuser and user.role in WORKBENCH_ROLES:
        return WORKBENCH_URL
    if not user.is_superuser and user.role == Role.HOTLINE:
        return HOTLINE_URL
    if not user.is_superuser and user.role == Role.ASSESSOR:
        return ASSESSOR_URL
    return reverse("admin:index") if user.is_staff else "/"


def _landing(user, next_url: str) -> str:
    return next_url or landing_url(user)


def _advance(request, pending: flow.Pending):
    """Send the pending login to its next step, or sign in and go where the user was heading."""
    step = flow.next_step(request, pending)
    if step != "done":
        return redirect(STEP_URLS[step])
    flow.complete_login(request, pending)
    response = redirect(_landing(pending.user, pending.next_url))
    response.set_cookie(
        flow.SIGNED_IN_COOKIE, "1", httponly=True, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE,
        path=settings.SESSION_COOKIE_PATH,
    )
    return response


def _pending_or_restart(request):
    """(pending, None) or (None, a redirect to the login page with the reason)."""
    try:
        pending = flow.get_pending(request)
    except flow.PendingExpired:
        messages.error(request, _("验证已超时（超过5分钟），请重新输入用户名和密码。"))
        return None, redirect("accounts:login")
    if pending is None:
        return None, redirect("accounts:login")
    return pending, None


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request):
    next_url = _safe_next(request, request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, ""))
    notice = ""
    if request.method == "POST":
        form = LoginForm(request.POST)
        if form.is_valid():
            username = form.cleaned_data["username"]
            user = flow.check_password(request, username, form.cleaned_data["password"])
            if user is not None:
                flow.start_pending(request, user, next_url)
                return _advance(request, flow.get_pending(request))
            # When the account or the address is now locked out, django-axes' middleware replaces this page
            # with the lockout page.
            form.add_error(None, _("用户名或密码不正确。请注意密码区分大小写。"))
    else:
        form = LoginForm()
        if request.user.is_anonymous and request.COOKIES.get(flow.SIGNED_IN_COOKIE) and not request.session.get(flow.PENDING_KEY):
            minutes = settings.SESSION_COOKIE_AGE // 60
            notice = _("您的登录已超时（超过%(minutes)d分钟未操作）或已失效，请重新登录。") % {"minutes": minutes}
    response = render(request, "accounts/login.html", {"form": form, "next": next_url, "notice": notice})
    if notice:
        response.delete_cookie(flow.SIGNED_IN_COOKIE, path=settings.SESSION_COOKIE_PATH)
    return response


@sensitive_post_parameters("otp")
@csrf_protect
@never_cache
def otp_view(request):
    pending, restart = _pending_or_restart(request)
    if restart:
        return restart
    if flow.next_step(request, pending) != "otp":
        return _advance(request, pending)
    username = pending.user.get_username()
    if request.method == "POST":
        if flow.is_locked_out(request, username):
            flow.clear_pending(request)
            return get_lockout_response(request, None, {"username": username})
        form = OtpForm(request.POST)
        if form.is_valid():
            if flow.verify_totp(request, pending.user, form.cleaned_data["otp"]):
                flow.mark_second_factor_done(request)
                return _advance(request, flow.get_pending(request))
            if getattr(request, "axes_locked_out", False):
                flow.clear_pending(request)  # the middleware shows the lockout page
            form.add_error("otp", _("动态口令不正确或已使用过，请等待身份验证器显示新的口令后再输入。"))
    else:
        form = OtpForm()
    return render(request, "accounts/otp.html", {"form": form, "username": username})


@sensitive_post_parameters("otp")
@csrf_protect
@never_cache
def enrol_view(request):
    pending, restart = _pending_or_restart(request)
    if restart:
        return restart
    if flow.next_step(request, pending) != "enrol":
        return _advance(request, pending)
    user = pending.user
    if request.method == "POST":
        if flow.is_locked_out(request, user.get_username()):
            flow.clear_pending(request)
            return get_lockout_response(request, None, {"username": user.get_username()})
        form = OtpForm(request.POST)
        if form.is_valid():
            if flow.confirm_enrolment(request, user, form.cleaned_data["otp"]):
                flow.mark_second_factor_done(request)
                messages.success(request, _("动态口令已绑定。今后登录时，请在输入密码后输入身份验证器中的口令。"))
                return _advance(request, flow.get_pending(request))
            if getattr(request, "axes_locked_out", False):
                flow.clear_pending(request)
            form.add_error("otp", _("动态口令不正确，请确认已扫描本页的二维码，并输入身份验证器当前显示的口令。"))
    else:
        form = OtpForm()
    secret = flow.pending_enrolment_secret(user)
    uri = flow.provisioning_uri(user, secret)
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return render(request, "accounts/enrol.html", {
        "form": form, "username": user.get_username(), "qr": flow.qr_data_uri(uri), "secret": grouped,
        "issuer": flow.TOTP_ISSUER,
    })


@sensitive_post_parameters("new_password1", "new_password2")
@csrf_protect
@never_cache
def password_view(request):
    pending, restart = _pending_or_restart(request)
    if restart:
        return restart
    if flow.next_step(request, pending) != "password":
        return _advance(request, pending)
    if request.method == "POST":
        form = NewPasswordForm(pending.user, request.POST)
        if form.is_valid():
            flow.set_new_password(request, pending.user, form.cleaned_data["new_password1"])
            messages.success(request, _("密码已修改，请牢记新密码。"))
            return _advance(request, flow.get_pending(request))
    else:
        form = NewPasswordForm(pending.user)
    return render(request, "accounts/password_change.html", {"form": form, "username": pending.user.get_username()})


@require_POST
@csrf_protect
@never_cache
def logout_view(request, extra_context=None):
    """Sign out (POST only, so a link or an image cannot sign anyone out)."""
    logout(request)
    messages.success(request, _("您已安全退出。"))
    response = redirect("accounts:login")
    response.delete_cookie(flow.SIGNED_IN_COOKIE, path=settings.SESSION_COOKIE_PATH)
    return response


def admin_login(request, extra_context=None):
    """Replaces the admin's own login, so administrators go through the same password + TOTP flow."""
    from django.contrib import admin

    if request.method == "GET" and admin.site.has_permission(request):
        return redirect("admin:index")
    next_url = _safe_next(request, request.GET.get(REDIRECT_FIELD_NAME, "")) or reverse("admin:index")
    return redirect(f"{reverse('accounts:login')}?{urlencode({REDIRECT_FIELD_NAME: next_url})}")
