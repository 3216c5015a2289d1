"""/api/v1/log: checkpoints, leaves, inclusion proofs by leaf and by receipt, consistency proofs, and the
problem details for what cannot be answered (unknown receipt, not yet sealed, beyond the latest checkpoint …)."""

from __future__ import annotations

import pytest

from haochaping.transparency import rules, services

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def proof_checks_out(proof: dict) -> bool:
    return rules.verify_inclusion(proof["leaf_index"], proof["tree_size"], rules.leaf_hash(proof["leaf"].encode()),
                                  [bytes.fromhex(h) for h in proof["audit_path"]],
                                  bytes.fromhex(proof["checkpoint"]["root_hash"]))


def problem(response, status: int, field: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["field"] == field and body["detail"]
    return body


@pytest.fixture
def sealed(rate):
    """Two checkpoints: sizes 3 and 5."""
    evs = [rate(level=lv) for lv in (5, 4, 1)]
    services.seal()
    evs += [rate(level=lv) for lv in (2, 5)]
    services.seal()
    return evs


def test_proof_by_receipt_in_the_body(client, sealed):
    ev = sealed[3]
    r = client.post("/api/v1/log/inclusion-proofs", {"receipt_code": ev.receipt_code.lower()},
                    content_type="application/json")
    assert r.status_code == 200
    proof = r.json()
    assert proof["leaf_index"] == 3 and proof["tree_size"] == 5 and proof["kind"] == "evaluation"
    assert f'"digest":"{ev.leaf_hash}"' in proof["leaf"]
    assert proof_checks_out(proof)
    assert proof["checkpoint"]["text"].split("\n")[2:4] == ["5", proof["checkpoint"]["root_hash"]]


def test_proof_against_an_earlier_checkpoint(client, sealed):
    r = client.post("/api/v1/log/inclusion-proofs", {"receipt_code": sealed[0].receipt_code, "tree_size": 3},
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["tree_size"] == 3 and proof_checks_out(r.json())
    # The fourth evaluation was sealed after the checkpoint of size 3.
    r = client.post("/api/v1/log/inclusion-proofs", {"receipt_code": sealed[3].receipt_code, "tree_size": 3},
                    content_type="application/json")
    assert "之后才封存" in problem(r, 422, "tree_size")["detail"]


def test_unknown_receipt_and_not_yet_sealed(client, sealed, rate):
    problem(client.post("/api/v1/log/inclusion-proofs", {"receipt_code": "ABCDEFGHJKLM"},
                        content_type="application/json"), 404, "receipt_code")
    fresh = rate(level=5)
    body = problem(client.post("/api/v1/log/inclusion-proofs", {"receipt_code": fresh.receipt_code},
                               content_type="application/json"), 404, "receipt_code")
    assert body["type"].endswith("#not_sealed") and "下一个检查点" in body["detail"]
    assert fresh.receipt_code not in body["detail"]
    problem(client.post("/api/v1/log/inclusion-proofs", {"receipt_code": "", "x": 1}, content_type="application/json"),
            422, "receipt_code")


def test_checkpoint_beyond_the_latest_or_not_published(client, sealed):
    body = problem(client.get("/api/v1/log/checkpoints/6"), 404, "tree_size")
    assert "超出最新检查点" in body["detail"] and "5" in body["detail"]
    assert "没有树大小为 4" in problem(client.get("/api/v1/log/checkpoints/4"), 404, "tree_size")["detail"]
    problem(client.get("/api/v1/log/inclusion-proofs/0?tree_size=9"), 404, "tree_size")
    problem(client.get("/api/v1/log/inclusion-proofs/5"), 404, "leaf_index")
    problem(client.get("/api/v1/log/checkpoints/99999999999999999999999"), 404, "tree_size")
    problem(client.get("/api/v1/log/inclusion-proofs/0?tree_size=0"), 422, "tree_size")
    problem(client.get("/api/v1/log/inclusion-proofs/0?tree_size=abc"), 422, "tree_size")


def test_consistency_between_published_checkpoints(client, sealed):
    r = client.get("/api/v1/log/consistency-proofs?first=3&second=5")
    assert r.status_code == 200
    body = r.json()
    assert rules.verify_consistency(3, 5, bytes.fromhex(body["first"]["root_hash"]),
                                    bytes.fromhex(body["second"]["root_hash"]),
                                    [bytes.fromhex(h) for h in body["consistency_path"]])
    assert client.get("/api/v1/log/consistency-proofs?first=3").json()["second"]["tree_size"] == 5
    problem(client.get("/api/v1/log/consistency-proofs?first=5&second=3"), 422, "first")
    problem(client.get("/api/v1/log/consistency-proofs?first=3&second=7"), 404, "second")
    problem(client.get("/api/v1/log/consistency-proofs?first=2&second=5"), 404, "first")
    problem(client.get("/api/v1/log/consistency-proofs"), 422, "first")


def test_checkpoints_and_leaves(client, sealed):
    listed = client.get("/api/v1/log/checkpoints").json()
    assert [cp["tree_size"] for cp in listed] == [5, 3]
    assert [cp["tree_size"] for cp in client.get("/api/v1/log/checkpoints?before=5").json()] == [3]
    assert client.get("/api/v1/log/checkpoints/latest").json()["consistency"] == listed[0]["consistency"]
    leaves = client.get("/api/v1/log/leaves?start=1&limit=3").json()
    assert [leaf["index"] for leaf in leaves] == [1, 2, 3]
    problem(client.get("/api/v1/log/leaves?limit=0"), 422, "limit")


def test_an_empty_log_answers_404(client):
    assert "尚未封存" in problem(client.get("/api/v1/log/checkpoints/latest"), 404, "tree_size")["detail"]
