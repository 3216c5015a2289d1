"""``haochaping verify_log``: replay every leaf from the database against every published checkpoint (R8.1, R6.3).

Each leaf is rebuilt from the rows it stands for — the evaluation's 存证摘要 recomputed from its content (receipt
code, 办件编号, labels, comment, time …), its public fields from the row — and compared with the stored leaf; the
rebuilt leaves are hashed into the tree again and every checkpoint's root and SM2 signature are checked, and so is
each stored consistency proof. A row changed or deleted behind the application's back is reported with its id.
Read-only; one pass, O(log n) memory for the tree (rules.Frontier)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from types import SimpleNamespace

from haochaping.core import crypto, signing
from haochaping.evaluation.models import Evaluation, EvaluationExclusion
from haochaping.evaluation.services import canonical_bytes

from . import rules, services
from .models import Checkpoint, LeafKind, LogLeaf, checkpoint_text
from .store import TileReader

CHUNK = 2000
CONTENT_FIELDS = ("pk", "receipt_code", "record__project_no", "stage", "type", "channel", "level", "comment",
                  "region_id", "created_at")


@dataclass
class Finding:
    what: str  # evaluation_changed, evaluation_missing, exclusion_changed, exclusion_missing, leaf_missing, …
    detail: str
    leaf_index: int | None = None
    object_id: int | None = None

    def __str__(self) -> str:
        where = f"叶子 {self.leaf_index}" if self.leaf_index is not None else ""
        return f"[{self.what}] {where} {self.detail}".replace("  ", " ")


@dataclass
class ReplayReport:
    leaves: int = 0
    checkpoints: int = 0
    unsealed_evaluations: int = 0
    unsealed_exclusions: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def _differing(stored: str, rebuilt: bytes) -> list[str]:
    try:
        a, b = json.loads(stored), json.loads(rebuilt)
    except ValueError:
        return ["(leaf is not JSON)"]
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def _evaluations(ids: list[int]) -> dict[int, tuple[bytes, str]]:
    """id → (the leaf rebuilt from the row, the digest recomputed from its content)."""
    labels: dict[int, list[str]] = defaultdict(list)
    for evaluation_id, code in Evaluation.labels.through.objects.filter(evaluation_id__in=ids).values_list(
            "evaluation_id", "label_id"):
        labels[evaluation_id].append(code)
    content = {row[0]: row for row in Evaluation.objects.filter(pk__in=ids).values_list(*CONTENT_FIELDS)}
    out = {}
    for row in Evaluation.objects.filter(pk__in=ids).values_list(*services.EVALUATION_FIELDS):
        c = content[row[0]]
        ev = SimpleNamespace(receipt_code=c[1], record=SimpleNamespace(project_no=c[2]), stage=c[3], type=c[4],
                             channel=c[5], level=c[6], comment=c[7], region_id=c[8], created_at=c[9])
        digest = crypto.sm3_hex(canonical_bytes(ev, labels[row[0]]))
        out[row[0]] = (services.evaluation_leaf((*row[:-1], digest)), digest)
    return out


def _exclusions(ids: list[int]) -> dict[int, tuple]:
    rows = EvaluationExclusion.objects.filter(pk__in=ids).values_list(*services.EXCLUSION_FIELDS)
    return {row[0]: row for row in rows}


def replay() -> ReplayReport:
    """Check the whole log against the database and the signed checkpoints; see the module's docstring."""
    report = ReplayReport()
    checkpoints = list(Checkpoint.objects.order_by("tree_size"))
    report.checkpoints = len(checkpoints)
    pending = iter(checkpoints)
    next_cp = next(pending, None)
    previous: Checkpoint | None = None
    frontier = rules.Frontier()
    tiles = TileReader()
    expected_index = 0
    last = -1
    while True:
        chunk = list(LogLeaf.objects.filter(index__gt=last).order_by("index")[:CHUNK])
        if not chunk:
            break
        last = chunk[-1].index
        evaluations = _evaluations([leaf.evaluation_id for leaf in chunk if leaf.kind == LeafKind.EVALUATION])
        exclusions = _exclusions([leaf.exclusion_id for leaf in chunk if leaf.kind == LeafKind.EXCLUSION])
        for leaf in chunk:
            while expected_index < leaf.index:
                report.findings.append(Finding("leaf_missing", "日志叶子记录缺失", expected_index))
                expected_index += 1
                frontier.append(b"\xff" * 32)  # keeps later indices aligned; no root can match past here
            rebuilt = _rebuild(leaf, evaluations, exclusions, report)
            stored_hash = rules.leaf_hash(leaf.body.encode())
            try:
                tile_hash = tiles.entry(0, leaf.index)
            except LookupError:
                tile_hash = None
            if tile_hash != stored_hash:
                report.findings.append(Finding("leaf_hash_changed", "叶子内容与存储的叶子哈希不一致", leaf.index))
            frontier.append(rules.leaf_hash(rebuilt if rebuilt is not None else leaf.body.encode()))
            expected_index += 1
            report.leaves += 1
            while next_cp is not None and frontier.size == next_cp.tree_size:
                _check_checkpoint(next_cp, previous, frontier.root(), report)
                previous, next_cp = next_cp, next(pending, None)
    for cp in ([next_cp] if next_cp else []) + list(pending):
        report.findings.append(Finding("checkpoint_beyond_log", f"检查点（树大小 {cp.tree_size}）超出数据库中的日志"))
    report.unsealed_evaluations = Evaluation.objects.exclude(pk__in=LogLeaf.objects.filter(
        evaluation_id__isnull=False).values("evaluation_id")).count()
    report.unsealed_exclusions = EvaluationExclusion.objects.exclude(pk__in=LogLeaf.objects.filter(
        exclusion_id__isnull=False).values("exclusion_id")).count()
    return report


