"""Read replicas (issue 14, item 5): pages that only read may read from a streaming replica of the database.

With ``DATABASE_REPLICA_URL`` set, settings add the ``replica`` alias and :class:`ReplicaRouter`. Reads go to the
replica only while a request that *may* read from it is being answered:

* a GET or HEAD request to a view of a namespace in ``settings.HAOCHAPING_REPLICA_NAMESPACES`` (dashboards,
  reports and their downloads, the public portal and its open-data exports), or a view decorated with
  :func:`reads_from_replica`; :class:`ReplicaMiddleware` decides that before the view runs;
* and the browser has not written in the last ``HAOCHAPING_REPLICA_STICKY_SECONDS`` (a POST, or any write routed
  through the ORM, sets the short-lived ``hcp_primary`` cookie): whoever just changed something sees it;
* and nothing in the request has written yet, no transaction is open on the primary (services run in one; their
  reads are the primary's) and the model is not one whose state must be current (sessions, lockouts, the task
  queue: ``PRIMARY_ONLY_APPS``).

Everything else — every write, every service, the API, the worker — uses the primary, as without a replica.

A replica that cannot be reached: the page is answered again from the primary (a GET view is safe to repeat), the
replica is left alone for ``HAOCHAPING_REPLICA_RETRY_SECONDS``, and the health endpoint (:func:`status`) says so.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import InterfaceError, OperationalError

log = logging.getLogger(__name__)

REPLICA = "replica"
PRIMARY_COOKIE = "hcp_primary"
# Whose rows a page must see as they are now, whatever it reads otherwise.
PRIMARY_ONLY_APPS = frozenset({"sessions", "axes", "django_tasks_database", "admin"})
READ_HEADER = "X-Haochaping-Read-From"


@dataclass
class _Request:
    allowed: bool = False  # this request may read from the replica
    wrote: bool = False  # something was routed for writing: read the primary from now on
    used: bool = False  # something was read from the replica


_current: contextvars.ContextVar[_Request | None] = contextvars.ContextVar("haochaping_replica_request", default=None)
_down_until = 0.0  # monotonic time before which the replica is not tried again (per process)


def configured() -> bool:
    return REPLICA in settings.DATABASES


def available() -> bool:
    return configured() and time.monotonic() >= _down_until


def mark_down(reason: object) -> None:
    """Stop reading from the replica for ``HAOCHAPING_REPLICA_RETRY_SECONDS`` (this process)."""
    global _down_until
    if time.monotonic() >= _down_until:
        log.warning("read replica unavailable, reading from the primary: %s", type(reason).__name__)
    _down_until = time.monotonic() + settings.HAOCHAPING_REPLICA_RETRY_SECONDS
    try:
        connections[REPLICA].close()
    except Exception:  # noqa: BLE001 - the connection is broken already; closing is best effort
        pass


def mark_up() -> None:
    global _down_until
    _down_until = 0.0


class ReplicaRouter:
    """Django database router: reads to the replica only when the current request allows it (see the module)."""

    def db_for_read(self, model, **hints):
        state = _current.get()
        if state is None or not state.allowed or state.wrote:
            return DEFAULT_DB_ALIAS
        if model._meta.app_label in PRIMARY_ONLY_APPS or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        if not available():
            return DEFAULT_DB_ALIAS
        state.used = True
        return REPLICA

    def db_for_write(self, model, **hints):
        state = _current.get()
        if state is not None:
            state.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same rows, whichever copy they were read from

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA


def reads_from_replica(view):
    """Mark a view outside the replica namespaces as one that may read from the replica (GET/HEAD only)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        return view(*args, **kwargs)

    wrapper.reads_from_replica = True
    return wrapper


def _may_read_replica(request, view_func) -> bool:
    if request.method not in ("GET", "HEAD") or request.COOKIES.get(PRIMARY_COOKIE):
        return False
    if getattr(view_func, "reads_from_replica", False):
        return True
    match = request.resolver_match
    return bool(match and set(match.namespaces) & set(settings.HAOCHAPING_REPLICA_NAMESPACES))


class ReplicaMiddleware:
    """Lets the views that may read from the replica do so, falls back to the primary when it is unreachable, and
    keeps a browser that just wrote on the primary for a few seconds. Last in ``MIDDLEWARE`` (it calls the view
    itself in ``process_view``, so middleware after it would not see the view)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not configured():
            return self.get_response(request)
        state = _Request()
        token = _current.set(state)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        if (state.wrote or request.method not in ("GET", "HEAD", "OPTIONS")) and not request.path.startswith("/api/"):
            response.set_cookie(
                PRIMARY_COOKIE, "1", max_age=settings.HAOCHAPING_REPLICA_STICKY_SECONDS, httponly=True,
                samesite="Lax", secure=settings.SESSION_COOKIE_SECURE,
            )
        response[READ_HEADER] = "replica" if state.used else "primary"
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        state = _current.get()
        if state is None or not available() or not _may_read_replica(request, view_func):
            return None
        state.allowed = True
        try:
            response = view_func(request, *view_args, **view_kwargs)
            if hasattr(response, "render") and callable(response.render):
                response = response.render()  # a TemplateResponse reads while rendering: still here
            return response
        except (OperationalError, InterfaceError) as exc:
            if not state.used:
                raise
            mark_down(exc)
        finally:
            state.allowed = False
        state.used = False
        return view_func(request, *view_args, **view_kwargs)  # again, on the primary


def status() -> dict | None:
    """The replica as the health endpoint shows it: None without one; otherwise ``status`` "ok" or "down",
    ``reads`` ("replica" or "primary"), and while it is reachable ``lag_seconds`` (since the last transaction it has
    not replayed yet committed; 0 when it has replayed everything it received), ``lag_bytes`` (WAL the primary
    wrote that the replica has not replayed) and ``replay_paused``."""
    if not configured():
        return None
    replica = connections[REPLICA]
    try:
        if replica.vendor != "postgresql":
            replica.ensure_connection()
            mark_up()
            return {"status": "ok", "reads": "replica", "lag_seconds": None, "lag_bytes": None, "replay_paused": False}
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END")
            primary_lsn = cursor.fetchone()[0]
        with replica.cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(),"
                " CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END,"
                " GREATEST(pg_wal_lsn_diff(%s, pg_last_wal_replay_lsn()), 0),"
                " CASE WHEN pg_last_wal_replay_lsn() >= %s THEN 0"
                "  ELSE EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()) END",
                [primary_lsn, primary_lsn],
            )
            in_recovery, paused, lag_bytes, lag_seconds = cursor.fetchone()
    except (OperationalError, InterfaceError) as exc:
        mark_down(exc)
        return {"status": "down", "reads": "primary", "lag_seconds": None, "lag_bytes": None, "replay_paused": False}
    mark_up()
    return {
        "status": "ok", "reads": "replica",
        "lag_seconds": None if lag_seconds is None else round(float(lag_seconds), 1),
        "lag_bytes": None if lag_bytes is None else int(lag_bytes),
        "replay_paused": bool(paused), "in_recovery": bool(in_recovery),
    }
