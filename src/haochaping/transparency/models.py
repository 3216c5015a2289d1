"""The verifiable evaluation log (R8.1): leaves in sealing order, stored subtree hashes, signed checkpoints.

Nothing here is written on an evaluation's path: the seal task (services.seal) assigns leaf indices later, so
submitting stays as fast as before. Rows are append-only; only the rightmost, partly filled tile of each level is
rewritten while it fills.
"""

from __future__ import annotations

from datetime import UTC

from django.db import models
from django.utils.translation import gettext_lazy as _


class LeafKind(models.TextChoices):
    EVALUATION = "evaluation", _("评价")
    EXCLUSION = "exclusion", _("不计入统计")


class LogLeaf(models.Model):
    """One leaf: its index in the log, what it stands for and its canonical bytes (public fields and a digest).

    The evaluation and exclusion are referenced by plain ids, not foreign keys: the log must outlive a row deleted
    behind the application's back, so that ``verify_log`` can name the id that is gone."""

    index = models.BigIntegerField(_("序号"), primary_key=True)
    kind = models.CharField(_("类型"), max_length=12, choices=LeafKind.choices)
    evaluation_id = models.BigIntegerField(_("评价ID"), null=True, blank=True, unique=True)
    exclusion_id = models.BigIntegerField(_("不计入统计ID"), null=True, blank=True, unique=True)
    body = models.TextField(_("叶子内容"))

    class Meta:
        verbose_name = _("日志叶子")
        verbose_name_plural = _("日志叶子")
        ordering = ["index"]

    def __str__(self) -> str:
        return f"#{self.index} {self.kind}"


class LogTile(models.Model):
    """Up to 256 hashes of the perfect subtrees at height ``8 * level`` (level 0: the leaf hashes), indices
    ``256 * index …``. Proofs read a handful of tiles instead of recomputing the tree (rules.tiled_subtree)."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hashes = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="one_log_tile_per_position")]

    def __str__(self) -> str:
        return f"tile {self.level}/{self.index}"


class Checkpoint(models.Model):
    """检查点 / 树头: the log's size and root at a moment, signed with SM2 by this node (rules.checkpoint_text).

    ``consistency`` is the proof that the previous checkpoint's tree is a prefix of this one, computed once at
    sealing, so the open-data file of checkpoints can be checked end to end without asking the server."""

    tree_size = models.BigIntegerField(_("树大小"), unique=True)
    root_hash = models.CharField(_("根哈希(SM3)"), max_length=64)
    signed_at = models.DateTimeField(_("封存时间"))
    origin = models.CharField(_("日志标识"), max_length=200)
    public_key = models.CharField(_("SM2公钥"), max_length=128)
    signature = models.CharField(_("SM2签名"), max_length=128)
    previous_size = models.BigIntegerField(_("上一检查点树大小"), default=0)
    consistency = models.JSONField(_("与上一检查点的一致性证明"), default=list)

    class Meta:
        verbose_name = _("检查点")
        verbose_name_plural = _("检查点")
        ordering = ["-tree_size"]

    def __str__(self) -> str:
        return f"{self.tree_size} {self.root_hash[:16]}"


class LogHead(models.Model):
    """One row: the sealed size, locked while a seal runs so two workers never seal at once."""

    size = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"sealed {self.size}"


def checkpoint_text(checkpoint: Checkpoint) -> str:
    """The exact text the checkpoint's signature covers."""
    from . import rules

    return rules.checkpoint_text(origin=checkpoint.origin, tree_size=checkpoint.tree_size,
                                 root_hash=checkpoint.root_hash,
                                 timestamp=checkpoint.signed_at.astimezone(UTC).isoformat().replace("+00:00", "Z"))