def _rebuild(leaf: LogLeaf, evaluations, exclusions, report: ReplayReport) -> bytes | None:
    if leaf.kind == LeafKind.EVALUATION:
        found = evaluations.get(leaf.evaluation_id)
        if found is None:
            report.findings.append(Finding("evaluation_missing", f"评价 id={leaf.evaluation_id} 已不在数据库中",
                                           leaf.index, leaf.evaluation_id))
            return None
        rebuilt = found[0]
        what, name = "evaluation_changed", "评价"
        object_id = leaf.evaluation_id
    else:
        row = exclusions.get(leaf.exclusion_id)
        if row is None:
            report.findings.append(Finding("exclusion_missing", f"不计入统计记录 id={leaf.exclusion_id} 已不在数据库中",
                                           leaf.index, leaf.exclusion_id))
            return None
        target = json.loads(leaf.body).get("evaluation", -1)
        rebuilt = services.exclusion_leaf(row, target)
        what, name = "exclusion_changed", "不计入统计记录"
        object_id = leaf.exclusion_id
    if rebuilt != leaf.body.encode():
        fields = "、".join(_differing(leaf.body, rebuilt))
        report.findings.append(Finding(what, f"{name} id={object_id} 与封存时不一致（{fields}）", leaf.index, object_id))
    return rebuilt


def _check_checkpoint(cp: Checkpoint, previous: Checkpoint | None, root: bytes, report: ReplayReport) -> None:
    if root.hex() != cp.root_hash:
        report.findings.append(Finding("root_mismatch", f"按数据库重算的根哈希与检查点（树大小 {cp.tree_size}）不一致"))
    if not signing.verify(checkpoint_text(cp).encode(), cp.signature, cp.public_key):
        report.findings.append(Finding("bad_signature", f"检查点（树大小 {cp.tree_size}）的 SM2 签名无效"))
    if previous is not None:
        proof = [bytes.fromhex(h) for h in cp.consistency]
        if cp.previous_size != previous.tree_size or not rules.verify_consistency(
                previous.tree_size, cp.tree_size, bytes.fromhex(previous.root_hash), bytes.fromhex(cp.root_hash), proof):
            report.findings.append(Finding("inconsistent", f"检查点（树大小 {cp.tree_size}）与上一检查点不一致"))
