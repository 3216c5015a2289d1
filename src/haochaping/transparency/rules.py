"""The verifiable evaluation log's arithmetic (R8.1, R6.3): pure, no I/O. docs/verifiable-log.md is its spec.

* The tree is RFC 9162's (§2.1): leaves hash as ``SM3(0x00 || leaf)``, nodes as ``SM3(0x01 || left || right)``, a
  tree of n leaves splits at the largest power of two below n. The hash is SM3 instead of SHA-256.
* A leaf is canonical JSON (keys sorted, no spaces, UTF-8) of public fields plus ``digest``, the SM3 of what must
  not be published (:func:`evaluation_leaf`, :func:`exclusion_leaf`).
* A checkpoint (树头) is the text of :func:`checkpoint_text`, signed with SM2.
* Proofs are RFC 9162's inclusion and consistency proofs (§2.1.3, §2.1.4), built over a ``subtree(a, b)`` callback
  so that the caller decides where hashes come from (stored tiles, a list in memory).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence

from cryptography.hazmat.primitives import hashes

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
LEAF_VERSION = 1
CHECKPOINT_HEADER = "haochaping-log/v1"
# Stored perfect subtrees: every node whose height is a multiple of TILE_HEIGHT, in tiles of TILE_WIDTH hashes.
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT

Subtree = Callable[[int, int], bytes]


def sm3(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def leaf_hash(leaf: bytes) -> bytes:
    return sm3(LEAF_PREFIX + leaf)


def node_hash(left: bytes, right: bytes) -> bytes:
    return sm3(NODE_PREFIX + left + right)


def split(n: int) -> int:
    """The largest power of two strictly below ``n`` (n >= 2): where RFC 9162 splits a tree of n leaves."""
    return 1 << ((n - 1).bit_length() - 1)


def canonical(doc: dict) -> bytes:
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


# --- leaves -----------------------------------------------------------------------------------------------------


def evaluation_leaf(*, day: str, region: str, department: str, item: str, stage: str, type_: str, channel: str,
                    level: int, digest: str) -> bytes:
    """An evaluation's leaf: what the published figures count (day in Beijing time, the rated region, department
    and item by their public codes, stage, type, channel, level) and ``digest``, the evaluation's 存证摘要
    (``Evaluation.leaf_hash``: SM3 over receipt code, 办件编号, labels, comment, exact time …). The receipt code
    inside the digest is 60 random bits, so the digest of a short comment cannot be guessed from outside."""
    return canonical({
        "v": LEAF_VERSION, "kind": "evaluation", "day": day, "region": region, "department": department,
        "item": item, "stage": stage, "type": type_, "channel": channel, "level": int(level), "digest": digest,
    })


def exclusion_digest(*, evaluation_digest: str, reason: str, source: str, note: str, actor: int | None, at: str) -> str:
    """SM3 over the exclusion's private part (its grounds and note may name people): hex."""
    return sm3(canonical({"evaluation_digest": evaluation_digest, "reason": reason, "source": source, "note": note,
                          "actor": actor, "at": at})).hex()


def exclusion_leaf(*, day: str, evaluation_index: int, reason: str, digest: str) -> bytes:
    """An exclusion's leaf: which evaluation leaf no longer counts, why (the reason code), since which day."""
    return canonical({"v": LEAF_VERSION, "kind": "exclusion", "day": day, "evaluation": int(evaluation_index),
                      "reason": reason, "digest": digest})


def checkpoint_text(*, origin: str, tree_size: int, root_hash: str, timestamp: str) -> str:
    """The signed bytes of a checkpoint, as text: header, origin, size, root (hex), time (UTC, seconds, ``Z``)."""
    return f"{CHECKPOINT_HEADER}\n{origin}\n{tree_size}\n{root_hash}\n{timestamp}\n"


# --- trees ------------------------------------------------------------------------------------------------------


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes (RFC 9162 §2.1.1); the empty tree's root is SM3 of nothing."""
    if not leaf_hashes:
        return sm3(b"")
    return subtree_of(leaf_hashes)(0, len(leaf_hashes))


