"""The receipt page verifies its own inclusion proof in the browser (R8.1): SM3 written in the page's script, the
audit path climbed to the checkpoint's root, the verdict said in plain Chinese; a forged proof is refused."""

from __future__ import annotations

import json

import pytest

from haochaping.transparency import services
from tests import factories
from tests.transparency import vectors as v

from .test_receipt import _fresh_limits, bad_evaluation, enter_code  # noqa: F401 (an autouse fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def evaluations(n: int) -> list:
    org = factories.make_org()
    item = factories.make_item(org)
    return [bad_evaluation(org, item) for _ in range(n)]


def status(page) -> tuple[str, str]:
    locator = page.locator("#log-status[data-verified]")
    locator.wait_for()
    return locator.get_attribute("data-verified"), locator.inner_text()


def test_the_page_checks_the_proof_and_says_it_verified(page):
    ev = evaluations(5)[0]  # a tree of 5, so the proof has more than one step
    services.seal()
    enter_code(page, ev.receipt_code)
    page.wait_for_url("**/r/view/")
    verified, text = status(page)
    assert verified == "yes", text
    assert text.startswith("核验通过：您的评价已记入") and "共 5 条记录" in text and "未被改动" in text
    assert page.locator("#log-details").is_visible()
    assert page.locator("#log-path li").count() == 3  # leaf 0 of 5: siblings 1, [2,3], 4
    # The script's SM3 and proof arithmetic against the documented fixed vectors.
    assert page.evaluate("window.haochapingLog.sm3('abc')") == v.SM3_ABC
    root = page.evaluate(
        """([path, leaf]) => { const hex = h => Uint8Array.from(h.match(/../g).map(x => parseInt(x, 16)));
           const r = window.haochapingLog.rootFromInclusion(3, 7, window.haochapingLog.leafHash(new TextEncoder().encode(leaf)), path.map(hex));
           return Array.from(r).map(x => x.toString(16).padStart(2, '0')).join(''); }""",
        [v.INCLUSION_3_OF_7, "leaf-3"])
    assert root == v.ROOTS[7]


def test_a_forged_proof_is_refused_on_the_page(page):
    ev = evaluations(2)[0]
    services.seal()

    def forge(route):
        response = route.fetch()
        proof = response.json()
        proof["leaf"] = proof["leaf"].replace('"level":1', '"level":5')  # the log says 5★ for this 差评
        route.fulfill(response=response, body=json.dumps(proof))

    page.route("**/api/v1/log/inclusion-proofs/*", forge)
    enter_code(page, ev.receipt_code)
    page.wait_for_url("**/r/view/")
    verified, text = status(page)
    assert verified == "no" and text.startswith("核验未通过") and "评价等级" in text


def test_a_proof_that_does_not_reach_the_root_is_refused(page):
    ev = evaluations(2)[0]
    services.seal()

    def forge(route):
        response = route.fetch()
        proof = response.json()
        proof["audit_path"] = ["0" * 64]
        route.fulfill(response=response, body=json.dumps(proof))

    page.route("**/api/v1/log/inclusion-proofs/*", forge)
    enter_code(page, ev.receipt_code)
    page.wait_for_url("**/r/view/")
    verified, text = status(page)
    assert verified == "no" and "根哈希与检查点公布的不一致" in text


def test_the_verified_section_fits_a_small_phone_and_passes_axe(page):
    from tests.browser.test_public_pages import axe_violations

    ev = evaluations(3)[0]
    services.seal()
    page.set_viewport_size({"width": 320, "height": 640})
    enter_code(page, ev.receipt_code)
    page.wait_for_url("**/r/view/")
    assert status(page)[0] == "yes"
    page.locator("#log-details summary").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert axe_violations(page) == []


def test_the_portal_lists_the_checkpoints_accessibly(page):
    from tests.browser.test_public_pages import axe_violations

    evaluations(2)
    checkpoint = services.seal()
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto("/public/")
    page.get_by_role("link", name="评价存证检查点").first.click()
    page.wait_for_url("**/public/log/")
    assert checkpoint.root_hash in page.locator("#log-checkpoints").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert axe_violations(page) == []
