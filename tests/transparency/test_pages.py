"""The receipt page's 存证核验 section (before and after sealing) and the portal's checkpoints page and files."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from haochaping.core import signing
from haochaping.transparency import services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def receipt_page(client, ev) -> str:
    assert client.post("/r/", {"code": ev.receipt_code}).status_code == 302
    return client.get("/r/view/").content.decode()


def test_receipt_page_before_and_after_sealing(client, rate):
    ev = rate(level=4)
    html = receipt_page(client, ev)
    assert "存证核验" in html and "下一个检查点封存" in html and "receipt.js" not in html
    services.seal()
    html = receipt_page(client, ev)
    assert 'data-proof-url="/api/v1/log/inclusion-proofs/0"' in html
    assert f'data-digest="{ev.leaf_hash}"' in html and "transparency/receipt.js" in html
    assert "正在核验" in html
    # The proof is fetched by leaf index: the receipt code never goes into a URL.
    assert ev.receipt_code not in html.split('data-proof-url="')[1].split('"')[0]


def test_receipt_page_says_the_exclusion_is_in_the_log_too(client, rate):
    from haochaping.evaluation import services as evaluation_services

    ev = rate(level=1)
    services.seal()
    evaluation_services.exclude_evaluation(ev.pk, reason="malicious", source="case:1", actor=None)
    assert "log-exclusion" not in receipt_page(client, ev)  # decided, not sealed yet
    services.seal()
    html = receipt_page(client, ev)
    assert "不计入统计的决定及其原因也已记入公开日志（叶子序号 1）" in html


def test_portal_lists_signed_checkpoints(client, rate):
    first = client.get("/public/log/").content.decode()
    assert "尚未封存检查点" in first
    # A citizen who followed the receipt page's link reads first what this is, in plain words, and where to check.
    assert first.index('id="log-plain"') < first.index("默克尔树") and 'href="/r/"' in first
    rate(level=5)
    cp = services.seal()
    html = client.get("/public/log/").content.decode()
    assert cp.root_hash in html and cp.signature in html and signing.node_public_key() in html
    assert 'data-figure="tree-size">1<' in html


def test_open_data_files_and_their_bad_parameters(client, rate):
    for _ in range(3):
        rate(level=5)
    services.seal()
    leaves = b"".join(client.get("/public/opendata/log/leaves.jsonl?start=1&end=3").streaming_content).decode()
    assert len(leaves.splitlines()) == 2
    for url, text in (("/public/opendata/log/leaves.jsonl?end=9", "不能超出最新检查点的树大小 3"),
                      ("/public/opendata/log/leaves.jsonl?start=x", "参数 start"),
                      ("/public/opendata/log/leaves.jsonl?start=3&end=2", "start 不能大于 end"),
                      ("/public/opendata/log/checkpoints.json?after=-1", "参数 after")):
        response = client.get(url)
        assert response.status_code == 400 and text in response.content.decode(), url
    doc = b"".join(client.get("/public/opendata/log/checkpoints.json?after=0").streaming_content)
    assert b'"tree_size": 3' in doc
