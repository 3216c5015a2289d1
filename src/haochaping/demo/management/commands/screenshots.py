"""``haochaping screenshots [--out docs/screenshots]``: pictures of the evaluator pages for the README.

Everything happens in a throwaway directory: a fresh SQLite database loaded with a small demo
(``demo --records N``) plus what each channel needs to show its real pages (``SEED``, run in that environment
through the services: kiosk devices and a pushed 办件, a QR window token and verification code, SMS invitations, a
platform's 一事一评 secret, signed-in operator, clerk and assessor sessions), a real ``haochaping serve`` on a free
local port, and Chromium (playwright, the binary from HAOCHAPING_CHROMIUM or /usr/bin/chromium; nothing is
downloaded) at phone width (390 px), the kiosk at 1024×768. The current database is never touched. Pages of
channels that are not installed are left out.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from haochaping.evaluation import online

MAX_BYTES = 300 * 1024
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SIGN = {"width": 560, "height": 794}  # the A5 sign (148 × 210 mm) at 96 dpi
KIOSK = {"width": 1024, "height": 768}
DESKTOP = {"width": 1280, "height": 1100}  # the workbench
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Run inside the throwaway environment: an operator account, one bad review to look up, a record to rate by phone,
# and what the other channels need: two kiosk devices at one window (one showing a 办件), a window QR token with a
# 办件's verification code, a sent SMS invitation and an expired one, a platform that signs 一事一评 requests, and a
# window staff member who enters paper forms. Each channel rates its own unrated 办件.
SEED = r"""
import json, secrets, uuid
from datetime import timedelta
import django
django.setup()
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from haochaping.accounts.roles import Role
from haochaping.evaluation import invitations, kiosk, services, verification
from haochaping.org.services import issue_secret
from haochaping.records.verification import verification_code
from haochaping.evaluation.models import Evaluation, Invitation
from haochaping.org.models import Staff
from haochaping.records.models import RecordStatus, ServiceRecord, Stage

rated = Evaluation.objects.values_list("record_id", flat=True)
pool = list(ServiceRecord.objects.filter(status=RecordStatus.COMPLETED).exclude(pk__in=rated)
            .select_related("window", "staff", "agency", "platform").order_by("-completed_at")[:300])
used = set()
now = timezone.now()

def refresh(r):
    # As if completed an hour ago: every channel's evaluation period is open (the demo's history may be older).
    r.accepted_at, r.completed_at = now - timedelta(hours=2), now - timedelta(hours=1)
    # save(), not update(): the 参评率 counters follow a 办件's completion day through its save signal.
    r.save(update_fields=["accepted_at", "completed_at"])
    used.add(r.pk)
    return r

def take(test=lambda r: True, what="办件", fresh=True):
    for r in pool:
        if r.pk not in used and test(r):
            used.add(r.pk)
            return refresh(r) if fresh else r
    raise SystemExit(f"演示数据中没有未评价的{what}")

at_window = lambda r: r.window_id is not None and r.staff_id is not None
first, second = take(), take(at_window, "窗口办件")
data = services.EvaluationInput(idempotency_key=uuid.uuid4().hex, project_no=first.project_no, stage="complete",
                                channel="kiosk", level=1, labels=["109"], comment="窗口要求提供办事指南之外的证明材料，跑了两趟。")
ev = services.submit_evaluation(data, source="screenshots").evaluation
User = get_user_model()

def session_of(user):
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value

operator, _ = User.objects.get_or_create(username="hotline-demo", defaults={"role": Role.HOTLINE, "region_id": second.region_id})

on_kiosk = take(at_window, "窗口办件")
shows, shows_secret = kiosk.register_kiosk(on_kiosk.window, "1号评价器")
kiosk.set_current(shows, on_kiosk, Stage.COMPLETE, set_by="screenshots")
_idle, idle_secret = kiosk.register_kiosk(on_kiosk.window, "2号评价器")

