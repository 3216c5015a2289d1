"""The fine counter (DailyCounter) upsert and the evaluation's key in it, shared by the synchronous writers
(rollups) and the folder of pending single submits (rollups.pending)."""

from __future__ import annotations

from django.db import connection

from haochaping.evaluation.models import Evaluation
from haochaping.evaluation.rows import local_day

from ..models import KEY_FIELDS, DailyCounter
from . import wide

Key = tuple  # values of KEY_FIELDS, in order


def _sql() -> str:
    q = connection.ops.quote_name
    table = q(DailyCounter._meta.db_table)
    cols = ", ".join(q(c) for c in (*KEY_FIELDS, "count"))
    marks = ", ".join(["%s"] * (len(KEY_FIELDS) + 1))
    keys = ", ".join(q(c) for c in KEY_FIELDS)
    return (
        f"INSERT INTO {table} ({cols}) VALUES ({marks}) "
        f"ON CONFLICT ({keys}) DO UPDATE SET {q('count')} = {table}.{q('count')} + EXCLUDED.{q('count')}"
    )


_UPSERT: dict[str, str] = {}


def key_of(ev: Evaluation, *, excluded: bool) -> Key:
    """The counter an evaluation is counted in: its local (北京时间) day and the targets copied onto it."""
    return (
        local_day(ev), ev.region_id, ev.department_id, ev.agency_id or 0,
        ev.window_id or 0, ev.staff_id or 0, ev.item_id, ev.platform_id or 0, ev.channel, ev.level, ev.type,
        bool(ev.is_real_name), excluded,
    )


def upsert_one() -> str:
    return _UPSERT.get(connection.vendor) or _UPSERT.setdefault(connection.vendor, _sql())


def statements(changes: list[tuple[Key, int]]) -> list[wide.Statement]:
    """The upserts of DailyCounter changes and of the wide counters they imply."""
    return [*((upsert_one(), [*key, delta]) for key, delta in changes), *wide.upserts(wide.from_evaluations(changes))]


def bump(changes: list[tuple[Key, int]]) -> None:
    """Add each delta to its counter (and the wide counters), creating the counter when missing. Call inside the
    writing transaction. One statement on PostgreSQL (rollups.wide.run)."""
    wide.run(statements(changes))
