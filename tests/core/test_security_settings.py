"""Web security (issue 3, item 7): a strict CSP on every page, no inline script in our templates, clickjacking
protection, CSRF refusals in Chinese, and `check --deploy` clean with production settings."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

import haochaping

pytestmark = pytest.mark.django_db

SRC = Path(haochaping.__file__).resolve().parent


def csp_directives(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.mark.parametrize("path", ["/", "/items/", "/admin/login/", "/no-such-page/", "/api/v1/docs"])
def test_every_html_page_carries_the_strict_policy_and_refuses_framing(client, path):
    response = client.get(path, follow=True)
    assert response["Content-Type"].startswith("text/html")
    policy = csp_directives(response)
    assert policy.get("default-src") == ["'self'"], response.headers.get("Content-Security-Policy")
    # No inline script and no eval anywhere: script only from our own origin.
    assert policy.get("script-src") == ["'self'"]
    assert policy.get("object-src") == ["'none'"]
    assert policy.get("frame-ancestors") == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_json_api_responses_are_covered_too(client):
    response = client.get("/api/v1/levels")
    assert response.status_code == 200
    assert csp_directives(response).get("default-src") == ["'self'"]
    assert response["X-Frame-Options"] == "DENY"


SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
# on…= attributes inside a tag (onclick=, onload = …); a word such as "only=" in text is not inside a tag.
EVENT_HANDLER = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.IGNORECASE | re.DOTALL)
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.IGNORECASE)
# style-src 'self' blocks <style> blocks and style="" attributes as well: they would silently not apply.
STYLE_TAG = re.compile(r"<style\b", re.IGNORECASE)
STYLE_ATTR = re.compile(r"<[a-zA-Z][^>]*\sstyle\s*=", re.IGNORECASE | re.DOTALL)


def our_templates() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.html") if "templates" in p.relative_to(SRC).parts)


def inline_script_problems(text: str) -> list[str]:
    problems = []
    for match in SCRIPT_TAG.finditer(text):
        attrs = match.group(1)
        # JSON data blocks are not executed, so CSP allows them; anything else must come from a file.
        if re.search(r"\bsrc\s*=", attrs) or re.search(r"""type\s*=\s*["']application/(ld\+)?json["']""", attrs):
            continue
        problems.append(f"inline <script{attrs}>")
    problems += [f"inline event handler: {m.group(0)[-40:]!r}" for m in EVENT_HANDLER.finditer(text)]
    problems += [f"javascript: URL: {m.group(0)!r}" for m in JS_URL.finditer(text)]
    problems += ["inline <style> block" for _ in STYLE_TAG.finditer(text)]
    problems += [f"inline style attribute: {m.group(0)[-40:]!r}" for m in STYLE_ATTR.finditer(text)]
    return problems


def test_the_scanner_finds_what_the_policy_would_block():
    # The scan below proves nothing unless it recognises each kind of inline script.
    assert inline_script_problems("<script>alert(1)</script>")
    assert inline_script_problems('<SCRIPT type="text/javascript">x()</SCRIPT>')
    assert inline_script_problems('<button class="b" onclick="go()">去</button>')
    assert inline_script_problems('<body\n  onload = "init()">')
    assert inline_script_problems('<a href="javascript:void(0)">x</a>')
    assert inline_script_problems("<style>body { color: red }</style>")
    assert inline_script_problems('<p class="x" style="color: red">x</p>')
    assert not inline_script_problems('<script src="/static/x.js"></script><script type="application/json" id="d">{}</script>')
    assert not inline_script_problems("<p>online=true is just text, as is one=1</p>")


def test_our_templates_have_no_inline_script_or_event_handlers():
    templates = our_templates()
    assert len(templates) >= 5, "the scan found no templates: wrong directory?"
    found = {str(p.relative_to(SRC)): problems for p in templates if (problems := inline_script_problems(p.read_text()))}
    assert not found, found


def test_admin_login_without_csrf_token_is_refused_in_chinese_and_logged(caplog):
    browser = Client(enforce_csrf_checks=True)
    with caplog.at_level(logging.WARNING, logger="django.security.csrf"):
        response = browser.post("/admin/login/", {"username": "guanliyuan", "password": "whatever-123"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "请求被拒绝" in page and "安全校验码" in page
    assert 'lang="zh-Hans"' in page
    assert csp_directives(response).get("script-src") == ["'self'"]
    assert "whatever-123" not in page
    assert any(r.name == "django.security.csrf" and "/admin/login/" in r.getMessage() for r in caplog.records)


def login_page_token(browser) -> str:
    # The admin's login may hand over to the site's own login page; either way it is a form with a token.
    page = browser.get("/admin/login/", follow=True)
    assert "csrftoken" in browser.cookies
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)


def test_admin_login_with_a_forged_csrf_token_is_refused():
    browser = Client(enforce_csrf_checks=True)
    login_page_token(browser)
    forged = "A" * 64
    response = browser.post("/admin/login/", {"username": "guanliyuan", "password": "x", "csrfmiddlewaretoken": forged})
    assert response.status_code == 403
    assert "请求被拒绝" in response.content.decode()


def test_admin_login_with_the_real_csrf_token_gets_past_the_check():
    # The control for the two tests above: the same request with the page's own token is not refused by CSRF.
    browser = Client(enforce_csrf_checks=True)
    token = login_page_token(browser)
    response = browser.post("/admin/login/", {"username": "nobody", "password": "wrong-password-1", "csrfmiddlewaretoken": token})
    assert response.status_code != 403


PRODUCTION_ENV = {
    "HAOCHAPING_PRODUCTION": "1",
    "HAOCHAPING_SECRET_KEY": "k7#Vq2!xR9z$Lm4@Pw8^Tn3&Hs6*Jd1(Gf5)Bc0-Yu2+Ea9=Ok7_Zi4",
    "HAOCHAPING_SM4_KEY": "00112233445566778899aabbccddeeff",
    "HAOCHAPING_INDEX_KEY": "ffeeddccbbaa99887766554433221100",
    "HAOCHAPING_SM2_PRIVATE_KEY": "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8",
    "HAOCHAPING_ALLOWED_HOSTS": "hcp.example.gov.cn",
}


def check_deploy(tmp_path, **overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HAOCHAPING_", "DJANGO_"))}
    env.update(PRODUCTION_ENV, HAOCHAPING_VAR_DIR=str(tmp_path), **overrides)
    return subprocess.run(
        [sys.executable, "-m", "haochaping", "check", "--deploy", "--fail-level", "WARNING"],
        env=env, capture_output=True, text=True, timeout=120,
    )


def test_check_deploy_passes_with_production_settings(tmp_path):
    result = check_deploy(tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output
    assert "WARNING" not in output.upper().replace("--FAIL-LEVEL WARNING", "")


def test_check_deploy_fails_when_production_has_a_weak_secret_key(tmp_path):
    # The control: the same run notices an insecure setting, so the test above can fail.
    result = check_deploy(tmp_path, HAOCHAPING_SECRET_KEY="short-secret")
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_production_with_debug_does_not_even_start(tmp_path):
    # Debug in production is refused before any check runs (issue 18, item 5), naming both variables.
    result = check_deploy(tmp_path, HAOCHAPING_DEBUG="1")
    assert result.returncode != 0
    assert "HAOCHAPING_DEBUG=1 and HAOCHAPING_PRODUCTION=1 must not be set together" in result.stderr