def subtree_of(leaf_hashes: Sequence[bytes]) -> Subtree:
    """``subtree(a, b)`` = MTH of leaves [a, b) of an in-memory list (tests, the verifier, small trees)."""

    def subtree(a: int, b: int) -> bytes:
        if b - a == 1:
            return leaf_hashes[a]
        k = split(b - a)
        return node_hash(subtree(a, a + k), subtree(a + k, b))

    return subtree


def perfect_root(hashes_: Sequence[bytes]) -> bytes:
    """Root of a perfect subtree over 2^k node hashes of one height (how a full tile becomes one node above)."""
    level = list(hashes_)
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def tiled_subtree(entry: Callable[[int, int], bytes]) -> Subtree:
    """``subtree(a, b)`` over stored tiles: ``entry(L, j)`` is the hash of the perfect node at height
    ``L * TILE_HEIGHT`` with index ``j``; nodes in between are computed from at most 2^(TILE_HEIGHT-1) of them.
    Only ranges inside the stored tree may be asked (their perfect nodes are then complete)."""
    memo: dict[tuple[int, int], bytes] = {}

    def node(height: int, index: int) -> bytes:
        if height % TILE_HEIGHT == 0:
            return entry(height // TILE_HEIGHT, index)
        key = (height, index)
        if key not in memo:
            memo[key] = node_hash(node(height - 1, 2 * index), node(height - 1, 2 * index + 1))
        return memo[key]

    def subtree(a: int, b: int) -> bytes:
        n = b - a
        if n & (n - 1) == 0 and a % n == 0:
            return node(n.bit_length() - 1, a // n)
        k = split(n)
        return node_hash(subtree(a, a + k), subtree(a + k, b))

    return subtree


class Frontier:
    """The right edge of a growing tree (its perfect subtrees, largest first): append leaves one by one and read the
    root of every prefix in O(log n), in O(log n) memory. What a replay of 10^6 leaves needs."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # (height, hash)

    def append(self, leaf_hash_: bytes) -> None:
        height, h = 0, leaf_hash_
        while self._stack and self._stack[-1][0] == height:
            _h, left = self._stack.pop()
            h = node_hash(left, h)
            height += 1
        self._stack.append((height, h))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return sm3(b"")
        h = self._stack[-1][1]
        for _height, left in reversed(self._stack[:-1]):
            h = node_hash(left, h)
        return h


# --- proofs (RFC 9162 §2.1.3, §2.1.4) -----------------------------------------------------------------------------


def inclusion_path(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """PATH(index, D[size]): the audit path of leaf ``index`` in the tree of the first ``size`` leaves."""
    if not 0 <= index < size:
        raise ValueError("leaf index outside the tree")
    path: list[bytes] = []
    a, b = 0, size
    while b - a > 1:
        k = split(b - a)
        if index < a + k:
            path.append(subtree(a + k, b))
            b = a + k
        else:
            path.append(subtree(a, a + k))
            a = a + k
    path.reverse()  # deepest sibling first
    return path


def consistency_path(first: int, second: int, subtree: Subtree) -> list[bytes]:
    """PROOF(first, D[second]): that the tree of ``first`` leaves is a prefix of the tree of ``second``."""
    if not 0 < first <= second:
        raise ValueError("consistency needs 0 < first <= second")
    out: list[bytes] = []

    def sub(m: int, a: int, b: int, whole: bool) -> None:
        n = b - a
        if m == n:
            if not whole:
                out.append(subtree(a, b))
            return
        k = split(n)
        if m <= k:
            sub(m, a, a + k, whole)
            out.append(subtree(a + k, b))
        else:
            sub(m - k, a + k, b, False)
            out.append(subtree(a, a + k))

    sub(first, 0, second, True)
    return out


def root_from_inclusion(index: int, size: int, leaf_hash_: bytes, path: Sequence[bytes]) -> bytes | None:
    """The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or None when the path has the wrong length."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf_hash_
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(index: int, size: int, leaf_hash_: bytes, path: Sequence[bytes], root: bytes) -> bool:
    return root_from_inclusion(index, size, leaf_hash_, path) == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2, for 0 < first <= second."""
    if not 0 < first <= second:
        return False
    if first == second:
        return not path and first_root == second_root
    path = list(path)
    if first & (first - 1) == 0:
        path = [first_root, *path]
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


def hexes(items: Iterable[bytes]) -> list[str]:
    return [h.hex() for h in items]
