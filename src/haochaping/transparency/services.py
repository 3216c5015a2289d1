"""Sealing the verifiable log (R8.1): the only code that writes LogLeaf, LogTile, Checkpoint and LogHead."""

from __future__ import annotations

import logging
from datetime import UTC

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from haochaping.core import signing
from haochaping.core.models import AuditEntry
from haochaping.evaluation.models import Evaluation, EvaluationExclusion

from . import rules
from .models import Checkpoint, LeafKind, LogHead, LogLeaf
from .store import TileReader, TileWriter

log = logging.getLogger(__name__)

CHUNK = 2000
EVALUATION_FIELDS = ("pk", "created_at", "region_id", "department__credit_code", "item__implementation_code", "stage",
                     "type", "channel", "level", "leaf_hash")
EXCLUSION_FIELDS = ("pk", "evaluation_id", "evaluation__leaf_hash", "reason", "source", "note", "actor_id", "at")


def origin() -> str:
    """The log's name in every checkpoint: this node's public address (HAOCHAPING_LOG_ORIGIN overrides it)."""
    return settings.HAOCHAPING_LOG_ORIGIN or settings.HAOCHAPING_PUBLIC_URL


def iso_utc(moment) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local_day(moment) -> str:
    return timezone.localtime(moment).date().isoformat()


def evaluation_leaf(row: tuple) -> bytes:
    """The leaf of an evaluation, from a row of :data:`EVALUATION_FIELDS` (values_list order)."""
    _pk, created_at, region, department, item, stage, type_, channel, level, digest = row
    return rules.evaluation_leaf(day=local_day(created_at), region=region, department=department, item=item,
                                 stage=stage, type_=type_, channel=channel, level=level, digest=digest)


def exclusion_leaf(row: tuple, evaluation_index: int) -> bytes:
    """The leaf of an exclusion, from a row of :data:`EXCLUSION_FIELDS` and its evaluation's leaf index."""
    _pk, _evaluation_id, evaluation_digest, reason, source, note, actor_id, at = row
    digest = rules.exclusion_digest(evaluation_digest=evaluation_digest, reason=reason, source=source, note=note,
                                    actor=actor_id, at=iso_utc(at))
    return rules.exclusion_leaf(day=local_day(at), evaluation_index=evaluation_index, reason=reason, digest=digest)


def _insert(leaves: list[tuple]) -> None:
    """(index, kind, evaluation_id, exclusion_id, body) rows as one prepared INSERT through ``executemany``: the
    leaf texts are full of quotes, and bulk_create's PostgreSQL path escapes them into arrays in Python first,
    which took two thirds of a seal."""
    if not leaves:
        return
    qn = connection.ops.quote_name
    columns = ", ".join(qn(c) for c in ("index", "kind", "evaluation_id", "exclusion_id", "body"))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {qn(LogLeaf._meta.db_table)} ({columns}) VALUES (%s, %s, %s, %s, %s)", leaves)


def _chunks(ids: list[int]):
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def seal(now=None, *, actor: str = "system") -> Checkpoint | None:
    """Seal every evaluation and exclusion not yet in the log: give each a leaf index (evaluations first, each
    group by id), store the leaves and the subtree hashes, and sign the new tree head. Returns the checkpoint, or
    None when nothing was new (no empty checkpoints).

    One transaction, under the LogHead row lock: concurrent seals queue, and a failure leaves no half-sealed log.
    Rows are found by what the log lacks (an anti-join), not by id ranges, so an evaluation whose transaction
    committed after a higher id's is sealed the next time, never skipped."""
    now = (now or timezone.now()).replace(microsecond=0)
    with transaction.atomic():
        LogHead.objects.get_or_create(pk=1)
        head = LogHead.objects.select_for_update().get(pk=1)
        start = size = head.size
        writer = TileWriter(size)
        new_evaluations = list(
            Evaluation.objects.filter(~Exists(LogLeaf.objects.filter(evaluation_id=OuterRef("pk"))))
            .order_by("pk").values_list("pk", flat=True)
        )
        for ids in _chunks(new_evaluations):
            leaves = []
            for row in Evaluation.objects.filter(pk__in=ids).order_by("pk").values_list(*EVALUATION_FIELDS):
                body = evaluation_leaf(row)
                leaves.append((size, LeafKind.EVALUATION.value, row[0], None, body.decode()))
                writer.append(rules.leaf_hash(body))
                size += 1
            _insert(leaves)
        new_exclusions = list(
            EvaluationExclusion.objects.filter(~Exists(LogLeaf.objects.filter(exclusion_id=OuterRef("pk"))))
            .order_by("pk").values_list("pk", flat=True)
        )
        for ids in _chunks(new_exclusions):
            rows = list(EvaluationExclusion.objects.filter(pk__in=ids).order_by("pk").values_list(*EXCLUSION_FIELDS))
            indices = dict(LogLeaf.objects.filter(evaluation_id__in=[r[1] for r in rows])
                           .values_list("evaluation_id", "index"))
            leaves = []
            for row in rows:
                if row[1] not in indices:
                    continue  # its evaluation committed after the evaluations were read: next seal
                body = exclusion_leaf(row, indices[row[1]])
                leaves.append((size, LeafKind.EXCLUSION.value, None, row[0], body.decode()))
                writer.append(rules.leaf_hash(body))
                size += 1
            _insert(leaves)
        if size == start:
            return None
        writer.flush()
        subtree = TileReader().subtree()
        root = subtree(0, size).hex()
        consistency = rules.hexes(rules.consistency_path(start, size, subtree)) if start else []
        checkpoint = sign_checkpoint(size, root, now, previous_size=start, consistency=consistency)
        head.size = size
        head.save(update_fields=["size"])
        AuditEntry.objects.create(actor=actor, action="transparency.seal", object_type="transparency.Checkpoint",
                                  object_id=str(checkpoint.pk), data={"from": start, "to": size, "root": root})
    log.info("sealed log leaves %s..%s, root %s", start, size, root)
    return checkpoint


def sign_checkpoint(size: int, root: str, now, *, previous_size: int, consistency: list[str]) -> Checkpoint:
    name = origin()
    text = rules.checkpoint_text(origin=name, tree_size=size, root_hash=root, timestamp=iso_utc(now))
    return Checkpoint.objects.create(
        tree_size=size, root_hash=root, signed_at=now, origin=name, public_key=signing.node_public_key(),
        signature=signing.sign(text.encode()), previous_size=previous_size, consistency=consistency,
    )
