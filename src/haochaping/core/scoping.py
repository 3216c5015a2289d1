"""The one place that decides which rows an actor may see (issue "Scopes enforced in one place").

Every list and detail — pages, API, exports, admin — passes its queryset through :func:`scope`. A model says how
its rows relate to regions, units and staff with a ``scope_paths`` class attribute (:class:`ScopePaths`); a model
without one is visible only to actors who see everything. Objects out of scope are simply absent, so a detail
lookup answers 404, never 403: nobody can tell "exists elsewhere" from "does not exist".
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet


@dataclass(frozen=True)
class ScopePaths:
    """ORM paths from a model to what scopes it. Each entry is a tuple of alternative paths (any may match)."""

    region: tuple[str, ...] = ()  # paths to a region code (e.g. "region_id", "agency__region_id")
    department: tuple[str, ...] = ()
    agency: tuple[str, ...] = ()
    staff: tuple[str, ...] = ()


@dataclass(frozen=True)
class Visibility:
    everything: bool = False
    region_prefix: str | None = None
    department_id: int | None = None
    agency_id: int | None = None
    staff_id: int | None = None

    @property
    def nothing(self) -> bool:
        return not (self.everything or self.region_prefix or self.department_id or self.agency_id or self.staff_id)


NOTHING = Visibility()
EVERYTHING = Visibility(everything=True)


def visibility_for(actor) -> Visibility:
    """What ``actor`` (a user, an API key, or None/anonymous) may see.

    The actor answers for itself (``accounts``' User and ApiKey know their roles, regions and units); anything
    that cannot answer — None, Django's anonymous user — sees nothing. This keeps the scoping machinery down in
    core, where every app's models and admin can use it, and the knowledge of roles in accounts.
    """
    answer = getattr(actor, "scope_visibility", None)
    return answer() if callable(answer) else NOTHING


def _any(paths: tuple[str, ...], lookup: str, value) -> Q | None:
    if not paths or value is None:
        return None
    q = Q()
    for path in paths:
        q |= Q(**{f"{path}{lookup}": value})
    return q


def _text_path(path: str) -> str:
    # A foreign key's column ("region_id") takes no text lookups; its target's key does, and Django compares
    # it on the local column without a join.
    return f"{path[:-3]}__pk" if path.endswith("_id") else path


# Paths a higher app adds to a lower app's model (see widen()), by model label.
_widened: dict[str, ScopePaths] = {}


def widen(model, *, department: tuple[str, ...] = (), agency: tuple[str, ...] = ()) -> None:
    """Let the units that hold something of a higher app see ``model``'s rows through it.

    A lower app's model cannot name a higher app's relation in its own ``scope_paths`` without knowing about that
    app; the higher app calls this from its ``AppConfig.ready()`` instead (rectification: the unit a case was
    routed or transferred to sees the evaluation the case is about). Only unit paths can be added: regions and
    staff are what the model itself says. Calling it again with the same paths changes nothing."""
    label = model._meta.label_lower
    current = _widened.get(label, ScopePaths())
    _widened[label] = ScopePaths(
        department=tuple(dict.fromkeys(current.department + department)),
        agency=tuple(dict.fromkeys(current.agency + agency)),
    )


def paths_of(model) -> ScopePaths | None:
    """``model.scope_paths`` with the unit paths higher apps added (widen())."""
    own: ScopePaths | None = getattr(model, "scope_paths", None)
    extra = _widened.get(model._meta.label_lower) if own is not None else None
    if extra is None:
        return own
    return ScopePaths(region=own.region, department=own.department + extra.department,
                      agency=own.agency + extra.agency, staff=own.staff)


def condition(model, visibility: Visibility, *, widened: bool = True) -> Q | None:
    """The filter for ``model`` under ``visibility``; None means "no rows". ``widened=False`` leaves out the paths
    higher apps added (widen()): for figures, which count a unit's own rows only."""
    if visibility.everything:
        return Q()
    paths = paths_of(model) if widened else getattr(model, "scope_paths", None)
    if paths is None or visibility.nothing:
        return None
    if visibility.region_prefix:
        return _any(tuple(_text_path(p) for p in paths.region), "__startswith", visibility.region_prefix)
    if visibility.staff_id:
        return _any(paths.staff, "", visibility.staff_id)
    # A handler sees what their department handled or what happened at their hall.
    parts = [q for q in (_any(paths.department, "", visibility.department_id), _any(paths.agency, "", visibility.agency_id)) if q is not None]
    if not parts:
        return None
    q = parts[0]
    for extra in parts[1:]:
        q |= extra
    return q


def scope(queryset: QuerySet, actor, *, widened: bool = True) -> QuerySet:
    """``queryset`` narrowed to what ``actor`` may see (``widened``: see condition())."""
    q = condition(queryset.model, visibility_for(actor), widened=widened)
    if q is None:
        return queryset.none()
    return queryset.filter(q).distinct() if _spans_many(queryset.model) else queryset.filter(q)


def _spans_many(model) -> bool:
    # Alternative paths through to-many relations could duplicate rows.
    return bool(getattr(model, "scope_distinct", False))


def can_see(actor, obj) -> bool:
    return scope(type(obj)._default_manager.filter(pk=obj.pk), actor).exists()
