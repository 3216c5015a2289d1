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

from haochaping.demo.screenshot_seed import SEED
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