by_qr = take(at_window, "窗口办件")

invited = take(lambda r: bool(r.applicant_phone_index), "留有手机号的办件")
outcome = invitations.send(invited.pk)  # to the file backend in the throwaway directory
if outcome.status != "sent":
    raise SystemExit(f"短信邀请未发送：{outcome.status} {outcome.reason}")
# A link sent during an earlier period, opened after it ended: issued the way invitations.send issues links.
late = take(fresh=False)
late_token = secrets.token_urlsafe(invitations.TOKEN_BYTES)
Invitation.objects.create(record=late, stage=Stage.COMPLETE, kind=Invitation.Kind.INVITE,
                          token_hash=invitations.token_hash(late_token), status=Invitation.Status.SENT,
                          sent_at=timezone.now() - timedelta(days=40), expires_at=timezone.now() - timedelta(days=30))

by_platform = take(lambda r: r.platform_id is not None, "网上办件")
platform = by_platform.platform
platform.return_url_prefixes = "https://zwfw.example.gov.cn/"
platform.save(update_fields=["return_url_prefixes"])
platform_secret = issue_secret(platform)

# Paper forms are entered by a colleague in the same hall, never by the rated staff member.
on_paper = take(lambda r: r.agency_id is not None and r.staff_id is not None, "大厅办件")
# The demo's own account of a colleague when it made one, else a new one.
clerk = (User.objects.filter(role=Role.STAFF, staff__agency_id=on_paper.agency_id, is_active=True)
         .exclude(staff_id=on_paper.staff_id).order_by("pk").first())
if clerk is None:
    taken_staff = User.objects.filter(staff__isnull=False).values_list("staff_id", flat=True)
    colleague = (Staff.objects.filter(agency_id=on_paper.agency_id).exclude(pk=on_paper.staff_id)
                 .exclude(pk__in=taken_staff).order_by("pk").first())
    if colleague is None:
        raise SystemExit("演示数据中没有可录入书面评价表的工作人员")
    clerk = User.objects.create(username="paper-demo", role=Role.STAFF, region_id=on_paper.agency.region_id, staff=colleague)
forms = services.create_paper_forms(on_paper.agency, 3)
# Printing a window's QR sign takes a role that may view windows; an assessor of the region, no second factor.
printer, _ = User.objects.get_or_create(username="assessor-demo", defaults={"role": Role.ASSESSOR, "region_id": by_qr.region_id})

# A supervisor of the demo's province for the analysis pages (by item, by platform, questionnaire, coverage).
analyst, _ = User.objects.get_or_create(username="analysis-demo", defaults={
    "role": Role.SUPERVISOR, "region_id": second.region_id[:2] + "0000", "last_name": "周", "first_name": "敏"})

# 谁办理、谁负责 (docs/routing.md): a real-name bad review about the window, at a 综合受理 window stationed by another
# department, goes to that department; its handler, assigned, sees 转办 and 查看联系方式 on the case page.
from haochaping.rectification import services as case_services
one_window = take(lambda r: r.window_id is not None and r.window.department_id not in (None, r.department_id),
                  "一窗受理办件")
routed = services.submit_evaluation(services.EvaluationInput(
    idempotency_key=uuid.uuid4().hex, project_no=one_window.project_no, stage="complete", channel="kiosk", level=1,
    comment="工作人员态度生硬，问两句就不耐烦。", evaluator_name="张三", evaluator_phone="13912345678"),
    source="screenshots")
window_handler = User.objects.get(username=f"handler-{one_window.window.department.credit_code}")
case_services.assign(routed.case_id, window_handler, actor=window_handler)

# 监督查评 and 回访调查 (demo.surveys): a fresh personal link to the demo survey, and 历下区's 12345 operator.
import secrets as _secrets
from haochaping.supervision.surveys import services as survey_services
from haochaping.supervision.surveys.models import Survey, SurveyInvitation
survey = Survey.objects.filter(status="launched").first()
survey_token = ""
if survey is not None:
    survey_token = _secrets.token_urlsafe(24)
    SurveyInvitation.objects.create(survey=survey, token_hash=survey_services.token_hash(survey_token),
                                    phone_index="screenshots", sent_ok=True, sent_at=now,
                                    region_id=survey.target_region_id, item_id=survey.target_item_id)
