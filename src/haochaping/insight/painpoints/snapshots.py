"""Pain-point snapshots: the default period's analysis of each whole-region scope, computed by the worker
(``insight.tasks.build_pain_point_snapshots``, :func:`.services.build_snapshots`) and read by the page in one
indexed query instead of analysing up to :data:`MAX_REVIEWS` bad reviews per request (issue 14).

Only the default view of an actor who sees whole regions (everything, or a region's subtree) is served from a
snapshot: its result depends on nothing but the scope and the period. A unit's or a staff member's own reviews
(their scope may include evaluations routed to them) and any explicit filter or period keep the live, cached path
(:func:`.pain_points`). The snapshot may be minutes old — the classifier already runs behind the writes — and the
page says when it was computed.

Stored as plain JSON (:func:`dump` / :func:`load`), never pickled: nothing read from the database runs as code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime

from django.conf import settings

from haochaping.core.scoping import EVERYTHING, Visibility, visibility_for

from . import GroupRow, LabelRow, MonthCount, Named, PainPoints, Period, Topic, topics

EVERYTHING_SCOPE = "*"
DEFAULT_MONTHS = 6  # the page's default period: this month and the five before


def every_minutes() -> int:
    """How often the worker rebuilds the snapshots (``HAOCHAPING_PAINPOINTS_SNAPSHOT_MINUTES``, default 15)."""
    return int(getattr(settings, "HAOCHAPING_PAINPOINTS_SNAPSHOT_MINUTES", 15))


def default_period(today: date | None = None) -> Period:
    return Period.last_months(DEFAULT_MONTHS, today)


@dataclass(frozen=True)
class Snapshot:
    """What the page shows for a default view: the analysis, the choice lists, and when it was computed."""

    result: PainPoints
    items: list[Named]
    units: list[Named]
    regions: list[Named]
    computed_at: datetime


class ScopeViewer:
    """An actor who sees exactly one whole-region scope: the worker computes each scope's snapshot as it."""

    def __init__(self, scope: str):
        self.scope = scope

    def scope_visibility(self) -> Visibility:
        return EVERYTHING if self.scope == EVERYTHING_SCOPE else Visibility(region_prefix=self.scope)


def scope_of(actor) -> str | None:
    """The snapshot scope of ``actor``: "*" for everything, the region prefix for a region's subtree, None for any
    other scope (a unit's or staff member's own reviews: always live)."""
    v = visibility_for(actor)
    if v == EVERYTHING:
        return EVERYTHING_SCOPE
    if v.region_prefix and v == Visibility(region_prefix=v.region_prefix):
        return v.region_prefix
    return None


def version() -> str:
    """The classifier's version (with the promoted kinds) and the analysis's: a snapshot of another is not used."""
    from .kinds import current_version, promoted_kinds

    return f"{current_version(promoted_kinds())}/{topics.VERSION}"


def read(actor, period: Period, *, with_ids: bool = False) -> Snapshot | None:
    """The stored snapshot for ``actor``'s scope and ``period`` (one indexed read), or None. Without ``with_ids``
    the topics' evaluation ids are left out (not read): the page shows only how many."""
    from .models import PainPointSnapshot

    key = scope_of(actor)
    if key is None:
        return None
    fields = ("result", "computed_at", "ids") if with_ids else ("result", "computed_at")
    row = (PainPointSnapshot.objects.filter(scope=key, period_start=period.start, period_end=period.end,
                                            version=version())
           .only(*fields).first())
    if row is None:
        return None
    return load(row.result, row.computed_at, row.ids if with_ids else None)


# --- serialising ---------------------------------------------------------------------------------------------


def dump(result: PainPoints, items: list[Named], units: list[Named], regions: list[Named]) -> tuple[dict, dict]:
    """(result, ids): what the page reads, and the evaluation ids of each topic by its number."""
    data = asdict(result)
    data["period"] = [result.period.start.isoformat(), result.period.end.isoformat()]
    ids = {}
    for t in data["topics"]:
        ids[str(t["number"])] = [t.pop("ids"), t.pop("neutral_ids")]
    return {"result": data, "items": [asdict(n) for n in items], "units": [asdict(n) for n in units],
            "regions": [asdict(n) for n in regions]}, ids


def _named(rows) -> tuple[Named, ...]:
    return tuple(Named(r["key"], r["name"], r["count"]) for r in rows)


def _trend(rows) -> tuple[MonthCount, ...]:
    return tuple(MonthCount(r["month"], r["count"]) for r in rows)


def _topic(t: dict, ids: dict | None) -> Topic:
    own, neutral = ids.get(str(t["number"]), ([], [])) if ids is not None else ([], [])
    return Topic(**{**t, "terms": tuple(t["terms"]), "labels": _named(t["labels"]), "items": _named(t["items"]),
                    "units": _named(t["units"]), "examples": tuple(t["examples"]), "trend": _trend(t["trend"]),
                    "ids": tuple(own), "neutral_ids": tuple(neutral)})


def _group(g: dict) -> GroupRow:
    return GroupRow(g["key"], g["name"], g["count"], _named(g["labels"]), _trend(g["trend"]))


def _label(row: dict) -> LabelRow:
    return LabelRow(row["code"], row["text"], row["count"], row["share"], _trend(row["trend"]), _named(row["items"]),
                    _named(row["units"]))


def load(data: dict, computed_at: datetime, ids: dict | None = None) -> Snapshot:
    """The snapshot of :func:`dump`'s ``data``; the topics' ids from ``ids`` (empty without)."""
    r = data["result"]
    result = PainPoints(**{
        **r, "period": Period(date.fromisoformat(r["period"][0]), date.fromisoformat(r["period"][1])),
        "months": tuple(r["months"]), "topics": tuple(_topic(t, ids) for t in r["topics"]),
        "labels": tuple(_label(x) for x in r["labels"]), "items": tuple(_group(g) for g in r["items"]),
        "units": tuple(_group(g) for g in r["units"]), "trend": _trend(r["trend"]),
    })
    return Snapshot(result, list(_named(data["items"])), list(_named(data["units"])), list(_named(data["regions"])),
                    computed_at)
