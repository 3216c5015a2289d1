#!/usr/bin/env python3
"""Independent verifier of a haochaping node's evaluation log (docs/verifiable-log.md is its specification).

It does not import the project: Python's standard library, `cryptography` for SM3 and `gmssl` for SM2.
Every input may be a file or an http(s) address (the portal's open data or the API).

  verify_log.py receipt PROOF [--public-key HEX] [--digest HEX]
      an inclusion proof as /api/v1/log/inclusion-proofs answers it: the leaf climbs its audit path to the
      checkpoint's root, and the checkpoint's text and SM2 signature are right.
  verify_log.py checkpoints CHECKPOINTS [--public-key HEX] [--leaves LEAVES]
      /public/opendata/log/checkpoints.json: every signature, every consistency proof from the previous
      checkpoint; with the leaves file (/public/opendata/log/leaves.jsonl) also every root, recomputed.
  verify_log.py figures CHECKPOINTS LEAVES FIGURES [--public-key HEX]
      the above, then every count of an open-data figures or rankings file (JSON), recounted from the leaves of
      the checkpoint the file names (log_tree_size).

Exit status 0 when everything matched; 1 with one line per mismatch naming what did not match; 2 on unusable input.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from collections import defaultdict

from cryptography.hazmat.primitives import hashes
from gmssl import sm2

HEADER = "haochaping-log/v1"


class Failed(Exception):
    """Input that cannot be checked at all (unreadable, wrong shape)."""


# --- SM3 Merkle tree (RFC 9162 shape) --------------------------------------------------------------------------


def sm3(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def leaf_hash(leaf: bytes) -> bytes:
    return sm3(b"\x00" + leaf)


def node_hash(left: bytes, right: bytes) -> bytes:
    return sm3(b"\x01" + left + right)


def root_from_inclusion(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes | None:
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def consistent(first: int, second: int, first_root: bytes, second_root: bytes, path: list[bytes]) -> bool:
    if not 0 < first <= second:
        return False
    if first == second:
        return not path and first_root == second_root
    if first & (first - 1) == 0:
        path = [first_root, *path]
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_root and sr == second_root and sn == 0


class Frontier:
    """Roots of every prefix of a growing list of leaves, in O(log n) memory."""

    def __init__(self):
        self.size, self.stack = 0, []

    def append(self, h: bytes) -> None:
        height = 0
        while self.stack and self.stack[-1][0] == height:
            h = node_hash(self.stack.pop()[1], h)
            height += 1
        self.stack.append((height, h))
        self.size += 1

    def root(self) -> bytes:
        if not self.stack:
            return sm3(b"")
        h = self.stack[-1][1]
        for _height, left in reversed(self.stack[:-1]):
            h = node_hash(left, h)
        return h


# --- checkpoints ------------------------------------------------------------------------------------------------


def checkpoint_text(cp: dict) -> str:
    return f"{HEADER}\n{cp['origin']}\n{cp['tree_size']}\n{cp['root_hash']}\n{cp['text'].split(chr(10))[4]}\n"


def signature_ok(text: str, signature: str, public_key: str) -> bool:
    if len(signature or "") != 128 or len(public_key or "") != 128:
        return False
    try:
        int(signature, 16), int(public_key, 16)
        # Set after construction: gmssl's constructor lstrips every leading 0 and 4 of a key starting with "04".
        verifier = sm2.CryptSM2(private_key="", public_key="")
        verifier.public_key = public_key.lower()
        return bool(verifier.verify_with_sm3(signature, text.encode()))
    except (ValueError, ZeroDivisionError):
        return False


def hexes(values, what: str) -> list[bytes]:
    try:
        out = [bytes.fromhex(v) for v in values]
    except (TypeError, ValueError):
        raise Failed(f"{what}: not a list of hex hashes") from None
    if any(len(h) != 32 for h in out):
        raise Failed(f"{what}: every hash must be 32 bytes (64 hex digits)")
    return out


def check_checkpoint(cp: dict, public_key: str | None, problems: list[str]) -> None:
    name = f"checkpoint {cp.get('tree_size')}"
    try:
        text = checkpoint_text(cp)
    except (KeyError, IndexError, AttributeError):
        problems.append(f"{name}: text is missing or malformed")
        return
    if text != cp["text"]:
        problems.append(f"{name}: signed text does not state its tree_size/root_hash/origin")
    if public_key and cp.get("public_key", "").lower() != public_key.lower():
        problems.append(f"{name}: signed by key {cp.get('public_key', '')[:16]}…, not the expected key")
    if not signature_ok(cp["text"], cp.get("signature", ""), cp.get("public_key", "")):
        problems.append(f"{name}: SM2 signature does not verify")


# --- input ------------------------------------------------------------------------------------------------------


def read(source: str) -> str:
    try:
        if source.startswith(("http://", "https://")):
            with urllib.request.urlopen(source, timeout=60) as response:  # noqa: S310 (the user's own address)
                return response.read().decode("utf-8")
        with open(source, encoding="utf-8-sig") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise Failed(f"{source}: cannot read ({exc})") from None


def read_json(source: str) -> dict:
    try:
        return json.loads(read(source))
    except json.JSONDecodeError as exc:
        raise Failed(f"{source}: not JSON ({exc})") from None


def read_leaves(source: str) -> list[str]:
    text = read(source)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


# --- commands ---------------------------------------------------------------------------------------------------


def verify_receipt(proof: dict, public_key: str | None, digest: str | None) -> list[str]:
    problems: list[str] = []
    try:
        leaf, index, size = proof["leaf"], int(proof["leaf_index"]), int(proof["tree_size"])
        cp = proof["checkpoint"]
        path = hexes(proof["audit_path"], "audit_path")
        root = bytes.fromhex(cp["root_hash"])
    except (KeyError, TypeError, ValueError) as exc:
        raise Failed(f"proof: missing or malformed field ({exc})") from None
    if size != cp.get("tree_size"):
        problems.append(f"tree_size {size} is not the checkpoint's ({cp.get('tree_size')})")
    got = root_from_inclusion(index, size, leaf_hash(leaf.encode()), path)
    if got is None:
        problems.append(f"audit_path has the wrong length for leaf {index} in a tree of {size}")
    elif got != root:
        problems.append(f"leaf {index}: the audit path leads to root {got.hex()}, the checkpoint says {root.hex()}")
    if digest:
        try:
            found = json.loads(leaf).get("digest")
        except (ValueError, AttributeError):
            found = None
        if found != digest.lower():
            problems.append(f"leaf {index}: digest {found} is not the receipt's 存证摘要 {digest}")
    check_checkpoint(cp, public_key, problems)
    return problems


def verify_checkpoints(document: dict, public_key: str | None, leaves: list[str] | None) -> list[str]:
    problems: list[str] = []
    checkpoints = document.get("checkpoints")
    if not isinstance(checkpoints, list):
        raise Failed("checkpoints file: no 'checkpoints' list")
    previous = None
    for cp in checkpoints:
        check_checkpoint(cp, public_key, problems)
        name = f"checkpoint {cp.get('tree_size')}"
        if previous is not None:
            if cp.get("previous_size") != previous["tree_size"]:
                problems.append(f"{name}: previous_size {cp.get('previous_size')} is not the checkpoint before it "
                                f"({previous['tree_size']})")
            else:
                try:
                    proof = hexes(cp.get("consistency", []), f"{name} consistency")
                    ok = consistent(previous["tree_size"], cp["tree_size"], bytes.fromhex(previous["root_hash"]),
                                    bytes.fromhex(cp["root_hash"]), proof)
                except (Failed, ValueError):
                    ok = False
                if not ok:
                    problems.append(f"{name}: not consistent with checkpoint {previous['tree_size']} "
                                    "(the consistency proof fails: earlier leaves were changed or removed)")
        previous = cp
    if leaves is not None:
        problems += verify_roots(checkpoints, leaves)
    return problems


def verify_roots(checkpoints: list[dict], leaves: list[str]) -> list[str]:
    problems: list[str] = []
    wanted = {cp["tree_size"]: cp["root_hash"] for cp in checkpoints}
    frontier = Frontier()
    for line in leaves:
        frontier.append(leaf_hash(line.encode()))
        if frontier.size in wanted and frontier.root().hex() != wanted[frontier.size]:
            problems.append(f"checkpoint {frontier.size}: the leaves file gives root {frontier.root().hex()}, "
                            f"the checkpoint says {wanted[frontier.size]}")
    beyond = [size for size in wanted if size > len(leaves)]
    if beyond:
        problems.append(f"the leaves file has {len(leaves)} leaves; checkpoints {beyond} are larger")
    return problems


def region_prefix(code: str) -> str:
    code = code.ljust(12, "0")
    for keep in (2, 4, 6, 9):
        if code[keep:] == "0" * (12 - keep):
            return code[:keep]
    return code


def recount(leaves: list[str], document: dict) -> list[str]:
    """Recount an open-data figures/rankings file from the first ``log_tree_size`` leaves."""
    try:
        size = int(document["log_tree_size"])
        region, department = document.get("region_code", ""), document.get("department_code", "")
        day_from, day_to = document["period_from"], document["period_to"]
        rows, dataset = document["rows"], document["dataset"]
    except (KeyError, TypeError, ValueError) as exc:
        raise Failed(f"figures file: missing field ({exc})") from None
    if size > len(leaves):
        raise Failed(f"figures file counts {size} leaves; the leaves file has only {len(leaves)}")
    parsed = [json.loads(line) for line in leaves[:size]]
    excluded = {leaf["evaluation"] for leaf in parsed if leaf.get("kind") == "exclusion"}
    prefix = region_prefix(region) if region else ""
    chosen = [(i, leaf) for i, leaf in enumerate(parsed) if leaf.get("kind") == "evaluation"
              and day_from <= leaf["day"] <= day_to and leaf["region"].startswith(prefix)
              and (not department or leaf["department"] == department)]
    problems: list[str] = []
    for n, row in enumerate(rows, start=1):
        group = row.get("group_by") or document.get("by")
        key = row.get("key") or ""
        if group == "total" or (group in (None, "") and not key):
            members = chosen
        elif group == "region":
            members = [(i, lf) for i, lf in chosen if lf["region"].startswith(region_prefix(key))]
        elif group == "department":
            members = [(i, lf) for i, lf in chosen if lf["department"] == key]
        elif group == "month":
            members = [(i, lf) for i, lf in chosen if lf["day"][:7] == key]
        else:
            problems.append(f"row {n}: unknown grouping {group!r}")
            continue
        t = defaultdict(int)
        level_sum = 0
        for i, lf in members:
            if lf["channel"] == "system_default":
                t["system_default"] += 1
            elif i in excluded:
                t["excluded"] += 1
            else:
                t["evaluations"] += 1
                t["good"] += lf["level"] >= 4
                t["bad"] += lf["level"] <= 2
                level_sum += (lf["level"] - 1) * 25
        t["total"] = t["evaluations"] + t["excluded"] + t["system_default"]
        columns = ("evaluations", "good", "bad", "excluded", "system_default", "total") if dataset == "figures" \
            else ("evaluations", "good")
        for column in columns:
            if column in row and row[column] != t[column]:
                problems.append(f"row {n} ({group} {key or '合计'}): {column} is {row[column]} in the file, "
                                f"{t[column]} in the log")
        valid = t["evaluations"]
        expect = {"good_rate": t["good"] / valid if valid else None, "bad_rate": t["bad"] / valid if valid else None,
                  "satisfaction": level_sum / valid if valid else None}
        for column, value in expect.items():
            if column not in row:
                continue
            got = row[column]
            if (got is None) != (value is None) or (value is not None and abs(float(got) - value) > 1e-6 * max(1, value)):
                problems.append(f"row {n} ({group} {key or '合计'}): {column} is {got} in the file, {value} from the log")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("receipt")
    p.add_argument("proof")
    p.add_argument("--public-key")
    p.add_argument("--digest", help="the 存证摘要 on your receipt page")
    p = sub.add_parser("checkpoints")
    p.add_argument("checkpoints")
    p.add_argument("--public-key")
    p.add_argument("--leaves")
    p = sub.add_parser("figures")
    p.add_argument("checkpoints")
    p.add_argument("leaves")
    p.add_argument("figures")
    p.add_argument("--public-key")
    args = parser.parse_args(argv)
    try:
        if args.command == "receipt":
            problems = verify_receipt(read_json(args.proof), args.public_key, args.digest)
        elif args.command == "checkpoints":
            leaves = read_leaves(args.leaves) if args.leaves else None
            problems = verify_checkpoints(read_json(args.checkpoints), args.public_key, leaves)
        else:
            leaves = read_leaves(args.leaves)
            checkpoints = read_json(args.checkpoints)
            problems = verify_checkpoints(checkpoints, args.public_key, leaves)
            figures = read_json(args.figures)
            sizes = {cp["tree_size"] for cp in checkpoints.get("checkpoints", [])}
            if figures.get("log_tree_size") not in sizes:
                problems.append(f"figures file: log_tree_size {figures.get('log_tree_size')} is no checkpoint in the "
                                "checkpoints file")
            else:
                problems += recount(leaves, figures)
    except Failed as exc:
        print(f"UNUSABLE INPUT: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"MISMATCH: {problem}", file=sys.stderr)
    if problems:
        print(f"FAILED: {len(problems)} mismatch(es)", file=sys.stderr)
        return 1
    print("OK: everything matched")
    return 0


if __name__ == "__main__":
    sys.exit(main())
