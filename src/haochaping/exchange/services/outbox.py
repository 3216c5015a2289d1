"""Writing the outbox (R6.2 完整采集、实时报送): a row per active upstream in the transaction that writes the 办件,
evaluation or case outcome (exchange.receivers calls these from the lower apps' signals), and the admin's re-send."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from haochaping.core.bulk import insert_rows

from ..models import OutboxEntry, Upstream

Kind = OutboxEntry.Kind
Status = OutboxEntry.Status


def enqueue(kind: str, object_id: int, project_no: str, *, now: datetime | None = None) -> int:
    """Queue one object for every active upstream; returns how many rows were written.

    A 办件 or case outcome already waiting for an upstream is not queued twice: what is sent is read at sending
    time, so the waiting row will carry the latest state. Evaluations never change, each is queued once."""
    upstreams = Upstream.objects.filter(is_active=True)
    if kind == Kind.CASE_OUTCOME:  # the national interface has no item for it; another instance of this system has
        upstreams = upstreams.filter(profile=Upstream.Profile.INTERNAL)
    upstream_ids = list(upstreams.values_list("id", flat=True))
    if not upstream_ids:
        return 0
    if kind != Kind.EVALUATION:
        waiting = set(OutboxEntry.objects.filter(
            upstream_id__in=upstream_ids, kind=kind, object_id=object_id, status=Status.PENDING,
        ).values_list("upstream_id", flat=True))
        upstream_ids = [u for u in upstream_ids if u not in waiting]
    now = now or timezone.now()
    OutboxEntry.objects.bulk_create([
        OutboxEntry(upstream_id=u, kind=kind, object_id=object_id, project_no=project_no, created_at=now)
        for u in upstream_ids
    ])
    return len(upstream_ids)


_SQL: dict[str, str] = {}
_COLUMNS: dict[str, list] = {}
_GIVEN = frozenset({"kind", "object_id", "project_no", "created_at"})


def enqueue_new(kind: str, object_id: int, project_no: str, *, now: datetime | None = None) -> None:
    """:func:`enqueue` for an object queued for the first time (a new evaluation), in ONE statement: ``INSERT …
    SELECT`` over the active upstreams, so the write path neither reads the upstreams first nor compiles a query."""
    from django.db import connection

    sql, params = new_entries(kind, object_id, project_no, now=now)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def new_entries(kind: str, object_id: int, project_no: str, *, now: datetime | None = None) -> tuple[str, list]:
    """:func:`enqueue_new`'s statement (sql, params), for a caller that runs it with others in one statement."""
    from django.db import connection

    vendor = connection.vendor
    if vendor not in _SQL:
        q = connection.ops.quote_name
        fields = [f for f in OutboxEntry._meta.concrete_fields if not f.primary_key]
        picks = [f"{q('u')}.{q('id')}" if f.attname == "upstream_id" else "%s" for f in fields]
        _SQL[vendor] = (
            f"INSERT INTO {q(OutboxEntry._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "
            f"SELECT {', '.join(picks)} FROM {q(Upstream._meta.db_table)} {q('u')} WHERE {q('u')}.{q('is_active')}"
        )
        # The other columns' defaults are constants (pending, no attempt yet): converted once per process.
        _COLUMNS[vendor] = [(f, None if f.attname in _GIVEN else f.get_db_prep_save(f.get_default(), connection))
                            for f in fields if f.attname != "upstream_id"]
    given = {"kind": kind, "object_id": object_id, "project_no": project_no, "created_at": now or timezone.now()}
    params = [f.get_db_prep_save(given[f.attname], connection) if f.attname in given else constant
              for f, constant in _COLUMNS[vendor]]
    return _SQL[vendor], params


def enqueue_many(kind: str, objects: list[tuple[int, str]], *, now: datetime | None = None) -> int:
    """Queue many new objects of one kind, [(id, project_no)], for every active upstream: one multi-row INSERT.
    Only for objects queued for the first time (evaluations: each is queued once, as :func:`enqueue` does)."""
    if not objects:
        return 0
    upstreams = Upstream.objects.filter(is_active=True)
    if kind == Kind.CASE_OUTCOME:
        upstreams = upstreams.filter(profile=Upstream.Profile.INTERNAL)
    upstream_ids = list(upstreams.values_list("id", flat=True))
    if not upstream_ids:
        return 0
    now = now or timezone.now()
    # Plain value rows through one prepared INSERT (core.bulk): no model instance per entry on the batch path.
    return insert_rows(OutboxEntry, ("upstream", "kind", "object_id", "project_no", "created_at"),
                       ((u, kind, object_id, project_no, now) for object_id, project_no in objects for u in upstream_ids))


@transaction.atomic
def resend(entry_ids, *, now: datetime | None = None) -> int:
    """Put dead letters back in the queue (after whatever refused them was put right); returns how many."""
    return OutboxEntry.objects.filter(pk__in=list(entry_ids), status=Status.DEAD).update(
        status=Status.PENDING, attempts=0, next_attempt_at=None, last_error="",
    )


def lag(now: datetime | None = None) -> dict:
    """Per active upstream: rows waiting, dead letters and the age in seconds of the oldest waiting row."""
    now = now or timezone.now()
    out = {}
    for upstream in Upstream.objects.filter(is_active=True):
        rows = OutboxEntry.objects.filter(upstream=upstream)
        pending = rows.filter(status=Status.PENDING)
        oldest = pending.aggregate(oldest=Min("created_at"))["oldest"]
        out[upstream.name] = {
            "pending": pending.count(),
            "dead": rows.filter(status=Status.DEAD).count(),
            "lag_seconds": max(0, int((now - oldest).total_seconds())) if oldest else 0,
            "last_error": pending.exclude(last_error="").values_list("last_error", flat=True).first() or "",
        }
    return out
