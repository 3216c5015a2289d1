"""``haochaping screenshots [--out docs/screenshots]``: pictures of the evaluator pages for the README.

Everything happens in a throwaway directory: a fresh SQLite database loaded with a small demo
(``demo --records N``), a real ``haochaping serve`` on a free local port, and Chromium (playwright, the binary from
HAOCHAPING_CHROMIUM or /usr/bin/chromium; nothing is downloaded) at phone width (390 px), the kiosk at 1024×768.
The current database is never touched. Pages of channels that are not installed are left out.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

MAX_BYTES = 300 * 1024
PHONE = {"width": 390, "height": 844}
KIOSK = {"width": 1024, "height": 768}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Run inside the throwaway environment: an operator account, one bad review to look up, a record to rate by phone.
SEED = r"""
import json, uuid, django
django.setup()
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from haochaping.accounts.roles import Role
from haochaping.evaluation import services
from haochaping.evaluation.models import Evaluation
from haochaping.records.models import ServiceRecord

rated = Evaluation.objects.values_list("record_id", flat=True)
records = ServiceRecord.objects.filter(completed_at__isnull=False).exclude(pk__in=rated).order_by("-completed_at")
first, second = records[0], records[1]
data = services.EvaluationInput(idempotency_key=uuid.uuid4().hex, project_no=first.project_no, stage="complete",
                                channel="kiosk", level=1, labels=["109"], comment="窗口要求提供办事指南之外的证明材料，跑了两趟。")
ev = services.submit_evaluation(data, source="screenshots").evaluation
User = get_user_model()
operator, _ = User.objects.get_or_create(username="hotline-demo", defaults={"role": Role.HOTLINE, "region_id": second.region_id})
client = Client()
client.force_login(operator)
print(json.dumps({"receipt_code": ev.receipt_code, "project_no": second.project_no,
                  "session_cookie": settings.SESSION_COOKIE_NAME,
                  "session": client.cookies[settings.SESSION_COOKIE_NAME].value}))
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
            seeded = subprocess.run([sys.executable, "-c", SEED], env=env, check=True, timeout=120, capture_output=True, text=True)
            seed = json.loads(seeded.stdout.strip().splitlines()[-1])
            port = _free_port()
            log = open(var_dir / "server.log", "wb")  # noqa: SIM115 - closed with the process
            server = subprocess.Popen([bin_dir / "haochaping", "serve", "--host", "127.0.0.1", "--port", str(port),
                                       "--workers", "1"], env=env, stdout=log, stderr=subprocess.STDOUT)
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

        def shot(page, name: str) -> None:
            path = out_dir / f"{name}.png"
            page.screenshot(path=str(path), full_page=True)
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

                # Other channels, where installed: what an evaluator sees first without a valid link or device.
                ctx = browser.new_context(base_url=base, locale="zh-CN", viewport=PHONE, device_scale_factor=1)
                page = ctx.new_page()
                for route, kwargs, name in [("invite:link", {"token": "expired-or-forged"}, "invitation-invalid"),
                                            ("online:evaluate", {}, "online-unsigned")]:
                    if has_route(route, kwargs):
                        page.goto(reverse(route, kwargs=kwargs))
                        shot(page, name)
                ctx.close()
                if has_route("kiosk:page"):
                    ctx = browser.new_context(base_url=base, locale="zh-CN", viewport=KIOSK, device_scale_factor=1)
                    page = ctx.new_page()
                    page.goto("/kiosk/")
                    shot(page, "kiosk-activation")
                    ctx.close()
            finally:
                browser.close()
        return written