callback_operator = User.objects.filter(username="hotline-370100").first()
# 综合点评 and 通报 (demo.supervision): the county supervisor who issued the demo's bulletins, one of the county's
# complaints, the bulletin some units have not acknowledged yet, and the one made public.
from haochaping.supervision.models import Bulletin, SocialReview
first_bulletin = Bulletin.objects.select_related("issued_by").order_by("pk").first()
intake_supervisor = first_bulletin.issued_by if first_bulletin else None
intake_complaint = (SocialReview.objects.filter(region_id=intake_supervisor.region_id)
                    .order_by("pk").first() if intake_supervisor else None)
public_bulletin = Bulletin.objects.filter(published_at__isnull=False).order_by("pk").first()
# Pain points: the province's supervisor (the demo command classified the bad reviews already).
province_supervisor = User.objects.filter(role="supervisor", region__code__endswith="0000").order_by("username").first()

print(json.dumps({
    "survey_token": survey_token,
    "intake_session": session_of(intake_supervisor) if intake_supervisor else "",
    "intake_complaint_id": intake_complaint.pk if intake_complaint else None,
    "bulletin_id": first_bulletin.pk if first_bulletin else None,
    "public_bulletin_id": public_bulletin.pk if public_bulletin else None,
    "callback_session": session_of(callback_operator) if callback_operator else "",
    "analysis_session": session_of(analyst),
    "painpoints_session": session_of(province_supervisor) if province_supervisor else None,
    "case_id": routed.case_id, "case_session": session_of(window_handler),
    "receipt_code": ev.receipt_code, "project_no": second.project_no, "session_cookie": settings.SESSION_COOKIE_NAME,
    "session": session_of(operator),
    "kiosk_secret": shows_secret, "kiosk_idle_secret": idle_secret,
    "qr_token": verification.window_token(by_qr.window_id), "qr_project_no": by_qr.project_no,
    "qr_code": verification_code(by_qr.project_no), "qr_window_id": by_qr.window_id,
    "sign_session": session_of(printer),
    "invite_token": outcome.token, "expired_invite_token": late_token,
    "platform": platform.code, "platform_secret": platform_secret, "online_project_no": by_platform.project_no,
    "return_url": "https://zwfw.example.gov.cn/bs/done?from=platform",
    "paper_session": session_of(clerk), "paper_form_number": forms[0].number, "paper_project_no": on_paper.project_no,
}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Command(BaseCommand):
    help = "生成评价页面截图（临时数据库与临时服务器，不影响现有数据）"

    def add_arguments(self, parser):
        parser.add_argument("--out", default="docs/screenshots", help="截图输出目录（默认 docs/screenshots）")
        parser.add_argument("--records", type=int, default=300, help="演示办件数量（默认300）")

    def handle(self, *args, out: str, records: int, **options):
        chromium = os.environ.get("HAOCHAPING_CHROMIUM") or "/usr/bin/chromium"
        if not (Path(chromium).is_file() and os.access(chromium, os.X_OK)):
            raise CommandError(f"找不到 Chromium：{chromium}（请运行 make browser-deps 或设置 HAOCHAPING_CHROMIUM）")
        out_dir = Path(out)
        out_dir.mkdir(parents=True, exist_ok=True)
        bin_dir = Path(sys.executable).parent
        var_dir = Path(tempfile.mkdtemp(prefix="haochaping-shots-"))
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_TEST_NAME", "CACHE_URL")}
        env.update(HAOCHAPING_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="haochaping.settings", PYTHONUNBUFFERED="1",
                   HAOCHAPING_PRODUCTION="0")
        server = None
        try:
            self.stdout.write(f"临时目录：{var_dir}")
            subprocess.run([bin_dir / "haochaping", "migrate", "--no-input", "-v", "0"], env=env, check=True, timeout=300)
            subprocess.run([bin_dir / "haochaping", "demo", "--records", str(records), "-v", "0"], env=env, check=True,
                           timeout=600, stdout=subprocess.DEVNULL)
            seeded = subprocess.run([sys.executable, "-c", SEED], env=env, timeout=120, capture_output=True, text=True)
            if seeded.returncode != 0:
                raise CommandError(f"准备截图数据失败：\n{seeded.stderr[-3000:]}")
            seed = json.loads(seeded.stdout.strip().splitlines()[-1])
            port = _free_port()
            log = open(var_dir / "server.log", "wb")  # noqa: SIM115 - closed with the process
            server = subprocess.Popen([bin_dir / "haochaping", "serve", "--host", "127.0.0.1", "--port", str(port),
                                       "--workers", "1", "--no-worker"], env=env, stdout=log, stderr=subprocess.STDOUT)
            base = f"http://127.0.0.1:{port}"
            self._wait(base, server)
            written = self._shoot(chromium, base, seed, out_dir)
        finally:
            if server is not None and server.poll() is None:
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    server.kill()
            shutil.rmtree(var_dir, ignore_errors=True)
        too_big = [p.name for p in written if p.stat().st_size > MAX_BYTES]
        for path in written:
            self.stdout.write(f"{path}  {path.stat().st_size // 1024} KB")
        if too_big:
            raise CommandError(f"截图超过 300 KB：{', '.join(too_big)}")

    def _wait(self, base: str, server) -> None:
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise CommandError("临时服务器启动失败")
            try:
                if httpx.get(f"{base}/r/", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.3)
        raise CommandError("临时服务器未能在60秒内启动")

    def _shoot(self, chromium: str, base: str, seed: dict, out_dir: Path) -> list[Path]:
        from django.urls import NoReverseMatch, reverse
        from playwright.sync_api import sync_playwright

        written: list[Path] = []

        def shot(page, name: str, *, full_page: bool = True) -> None:
            path = out_dir / f"{name}.png"
            page.screenshot(path=str(path), full_page=full_page)
            written.append(path)

        def has_route(name: str, kwargs: dict | None = None) -> bool:
            try:
                reverse(name, kwargs=kwargs)
            except NoReverseMatch:
                return False
            return True

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                ctx = browser.new_context(base_url=base, locale="zh-CN", viewport=PHONE, device_scale_factor=1)
                page = ctx.new_page()
                page.goto("/r/")
                shot(page, "receipt-lookup")
                page.get_by_label("评价回执码").fill(seed["receipt_code"])
                page.get_by_role("button", name="查询").click()
                page.wait_for_url("**/r/view/")
                shot(page, "receipt-view")
                page.get_by_role("link", name="追加评价").click()
                page.wait_for_url("**/r/followup/")
                shot(page, "rate-levels")
                page.get_by_role("button", name="不满意", exact=True).click()
                page.get_by_role("button", name="提交评价").wait_for()
                shot(page, "rate-bad-reasons")
                page.locator("input[name=labels]").first.check()
                page.get_by_role("button", name="提交评价").click()
                page.get_by_role("heading", name="感谢您的评价").wait_for()
                shot(page, "rate-thanks")
                # Large-text mode (适老化), the same receipt page.
                page.goto("/r/view/")
                page.get_by_role("button", name="大字版").click()
                page.wait_for_url("**/r/view/")
                shot(page, "receipt-view-large-text")
                ctx.close()

                ctx = browser.new_context(base_url=base, locale="zh-CN", viewport=PHONE, device_scale_factor=1)
                ctx.add_cookies([{"name": seed["session_cookie"], "value": seed["session"], "url": base}])
                page = ctx.new_page()
                page.goto("/hotline/")
                page.get_by_label("办件编号").fill(seed["project_no"])
                page.get_by_role("button", name="查找办件").click()
                page.get_by_role("button", name="开始记录评价").wait_for()
                shot(page, "hotline-consent")
                page.get_by_role("checkbox").check()
                page.get_by_role("button", name="开始记录评价").click()
                page.get_by_role("button", name="非常满意").wait_for()
                shot(page, "hotline-levels")
                ctx.close()

                # Kiosk (评价器), 1024×768: an idle device waits; the other shows the 办件 pushed by the business system.
                if has_route("kiosk:page"):
                    def kiosk_page(secret: str | None):
                        ctx = browser.new_context(base_url=base, locale="zh-CN", viewport=KIOSK, device_scale_factor=1)
                        page = ctx.new_page()
                        page.goto("/kiosk/")
                        if secret:
                            page.get_by_label("设备密钥").fill(secret)
                            page.get_by_role("button", name="激活").click()
                            page.wait_for_url("**/kiosk/")
                        return ctx, page

                    ctx, page = kiosk_page(None)
                    shot(page, "kiosk-activation")
                    ctx.close()
                    ctx, page = kiosk_page(seed["kiosk_idle_secret"])
                    page.get_by_text("请稍候，工作人员正在为您办理").wait_for()
                    shot(page, "kiosk-waiting")
                    ctx.close()
                    ctx, page = kiosk_page(seed["kiosk_secret"])
                    page.get_by_role("button", name="非常满意", exact=True).wait_for()
                    shot(page, "kiosk-levels")
                    page.get_by_role("button", name="非常不满意", exact=True).click()
                    page.get_by_role("button", name="提交评价").wait_for()
                    shot(page, "kiosk-bad-reasons")
                    page.locator("input[name=labels]").first.check()
                    page.get_by_role("button", name="提交评价").click()
                    page.locator("#receipt-code").filter(has_text=re.compile(r"\S")).wait_for()
                    shot(page, "kiosk-thanks")  # before it resets itself (HAOCHAPING_KIOSK_RESET_SECONDS)
                    ctx.close()

                ctx = browser.new_context(base_url=base, locale="zh-CN", viewport=PHONE, device_scale_factor=1)
                page = ctx.new_page()
                if has_route("qr:window", {"token": seed["qr_token"]}):
                    page.goto(reverse("qr:window", kwargs={"token": seed["qr_token"]}))
                    shot(page, "qr-identify")
                    page.get_by_label("办件编号").fill(seed["qr_project_no"])
                    page.get_by_label("验证码").fill(seed["qr_code"])
                    page.get_by_role("button", name="下一步").click()
                    page.get_by_role("button", name="非常满意", exact=True).wait_for()
                    shot(page, "qr-levels")
                ctx.close()
                if has_route("qr:sign_svg", {"window_id": seed["qr_window_id"]}):
                    ctx = browser.new_context(base_url=base, locale="zh-CN", viewport=SIGN, device_scale_factor=1)
                    ctx.add_cookies([{"name": seed["session_cookie"], "value": seed["sign_session"], "url": base}])
                    page = ctx.new_page()
                    response = page.goto(reverse("qr:sign_svg", kwargs={"window_id": seed["qr_window_id"]}))
                    if response is None or response.status != 200:
                        raise CommandError(f"窗口二维码桌牌无法打开：{response.status if response else '无响应'}")
                    shot(page, "qr-sign", full_page=False)  # a bare SVG document: full_page never settles
                    ctx.close()

                ctx = browser.new_context(base_url=base, locale="zh-CN", viewport=PHONE, device_scale_factor=1)
                page = ctx.new_page()
                if has_route("invite:link", {"token": seed["invite_token"]}):
                    page.goto(reverse("invite:link", kwargs={"token": seed["invite_token"]}))
                    page.get_by_role("button", name="非常满意", exact=True).wait_for()
                    shot(page, "invitation-levels")
                    page.goto(reverse("invite:link", kwargs={"token": seed["expired_invite_token"]}))
                    page.get_by_role("heading", name="评价期限已结束").wait_for()
                    shot(page, "invitation-closed")
                    page.goto(reverse("invite:link", kwargs={"token": "expired-or-forged"}))
                    shot(page, "invitation-invalid")
                if has_route("online:evaluate"):
                    page.goto(reverse("online:evaluate"))
                    shot(page, "online-unsigned")
                    # Signed now, as the platform would when the citizen clicks 评价 (the request is fresh for minutes).
                    params = {"platform": seed["platform"], "project_no": seed["online_project_no"], "stage": "complete",
                              "return_url": seed["return_url"], "client": "mobile"}
                    page.goto(online.signed_url(reverse("online:evaluate"), seed["platform_secret"], params))
                    page.get_by_role("button", name="非常满意", exact=True).wait_for()
                    shot(page, "online-levels")
                    page.get_by_role("button", name="满意", exact=True).click()
                    page.get_by_text("服务指引是否清晰").wait_for()
                    shot(page, "online-questionnaire")
                ctx.close()

                if has_route("insight:coverage"):
                    ctx = browser.new_context(base_url=base, locale="zh-CN", viewport=DESKTOP, device_scale_factor=1)
                    ctx.add_cookies([{"name": seed["session_cookie"], "value": seed["analysis_session"], "url": base}])
                    page = ctx.new_page()
                    for route, name in (("insight:items", "insight-items"), ("insight:platforms", "insight-platforms"),
                                        ("insight:questionnaire", "insight-questionnaire"),
                                        ("insight:coverage", "insight-coverage")):
                        page.goto(reverse(route) + "?period=year")
                        page.get_by_role("navigation", name="统计分析").wait_for()
                        shot(page, name, full_page=False)  # the head of a long page: the files stay small
                    page.goto(reverse("disclosure:home"))
                    shot(page, "portal-home", full_page=False)
                    ctx.close()

                if has_route("insight:painpoints") and seed.get("painpoints_session"):
                    ctx = browser.new_context(base_url=base, locale="zh-CN", viewport=DESKTOP, device_scale_factor=1)
                    ctx.add_cookies([{"name": seed["session_cookie"], "value": seed["painpoints_session"], "url": base}])
                    page = ctx.new_page()
                    page.goto(reverse("insight:painpoints"))
                    page.get_by_role("heading", name="集中反映的问题").wait_for()
                    shot(page, "painpoints", full_page=False)  # the head: the top problems
                    ctx.close()

                if has_route("paper:enter"):
                    ctx = browser.new_context(base_url=base, locale="zh-CN", viewport=PHONE, device_scale_factor=1)
                    ctx.add_cookies([{"name": seed["session_cookie"], "value": seed["paper_session"], "url": base}])
                    page = ctx.new_page()
                    page.goto(reverse("paper:enter"))
                    page.get_by_role("heading", name="录入书面评价表").wait_for()
                    page.get_by_label("表单编号").fill(seed["paper_form_number"])
                    page.get_by_label("办件编号").fill(seed["paper_project_no"])
                    shot(page, "paper-enter")
                    ctx.close()
                # The workbench (1280 px): a case routed to a window's department, with 转办 and 查看联系方式; a window
                # staff member's own results; the paper forms page.
                ctx = browser.new_context(base_url=base, locale="zh-CN", viewport=DESKTOP, device_scale_factor=1)
                ctx.add_cookies([{"name": seed["session_cookie"], "value": seed["case_session"], "url": base}])
                page = ctx.new_page()
                page.goto(f"/work/cases/{seed['case_id']}/")
                page.get_by_role("heading", name="转办", exact=True).wait_for()
                shot(page, "case-transfer", full_page=False)  # the step forms beside the case; the page is long
                box = page.locator("#contact")
                box.get_by_label("要查看的信息").select_option(label="评价人手机号")
                box.get_by_label("查看理由").fill("差评回访，电话联系评价人核实情况")
                box.get_by_role("button", name="查看联系方式").click()
                page.locator(".revealed-value").wait_for()
                page.locator("#contact").scroll_into_view_if_needed()
                shot(page, "case-contact-revealed", full_page=False)
                ctx.close()
                ctx = browser.new_context(base_url=base, locale="zh-CN", viewport=DESKTOP, device_scale_factor=1)
                ctx.add_cookies([{"name": seed["session_cookie"], "value": seed["paper_session"], "url": base}])
                page = ctx.new_page()
                page.goto("/insight/mine/")
                page.get_by_role("heading", name="我的评价结果").wait_for()
                shot(page, "staff-results")
                page.goto("/paper/")
                page.get_by_role("heading", name="书面评价表", exact=True).wait_for()
                shot(page, "paper-index")
                ctx.close()
                # 回访清单 (desktop) and the 监督查评 answering page on a 320 px phone.
                if seed.get("callback_session") and has_route("callbacks:list"):
                    ctx = browser.new_context(base_url=base, locale="zh-CN", viewport=DESKTOP, device_scale_factor=1)
                    ctx.add_cookies([{"name": seed["session_cookie"], "value": seed["callback_session"], "url": base}])
                    page = ctx.new_page()
                    page.goto("/work/callbacks/")
                    page.get_by_role("heading", name="回访清单", exact=True).wait_for()
                    shot(page, "callback-list", full_page=False)
                    ctx.close()
                # 综合点评 intake (list and a complaint, contact masked) and 通报 (the agency's page with the units that
                # have not acknowledged), 1280 px; the public bulletin on the portal.
                if seed.get("intake_session") and has_route("intake:list"):
                    ctx = browser.new_context(base_url=base, locale="zh-CN", viewport=DESKTOP, device_scale_factor=1)
                    ctx.add_cookies([{"name": seed["session_cookie"], "value": seed["intake_session"], "url": base}])
                    page = ctx.new_page()
                    page.goto(reverse("intake:list"))
                    page.get_by_role("heading", name="综合点评", exact=True).wait_for()
                    shot(page, "intake-list", full_page=False)
                    if seed.get("intake_complaint_id"):
                        page.goto(reverse("intake:detail", kwargs={"complaint_id": seed["intake_complaint_id"]}))
                        page.get_by_role("heading", name="内容", exact=True).wait_for()
                        shot(page, "intake-detail", full_page=False)
                    page.goto(reverse("bulletins:list"))
                    page.get_by_role("heading", name="通报", exact=True).wait_for()
                    shot(page, "bulletin-list", full_page=False)
                    if seed.get("bulletin_id"):
                        page.goto(reverse("bulletins:detail", kwargs={"bulletin_id": seed["bulletin_id"]}))
                        page.locator("h1").wait_for()
                        shot(page, "bulletin-detail", full_page=False)
                    ctx.close()
                if seed.get("public_bulletin_id") and has_route("disclosure:bulletin", {"bulletin_id": 1}):
                    ctx = browser.new_context(base_url=base, locale="zh-CN", viewport=DESKTOP, device_scale_factor=1)
                    page = ctx.new_page()
                    page.goto(reverse("disclosure:bulletin", kwargs={"bulletin_id": seed["public_bulletin_id"]}))
                    page.locator("h1").wait_for()
                    shot(page, "public-bulletin", full_page=False)
                    ctx.close()
                if seed.get("survey_token"):
                    ctx = browser.new_context(base_url=base, locale="zh-CN", viewport={"width": 320, "height": 640},
                                              device_scale_factor=1)
                    page = ctx.new_page()
                    page.goto(f"/s/t/{seed['survey_token']}/")
                    page.get_by_role("button", name="提交问卷").wait_for()
                    shot(page, "survey-phone")
                    ctx.close()
            finally:
                browser.close()
        return written
