"""The log's arithmetic (transparency.rules) against fixed vectors (tests/transparency/vectors.py) and against
RFC 9162's definitions for every tree up to 70 leaves; forged and truncated proofs fail."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haochaping.core import signing
from haochaping.transparency import rules

from . import vectors as v

HASHES = [bytes.fromhex(h) for h in v.LEAF_HASHES]


def test_sm3_is_the_standard_sm3():
    assert rules.sm3(b"abc").hex() == v.SM3_ABC
    assert rules.root_of([]).hex() == v.SM3_EMPTY


def test_leaf_hashes_use_the_leaf_prefix():
    assert [rules.leaf_hash(leaf).hex() for leaf in v.LEAVES] == v.LEAF_HASHES
    # Without domain separation a leaf could pose as a node: the prefixes differ, so the hashes do.
    assert rules.leaf_hash(HASHES[0] + HASHES[1]) != rules.node_hash(HASHES[0], HASHES[1])


@pytest.mark.parametrize("size", range(1, 8))
def test_roots_of_every_prefix(size):
    assert rules.root_of(HASHES[:size]).hex() == v.ROOTS[size]
    frontier = rules.Frontier()
    for h in HASHES[:size]:
        frontier.append(h)
    assert frontier.root().hex() == v.ROOTS[size]


def test_inclusion_proof_vector():
    path = rules.inclusion_path(3, 7, rules.subtree_of(HASHES))
    assert rules.hexes(path) == v.INCLUSION_3_OF_7
    assert rules.verify_inclusion(3, 7, HASHES[3], path, bytes.fromhex(v.ROOTS[7]))


def test_consistency_proof_vectors():
    subtree = rules.subtree_of(HASHES)
    assert rules.hexes(rules.consistency_path(3, 7, subtree)) == v.CONSISTENCY_3_TO_7
    assert rules.hexes(rules.consistency_path(4, 7, subtree)) == v.CONSISTENCY_4_TO_7
    for first, proof in ((3, v.CONSISTENCY_3_TO_7), (4, v.CONSISTENCY_4_TO_7)):
        assert rules.verify_consistency(first, 7, bytes.fromhex(v.ROOTS[first]), bytes.fromhex(v.ROOTS[7]),
                                        [bytes.fromhex(h) for h in proof])


def test_forged_and_truncated_inclusion_proofs_fail():
    path = [bytes.fromhex(h) for h in v.INCLUSION_3_OF_7]
    root = bytes.fromhex(v.ROOTS[7])
    assert not rules.verify_inclusion(3, 7, HASHES[3], path[:-1], root)  # truncated
    assert not rules.verify_inclusion(3, 7, HASHES[3], [*path, path[0]], root)  # one too many
    assert not rules.verify_inclusion(3, 7, HASHES[3], [path[0][:-1] + b"\x00", *path[1:]], root)  # forged hash
    assert not rules.verify_inclusion(2, 7, HASHES[3], path, root)  # another index
    assert not rules.verify_inclusion(3, 7, HASHES[4], path, root)  # another leaf
    assert not rules.verify_inclusion(7, 7, HASHES[3], path, root)  # beyond the tree


def test_forged_and_truncated_consistency_proofs_fail():
    proof = [bytes.fromhex(h) for h in v.CONSISTENCY_3_TO_7]
    r3, r7 = bytes.fromhex(v.ROOTS[3]), bytes.fromhex(v.ROOTS[7])
    assert not rules.verify_consistency(3, 7, r3, r7, proof[:-1])
    assert not rules.verify_consistency(3, 7, r3, r7, list(reversed(proof)))
    assert not rules.verify_consistency(3, 7, bytes.fromhex(v.ROOTS[4]), r7, proof)  # a rewritten history
    assert not rules.verify_consistency(3, 7, r3, bytes.fromhex(v.ROOTS[6]), proof)
    assert not rules.verify_consistency(0, 7, r3, r7, proof)
    assert not rules.verify_consistency(7, 3, r7, r3, proof)
    assert rules.verify_consistency(7, 7, r7, r7, []) and not rules.verify_consistency(7, 7, r7, r7, [r7])


def test_every_proof_of_every_small_tree_agrees_with_rfc_9162():
    for n in range(1, 71):
        leaves = [rules.leaf_hash(str(i).encode()) for i in range(n)]
        subtree = rules.subtree_of(leaves)
        root = subtree(0, n)
        for m in range(n):
            assert rules.verify_inclusion(m, n, leaves[m], rules.inclusion_path(m, n, subtree), root)
        for m in range(1, n + 1):
            assert rules.verify_consistency(m, n, subtree(0, m), root, rules.consistency_path(m, n, subtree))


def test_stored_tiles_give_the_same_subtrees_as_the_whole_list():
    # 3 full tiles and a part: nodes at height 8 come from "storage", those in between are computed.
    leaves = [rules.leaf_hash(str(i).encode()) for i in range(3 * rules.TILE_WIDTH + 77)]
    stored = {0: leaves, 1: [rules.perfect_root(leaves[i:i + 256]) for i in range(0, 3 * 256, 256)]}
    tiled = rules.tiled_subtree(lambda level, index: stored[level][index])
    plain = rules.subtree_of(leaves)
    for size in (1, 255, 256, 257, 512, 700, len(leaves)):
        assert tiled(0, size) == plain(0, size)
        assert rules.inclusion_path(size - 1, size, tiled) == rules.inclusion_path(size - 1, size, plain)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 600), st.data())
def test_proofs_over_tiles_verify(size, data):
    leaves = [rules.leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    stored = {0: leaves, 1: [rules.perfect_root(leaves[i:i + 256]) for i in range(0, size - size % 256, 256)]}
    tiled = rules.tiled_subtree(lambda level, index: stored[level][index])
    root = rules.root_of(leaves)
    m = data.draw(st.integers(0, size - 1))
    first = data.draw(st.integers(1, size))
    assert rules.verify_inclusion(m, size, leaves[m], rules.inclusion_path(m, size, tiled), root)
    assert rules.verify_consistency(first, size, rules.root_of(leaves[:first]), root,
                                    rules.consistency_path(first, size, tiled))


def test_leaf_shapes_are_canonical():
    leaf = rules.evaluation_leaf(day="2026-12-05", region="370102", department="11370102MB1234567X",
                                 item="11370102MB1234567X3000111000", stage="complete", type_="active",
                                 channel="kiosk", level=5, digest="0" * 64)
    assert leaf.decode() == v.EVALUATION_LEAF
    assert rules.exclusion_leaf(day="2026-12-06", evaluation_index=3, reason="appeal_upheld",
                                digest="1" * 64).decode() == v.EXCLUSION_LEAF
    assert rules.exclusion_digest(evaluation_digest="0" * 64, reason="appeal_upheld", source="appeal:12", note="",
                                  actor=7, at="2026-12-06T01:02:03Z") == v.EXCLUSION_DIGEST


def test_checkpoint_text_and_its_sm2_signature():
    text = rules.checkpoint_text(origin="https://hcp.example.gov.cn", tree_size=7, root_hash=v.ROOTS[7],
                                 timestamp="2026-12-06T01:00:00Z")
    assert text == v.CHECKPOINT_TEXT
    assert signing.public_key_of(v.SM2_PRIVATE_KEY) == v.SM2_PUBLIC_KEY
    assert signing.verify(text.encode(), v.SM2_SIGNATURE, v.SM2_PUBLIC_KEY)
    assert not signing.verify(text.replace("\n7\n", "\n8\n").encode(), v.SM2_SIGNATURE, v.SM2_PUBLIC_KEY)
    fresh = signing.sign(text.encode(), private_key=v.SM2_PRIVATE_KEY)
    assert fresh != v.SM2_SIGNATURE and signing.verify(text.encode(), fresh, v.SM2_PUBLIC_KEY)  # random nonce


def test_inclusion_path_refuses_an_index_outside_the_tree():
    with pytest.raises(ValueError):
        rules.inclusion_path(7, 7, rules.subtree_of(HASHES))
    with pytest.raises(ValueError):
        rules.consistency_path(0, 7, rules.subtree_of(HASHES))
