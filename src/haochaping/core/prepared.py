"""Server-side prepared statements for the few hot statements of the single submit (issue 14 item 1).

Django sends every statement with psycopg's client-side binding: the values are written into the SQL text, so
PostgreSQL parses and plans each statement anew. For the single submit's composed write (a dozen data-modifying
CTEs over monthly partitions) planning cost PostgreSQL several times what executing it did (EXPLAIN SUMMARY,
bench/README "Prepared statements for the single submit"). A cursor from :func:`cursor` sends the values apart
(server-side binding) and prepares each statement on its connection the first time it runs: PostgreSQL then
parses it once per connection and, once its generic plan proves no dearer than the custom ones, plans it once
too (partitions are still chosen per row at run time: INSERT routes rows, and the probes prune at execution).

Only statements whose text is a fixed shape (no values in the text, a bounded number of shapes) belong here:
psycopg keeps up to ``prepared_max`` (100) of them per connection and deallocates the least used beyond that.
psycopg also splits a statement at its placeholders on every call when it is longer than 4096 characters or has
more than 50 values (a regular-expression pass of about a millisecond for the composed write): the split is
remembered here per shape instead. On SQLite, :func:`cursor` is Django's own cursor.
"""

from __future__ import annotations

from django.db import connection

_CURSOR_CLASS = None
_NEVER = 2**62
_SHAPES: dict = {}
_SHAPES_MAX = 256  # statement shapes whose split is remembered (a handful occur; a bound all the same)


def _cursor_class():
    global _CURSOR_CLASS
    if _CURSOR_CLASS is None:
        import psycopg  # PostgreSQL only: a SQLite deployment needs no psycopg
        from psycopg import _queries

        class ShapeQuery(_queries.PostgresQuery):
            """psycopg's query conversion, its placeholder split remembered per statement whatever its length."""

            __slots__ = ()

            def convert(self, query, vars):
                if vars is None or not isinstance(query, str):
                    return super().convert(query, vars)
                key = (query, self._tx.encoding)
                split = _SHAPES.get(key)
                if split is None:
                    if len(_SHAPES) >= _SHAPES_MAX:
                        _SHAPES.clear()
                    split = _SHAPES[key] = _queries._query2pg_nocache(query.encode(self._tx.encoding),
                                                                       self._tx.encoding)
                self.query, self._want_formats, self._order, self._parts = split
                self.dump(vars)

        class PreparedCursor(psycopg.Cursor):
            """Server-side binding, every statement prepared (psycopg's own per-connection cache of them)."""

            _query_cls = ShapeQuery

            def execute(self, query, params=None, *, prepare=None, binary=None):
                return super().execute(query, params, prepare=True, binary=binary)

            def _convert_query(self, query, params=None):
                # psycopg leaves _query unset when it runs a prepared statement; Django's debug log
                # (last_executed_query: DEBUG, CaptureQueriesContext) reads the statement from it.
                self._query = super()._convert_query(query, params)
                return self._query

        _CURSOR_CLASS = PreparedCursor
    return _CURSOR_CLASS


def cursor():
    """A cursor for fixed-shape hot statements: prepared on PostgreSQL, Django's cursor elsewhere. Like
    ``connection.cursor()`` it goes through Django's wrappers (database errors as django.db exceptions,
    ``execute_wrapper`` hooks, the debug query log), so callers and tests see no difference."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    # What connection.cursor() does (health check, connect, wrap), with a server-binding cursor instead of
    # Django's client-binding one.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django turns psycopg's statement cache off (prepare_threshold None: for poolers in transaction mode);
        # with None even prepare=True prepares nothing. A threshold never reached keeps everything else unprepared
        # (Django's own cursors bind client-side and never prepare) and lets these statements be.
        raw.prepare_threshold = _NEVER
    with connection.wrap_database_errors:
        return connection._prepare_cursor(_cursor_class()(raw))
