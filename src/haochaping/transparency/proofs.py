"""Answers about the published log: checkpoints, leaves, inclusion and consistency proofs (read-only).

Every proof is against a published checkpoint; a size that is not one, or is beyond the latest, is refused
(problem details naming the field), never answered with a tree nobody signed."""

from __future__ import annotations

from dataclasses import dataclass

from haochaping.core.problems import DomainError, invalid, not_found
from haochaping.evaluation.models import Evaluation

from . import rules
from .models import Checkpoint, LogLeaf, checkpoint_text
from .store import TileReader

MAX_LEAVES = 1000


def checkpoint_dict(cp: Checkpoint) -> dict:
    return {
        "tree_size": cp.tree_size, "root_hash": cp.root_hash, "signed_at": cp.signed_at, "origin": cp.origin,
        "public_key": cp.public_key, "signature": cp.signature, "text": checkpoint_text(cp),
        "previous_size": cp.previous_size, "consistency": cp.consistency,
    }


def latest() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-tree_size").first()


def checkpoint(tree_size: int | None, field: str = "tree_size") -> Checkpoint:
    """The published checkpoint of ``tree_size`` (the latest when None)."""
    newest = latest()
    if newest is None:
        raise not_found("日志尚未封存任何检查点", field)
    if tree_size is None:
        return newest
    if tree_size > newest.tree_size:
        raise not_found(f"树大小 {tree_size} 超出最新检查点（树大小 {newest.tree_size}）", field)
    found = Checkpoint.objects.filter(tree_size=tree_size).first()
    if found is None:
        raise not_found(f"没有树大小为 {tree_size} 的已公布检查点", field)
    return found


@dataclass
class Inclusion:
    leaf: LogLeaf
    checkpoint: Checkpoint
    path: list[str]

    def as_dict(self) -> dict:
        return {"leaf_index": self.leaf.index, "leaf": self.leaf.body, "kind": self.leaf.kind,
                "leaf_hash": rules.leaf_hash(self.leaf.body.encode()).hex(), "tree_size": self.checkpoint.tree_size,
                "audit_path": self.path, "checkpoint": checkpoint_dict(self.checkpoint)}


def inclusion(leaf_index: int, tree_size: int | None = None) -> Inclusion:
    """The audit path of leaf ``leaf_index`` in the published checkpoint of ``tree_size`` (latest when None)."""
    if leaf_index < 0:
        raise invalid("叶子序号不能为负数", "leaf_index")
    cp = checkpoint(tree_size)
    if leaf_index >= cp.tree_size:
        raise not_found(f"叶子 {leaf_index} 不在树大小为 {cp.tree_size} 的检查点中", "leaf_index")
    leaf = LogLeaf.objects.filter(index=leaf_index).first()
    if leaf is None:  # only when a row was deleted behind the application's back: `haochaping verify_log` names it
        raise not_found(f"叶子 {leaf_index} 的记录缺失，请联系管理员运行日志核验", "leaf_index")
    path = rules.inclusion_path(leaf_index, cp.tree_size, TileReader().subtree())
    return Inclusion(leaf, cp, rules.hexes(path))


def sealed_leaf(evaluation: Evaluation) -> LogLeaf | None:
    return LogLeaf.objects.filter(evaluation_id=evaluation.pk).first()


def inclusion_by_receipt(code: str, tree_size: int | None = None) -> Inclusion:
    """The inclusion proof of the evaluation behind a receipt code. 404 for an unknown code; 404 ``not_sealed``
    until the next checkpoint seals it; a ``tree_size`` before its leaf is refused (422)."""
    code = (code or "").strip().upper()
    evaluation = Evaluation.objects.one_by(receipt_code=code).only("pk").first() if code else None
    if evaluation is None:
        raise not_found("没有这个评价回执码，请核对后重试", "receipt_code")
    leaf = sealed_leaf(evaluation)
    if leaf is None:
        raise DomainError(404, "尚未封存", "该评价尚未封存进检查点，下一个检查点封存后即可核验", "receipt_code",
                          code="not_sealed")
    newest = latest()
    if tree_size is None and newest is not None and newest.tree_size <= leaf.index:
        raise DomainError(404, "尚未封存", "该评价尚未封存进检查点，下一个检查点封存后即可核验", "receipt_code",
                          code="not_sealed")
    if tree_size is not None and tree_size <= leaf.index:
        checkpoint(tree_size)  # an unknown size is a 404 first
        raise invalid(f"该评价（叶子 {leaf.index}）在树大小为 {tree_size} 的检查点之后才封存", "tree_size")
    return inclusion(leaf.index, tree_size)


def consistency(first: int, second: int | None = None) -> dict:
    """The consistency proof between two published checkpoints (``second`` defaults to the latest)."""
    if first < 1:
        raise invalid("first 应为正整数（已公布检查点的树大小）", "first")
    later = checkpoint(second, "second")
    if first > later.tree_size:
        raise invalid(f"first（{first}）不能大于 second（{later.tree_size}）", "first")
    earlier = checkpoint(first, "first")
    path = rules.consistency_path(earlier.tree_size, later.tree_size, TileReader().subtree())
    return {"first": checkpoint_dict(earlier), "second": checkpoint_dict(later), "consistency_path": rules.hexes(path)}


def leaves(start: int, limit: int) -> list[LogLeaf]:
    """Leaves ``start`` … (at most ``limit``, at most MAX_LEAVES), only those inside the latest checkpoint."""
    if start < 0:
        raise invalid("start 不能为负数", "start")
    if not 1 <= limit <= MAX_LEAVES:
        raise invalid(f"limit 应在 1 至 {MAX_LEAVES} 之间", "limit")
    newest = latest()
    end = min(start + limit, newest.tree_size if newest else 0)
    return list(LogLeaf.objects.filter(index__gte=start, index__lt=end).order_by("index"))
