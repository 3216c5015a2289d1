"""Sealing: leaves in order, exclusions as leaves of their own, stored tiles that reproduce the tree across seals,
signed checkpoints, nothing on the write path, the worker's schedule, history import sealed like live rows."""

from __future__ import annotations

import json

import pytest

from haochaping.core import schedule, signing
from haochaping.evaluation import services as evaluation_services
from haochaping.transparency import rules, services
from haochaping.transparency.models import Checkpoint, LogLeaf, LogTile, checkpoint_text
from haochaping.transparency.store import TileReader, TileWriter
from tests.exchange.test_import import history, run_import  # noqa: F401 (a fixture and its helper)

pytestmark = pytest.mark.django_db


def bodies() -> list[dict]:
    return [json.loads(b) for b in LogLeaf.objects.order_by("index").values_list("body", flat=True)]


def test_writing_an_evaluation_writes_nothing_to_the_log(rate):
    rate(level=5)
    assert not LogLeaf.objects.exists() and not Checkpoint.objects.exists()


def test_a_seal_gives_each_new_evaluation_a_leaf_and_signs_the_head(rate, org, item):
    evs = [rate(level=lv) for lv in (5, 1, 3)]
    cp = services.seal()
    assert cp.tree_size == 3 and cp.previous_size == 0
    leaves = bodies()
    assert [leaf["digest"] for leaf in leaves] == [ev.leaf_hash for ev in evs]
    assert [leaf["level"] for leaf in leaves] == [5, 1, 3]
    first = leaves[0]
    assert first == {"v": 1, "kind": "evaluation", "day": evs[0].created_at.astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Shanghai")).date().isoformat(), "region": org.county.code,
        "department": org.department.credit_code, "item": item.implementation_code, "stage": "complete",
        "type": "active", "channel": "kiosk", "level": 5, "digest": evs[0].leaf_hash}
    # No comment, receipt code or 办件编号 in what is published.
    published = "".join(LogLeaf.objects.values_list("body", flat=True))
    for private in (evs[1].comment, evs[1].receipt_code, evs[1].record.project_no):
        assert private not in published
    assert cp.root_hash == rules.root_of([rules.leaf_hash(json.dumps(b, sort_keys=True, ensure_ascii=False,
                                                                      separators=(",", ":")).encode()) for b in leaves]).hex()
    assert signing.verify(checkpoint_text(cp).encode(), cp.signature, signing.node_public_key())
    assert services.seal() is None  # nothing new: no empty checkpoint
    assert Checkpoint.objects.count() == 1


def test_an_exclusion_is_a_leaf_naming_the_evaluation_and_the_reason(rate):
    bad = rate(level=1)
    services.seal()
    evaluation_services.exclude_evaluation(bad.pk, reason="malicious", source="case:1", actor=None,
                                           note="经核实为恶意差评（张三）")
    cp = services.seal()
    assert cp.tree_size == 2 and cp.previous_size == 1
    leaf = bodies()[1]
    assert leaf["kind"] == "exclusion" and leaf["evaluation"] == 0 and leaf["reason"] == "malicious"
    assert "张三" not in LogLeaf.objects.get(index=1).body  # the note stays private, inside the digest
    assert rules.verify_consistency(1, 2, bytes.fromhex(Checkpoint.objects.get(tree_size=1).root_hash),
                                    bytes.fromhex(cp.root_hash), [bytes.fromhex(h) for h in cp.consistency])


def test_an_evaluation_and_its_exclusion_sealed_together_come_in_that_order(rate):
    rate(level=5)
    bad = rate(level=2)
    evaluation_services.exclude_evaluation(bad.pk, reason="mistaken", source="case:2", actor=None)
    services.seal()
    assert [(b["kind"], b.get("evaluation")) for b in bodies()] == [("evaluation", None), ("evaluation", None),
                                                                    ("exclusion", 1)]


def test_tiles_written_over_many_seals_reproduce_the_tree():
    # Seal-sized batches of synthetic leaf hashes: crossing tile boundaries, filling a partial tile, 1 leaf at a time.
    all_hashes: list[bytes] = []
    for batch in (1, 254, 1, 1, 300, 10, 2 * rules.TILE_WIDTH - 11, 1):
        writer = TileWriter(len(all_hashes))
        for _ in range(batch):
            h = rules.leaf_hash(len(all_hashes).to_bytes(4, "big"))
            all_hashes.append(h)
            writer.append(h)
        writer.flush()
        size = len(all_hashes)
        assert TileReader().subtree()(0, size) == rules.root_of(all_hashes), size
    assert LogTile.objects.filter(level=1).count() == 1  # 1082 leaves: four level-8 nodes, in one level-1 tile
    reader = TileReader().subtree()
    assert rules.inclusion_path(700, len(all_hashes), reader) == rules.inclusion_path(
        700, len(all_hashes), rules.subtree_of(all_hashes))


def test_the_worker_seals_every_fifteen_minutes():
    schedule.autodiscover()
    entry = next(p for p in schedule.registered() if p.name.endswith("transparency.tasks.seal_log"))
    assert entry.every.total_seconds() == 15 * 60


def test_the_seal_task_seals(rate):
    from haochaping.transparency.tasks import seal_log

    rate(level=4)
    assert seal_log.call() == 1
    assert seal_log.call() == 0


def test_history_import_is_sealed_with_its_original_day_and_replays(db, history):  # noqa: F811
    from haochaping.transparency import replay

    run_import(history, kind="evaluations", shape="national-pf7-default")
    services.seal()
    leaves = bodies()
    assert {leaf["day"] for leaf in leaves} == {"2025-06-03"}
    assert sorted(leaf["channel"] for leaf in leaves).count("system_default") == 1
    assert replay.replay().ok
