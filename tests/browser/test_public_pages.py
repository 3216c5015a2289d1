"""The public pages as a citizen sees them in a real browser: Chinese text, the eight guide elements,
keyboard-only search, small phone screens and WCAG 2.1 AA."""

from __future__ import annotations

import re

import pytest

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GUIDE_LABELS = ["受理单位", "办理渠道", "申请条件", "申请材料", "办理程序", "办理时限", "收费依据及标准", "评价渠道"]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def guided_item(db):
    org = factories.make_org()
    item = factories.make_item(org, name="食品经营许可证核发")
    # Guides often carry long unbroken URLs, which must not widen the page on a phone.
    factories.make_guide(item, channels="窗口办理；网上办理：https://www.shandong.gov.cn/api-gateway/jpaas-jiq-web-sdywtb/front/transition/ywTransToDetail?innerCode=11370102MB28")
    return item


def axe_violations(page) -> list[dict]:
    """Run axe-core (bundled with axe-playwright-python) with the WCAG 2.1 A/AA rules; return its violations."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results.response["violations"]
    ]


def guide_rows(page) -> dict[str, str]:
    return page.eval_on_selector_all(
        "dl.guide dt",
        "dts => Object.fromEntries(dts.map(dt => [dt.innerText.trim(), dt.nextElementSibling.innerText.trim()]))",
    )


def test_home_page_is_chinese_and_leads_to_the_guides(page):
    page.goto("/")
    assert page.evaluate("document.documentElement.lang") == "zh-Hans"
    assert page.title() == "政务服务“好差评”"
    assert page.get_by_role("heading", level=1).inner_text() == "政务服务“好差评”"
    # The site's stylesheet is served and applied (the header's colour comes only from it).
    assert page.eval_on_selector(".site-header", "el => getComputedStyle(el).backgroundColor") == "rgb(179, 38, 30)"

    page.get_by_role("link", name="查看政务服务事项与办事指南").click()
    page.wait_for_url("**/items/")
    assert page.get_by_role("heading", level=1).inner_text() == "政务服务事项"


def test_item_page_shows_all_eight_guide_elements(page, guided_item):
    elements = factories.guide_elements()
    page.goto(f"/items/{guided_item.implementation_code}/")

    assert page.evaluate("document.documentElement.lang") == "zh-Hans"
    assert page.title() == "食品经营许可证核发 - 办事指南"
    assert page.get_by_role("heading", level=1).inner_text() == "食品经营许可证核发"
    assert guided_item.implementation_code in page.locator("dl.facts").inner_text()
    assert re.fullmatch(r"办事指南（第 1 版，\d{4}年\d{1,2}月\d{1,2}日 发布）", page.locator("#guide-h").inner_text())

    rows = guide_rows(page)
    assert list(rows) == GUIDE_LABELS
    assert rows["评价渠道"] == elements["evaluation_channels"]
    assert rows["受理单位"] == elements["accepting_unit"]
    # Multi-line materials keep their line breaks.
    assert rows["申请材料"].splitlines() == ["1. 食品经营许可申请书", "2. 营业执照复印件"]


def test_item_page_shows_the_latest_guide_version(page, guided_item):
    factories.make_guide(guided_item, evaluation_channels="12345热线")
    page.goto(f"/items/{guided_item.implementation_code}/")
    assert page.locator("#guide-h").inner_text().startswith("办事指南（第 2 版")
    assert guide_rows(page)["评价渠道"] == "12345热线"
    assert "历史版本：第2版" in page.locator("main").inner_text()


def test_unknown_address_gives_a_chinese_not_found_page(page, db):
    response = page.goto("/no-such-page/")
    assert response.status == 404
    assert page.evaluate("document.documentElement.lang") == "zh-Hans"
    assert page.get_by_role("heading", level=1).inner_text() == "页面不存在"
    page.get_by_role("link", name="查看全部政务服务事项").click()
    page.wait_for_url("**/items/")


def test_unknown_item_code_gives_a_chinese_not_found_page(page, db):
    response = page.goto("/items/NO-SUCH-CODE/")
    assert response.status == 404
    assert page.evaluate("document.documentElement.lang") == "zh-Hans"
    assert "NO-SUCH-CODE" in page.locator("main").inner_text()
    assert page.get_by_role("link", name="政务服务事项").first.is_visible()


def test_item_search_works_with_the_keyboard_only(page, db):
    org = factories.make_org()
    factories.make_item(org, name="食品经营许可证核发")
    factories.make_item(org, name="药品零售企业许可")
    page.goto("/items/")
    assert "共 2 项" in page.locator("main").inner_text()

    # The first Tab lands on the skip link, a keyboard user's way past the navigation.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "跳到正文"
    for _ in range(10):
        if page.evaluate("document.activeElement.id") == "q":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "q", "the search box is not reachable with Tab"

    page.keyboard.type("食品")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/items/\?q="))
    main = page.locator("main").inner_text()
    assert "共 1 项" in main
    assert page.get_by_role("link", name="食品经营许可证核发").is_visible()
    assert page.get_by_role("link", name="药品零售企业许可").count() == 0
    assert page.locator("#q").input_value() == "食品"


def test_search_without_matches_says_so(page, db):
    factories.make_item(factories.make_org(), name="食品经营许可证核发")
    page.goto("/items/?q=不存在的事项")
    assert "没有找到符合条件的事项。" in page.locator("main").inner_text()


@pytest.mark.parametrize("path", ["/", "/items/", "ITEM"])
def test_nothing_overflows_on_a_320px_screen(page, guided_item, path):
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"/items/{guided_item.implementation_code}/" if path == "ITEM" else path)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{path} is {width}px wide on a 320px screen"


@pytest.mark.parametrize("path", ["/", "/items/", "ITEM", "/items/NO-SUCH-CODE/", "/no-such-page/"])
def test_pages_pass_axe_wcag21_aa(page, guided_item, path):
    page.goto(f"/items/{guided_item.implementation_code}/" if path == "ITEM" else path)
    assert axe_violations(page) == []


def test_keyboard_focus_on_skip_link_reveals_it_and_passes_axe(page, guided_item):
    # The skip link is off-screen until focused; when shown it must be readable (contrast is checked by axe).
    page.goto("/")
    page.keyboard.press("Tab")
    box = page.locator("a.skip").bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0
    assert axe_violations(page) == []
    # Following it, the next Tab goes to the page's own content, past the navigation.
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "已经评价过？凭评价回执码查看差评的处理进度和答复"  # the first link of the content


def test_item_page_screenshot_on_a_phone(page, guided_item, tmp_path):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/items/{guided_item.implementation_code}/")
    shot = tmp_path / "item-390.png"
    page.screenshot(path=str(shot), full_page=True)

    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert width == 390 and height >= 844


def test_api_docs_linked_from_home_work_offline(page, db):
    # Swagger UI must come from this server: the `page` fixture fails on any request to another host
    # (government networks are often closed, and a CDN would see who reads the docs).
    page.goto("/")
    page.get_by_role("link", name="接口文档").click()
    page.wait_for_url("**/api/v1/docs")
    page.locator(".swagger-ui .title").wait_for()
    assert "好差评系统接口" in page.locator(".swagger-ui .title").inner_text()


def test_chinese_text_is_drawn_with_a_cjk_font(page, db):
    # Without a CJK font installed (fonts-noto-cjk, see `make browser-deps`) Chinese shows as empty boxes.
    page.goto("/")
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    h1 = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "h1"})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": h1})["fonts"]
    cjk = [f for f in fonts if "CJK" in f["familyName"] or "Hei" in f["familyName"] or "PingFang" in f["familyName"]]
    assert cjk, f"the heading is drawn with {fonts}"
    assert sum(f["glyphCount"] for f in cjk) >= len("政务服务好差评")
