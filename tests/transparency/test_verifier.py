"""tools/verify_log.py, the independent verifier, on the portal's own open data and the API's proofs: everything
matches on an honest node; a forged or truncated proof, a forged signature, a changed leaf and an altered figures row
each fail loudly, naming what did not match. It imports nothing of the project."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache

from haochaping.evaluation import services as evaluation_services
from haochaping.transparency import services

pytestmark = pytest.mark.django_db

TOOL = Path(__file__).resolve().parents[2] / "tools" / "verify_log.py"


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-I", str(TOOL), *map(str, args)], capture_output=True, text=True, timeout=120)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def published(client, rate, tmp_path):
    """An honest node's files: checkpoints, leaves, figures (by department and by month) and a receipt's proof."""
    cache.clear()
    evs = [rate(level=lv) for lv in (5, 5, 4, 1, 2)]
    services.seal()
    evaluation_services.exclude_evaluation(evs[3].pk, reason="malicious", source="case:1", actor=None)
    evs.append(rate(level=3))
    services.seal()
    files = {}
    for name, url in (("checkpoints.json", "/public/opendata/log/checkpoints.json"),
                      ("leaves.jsonl", "/public/opendata/log/leaves.jsonl"),
                      ("figures.json", "/public/opendata/figures.json?by=department"),
                      ("months.json", "/public/opendata/figures.json?by=month"),
                      ("regions.json", "/public/opendata/figures.json?by=region"),
                      ("rankings.json", "/public/opendata/rankings.json")):
        response = client.get(url)
        assert response.status_code == 200, url
        files[name] = tmp_path / name
        files[name].write_bytes(body(response))
    proof = client.post("/api/v1/log/inclusion-proofs", {"receipt_code": evs[0].receipt_code},
                        content_type="application/json")
    files["proof.json"] = tmp_path / "proof.json"
    files["proof.json"].write_bytes(proof.content)
    files["evaluations"] = evs
    return files


def test_the_tool_imports_only_the_standard_library_cryptography_and_gmssl():
    tree = ast.parse(TOOL.read_text())
    roots = {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    roots |= {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert roots - set(sys.stdlib_module_names) == {"cryptography", "gmssl"}


def test_an_honest_node_passes_every_check(published):
    from haochaping.core import signing

    key = signing.node_public_key()
    digest = published["evaluations"][0].leaf_hash
    for args in (("receipt", published["proof.json"], "--public-key", key, "--digest", digest),
                 ("checkpoints", published["checkpoints.json"], "--leaves", published["leaves.jsonl"]),
                 ("figures", published["checkpoints.json"], published["leaves.jsonl"], published["figures.json"]),
                 ("figures", published["checkpoints.json"], published["leaves.jsonl"], published["months.json"]),
                 ("figures", published["checkpoints.json"], published["leaves.jsonl"], published["regions.json"]),
                 ("figures", published["checkpoints.json"], published["leaves.jsonl"], published["rankings.json"])):
        result = run(*args)
        assert result.returncode == 0, (args[0], result.stderr)
        assert "OK: everything matched" in result.stdout
    for name in ("figures.json", "months.json", "regions.json"):  # group rows, not only the total, were recounted
        assert len(json.loads(published[name].read_text())["rows"]) > 1, name
    figures = json.loads(published["figures.json"].read_text())
    total = figures["rows"][0]
    assert (total["evaluations"], total["excluded"], figures["log_tree_size"]) == (5, 1, 7)


def test_a_forged_or_truncated_proof_fails(published, tmp_path):
    proof = json.loads(published["proof.json"].read_text())
    truncated = dict(proof, audit_path=proof["audit_path"][:-1])
    forged = dict(proof, audit_path=["0" * 64, *proof["audit_path"][1:]])
    changed_leaf = dict(proof, leaf=proof["leaf"].replace('"level":5', '"level":1'))
    for name, doc, expected in (("truncated", truncated, "audit_path has the wrong length"),
                                ("forged", forged, "leads to root"),
                                ("leaf", changed_leaf, "leads to root")):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(doc))
        result = run("receipt", path)
        assert result.returncode == 1 and expected in result.stderr and "FAILED" in result.stderr, name
    result = run("receipt", published["proof.json"], "--digest", "ab" * 32)
    assert result.returncode == 1 and "is not the receipt's 存证摘要" in result.stderr
    (tmp_path / "junk.json").write_text('{"leaf": 1}')
    result = run("receipt", tmp_path / "junk.json")
    assert result.returncode == 2 and "UNUSABLE INPUT" in result.stderr


def test_a_forged_signature_or_another_key_fails(published, tmp_path):
    doc = json.loads(published["checkpoints.json"].read_text())
    doc["checkpoints"][0]["signature"] = doc["checkpoints"][1]["signature"]
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(doc))
    result = run("checkpoints", path)
    assert result.returncode == 1 and "checkpoint 5: SM2 signature does not verify" in result.stderr
    result = run("checkpoints", published["checkpoints.json"], "--public-key", "ab" * 64)
    assert result.returncode == 1 and "not the expected key" in result.stderr


def test_a_changed_or_missing_leaf_in_the_export_fails(published, tmp_path):
    lines = published["leaves.jsonl"].read_text().splitlines()
    lines[1] = lines[1].replace('"level":5', '"level":1')
    path = tmp_path / "leaves.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = run("checkpoints", published["checkpoints.json"], "--leaves", path)
    assert result.returncode == 1
    assert "checkpoint 5: the leaves file gives root" in result.stderr
    assert "checkpoint 7: the leaves file gives root" in result.stderr
    path.write_text("\n".join(lines[:6]) + "\n")
    result = run("checkpoints", published["checkpoints.json"], "--leaves", path)
    assert result.returncode == 1 and "checkpoints [7] are larger" in result.stderr


def test_an_altered_figures_row_is_named(published, tmp_path):
    doc = json.loads(published["figures.json"].read_text())
    doc["rows"][1]["good"] += 1
    doc["rows"][1]["good_rate"] = 0.99
    path = tmp_path / "altered.json"
    path.write_text(json.dumps(doc, ensure_ascii=False))
    result = run("figures", published["checkpoints.json"], published["leaves.jsonl"], path)
    assert result.returncode == 1
    key = doc["rows"][1]["key"]
    assert f"row 2 (department {key}): good is 4 in the file, 3 in the log" in result.stderr
    assert f"row 2 (department {key}): good_rate is 0.99 in the file" in result.stderr


def test_a_figures_file_naming_an_unknown_checkpoint_fails(published, tmp_path):
    doc = json.loads(published["figures.json"].read_text())
    doc["log_tree_size"] = 6
    path = tmp_path / "figures.json"
    path.write_text(json.dumps(doc, ensure_ascii=False))
    result = run("figures", published["checkpoints.json"], published["leaves.jsonl"], path)
    assert result.returncode == 1 and "log_tree_size 6 is no checkpoint" in result.stderr
