"""Monthly range partitions of the big tables on PostgreSQL (docs/operations.md "分区维护与归档").

Evaluations (``evaluation_evaluation``) and 办件 (``records_servicerecord``) grow by millions of rows a month, so on
PostgreSQL they are declaratively partitioned by month of ``created_at`` (Beijing time: a partition is one
statistics month), with a DEFAULT partition that takes any row whose month has no partition yet: a missing future
partition never fails a write. The worker (``core.tasks.maintain_partitions``, daily) creates the partitions of
the coming months ahead and moves rows that landed in the DEFAULT partition into partitions of their own. Old
months are detached for archive with ``haochaping partitions --detach YYYY-MM`` (and can be attached again).
SQLite keeps plain tables: every function here is a no-op there.

PostgreSQL requires a unique index of a partitioned table to include the partition key, so uniqueness across
months cannot live on the partitioned table. Each partitioned table has a small *key table* ``<table>_keys``
(not partitioned): the row's ``id`` (primary key) and the columns of every unique constraint the model declares,
with those constraints under their original names. Triggers on the partitioned table keep it in step in the
writing statement itself (insert, change of a unique column, delete, truncate), so a second evaluation of the
same (办件, stage, type), a reused idempotency key or receipt code, or a reused 办件编号 fails with the same
IntegrityError and constraint name as before, whatever month each row falls in. Foreign keys that referenced the
table's ``id`` reference the key table's ``id`` instead (PostgreSQL accepts a foreign key to a partitioned table only
on a unique key including the partition key). Detaching a month keeps its key rows: an archived evaluation's
idempotency key and receipt code stay taken, and rows elsewhere that refer to it stay valid.

A key table may also carry copies of other columns, nullable, for look-ups that would otherwise open every month's
partition: the 办件's key table holds what a submit reads of its 办件 (status, 受理/办结 times, units; evaluation
migration 0010), so the submit finds and locks the 办件 there (evaluation.lookups.record_table). The triggers copy
every column the key table has; detaching a month clears the copies of its rows (an archived 办件 is not found, as
before) and attaching it copies them back. Both key tables also copy the partition column (evaluation migration
0011): a look-up of one row by its id or a unique key reads the row's month there first and names it, so PostgreSQL
reads that month's partition only (core.pruning).

The code below works on table names only (core is below the apps whose tables it partitions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection as default_connection
from django.db import transaction

# table → partition key column. Both tables' key is set once on insert and never changed (auto_now_add / the
# evaluation's own time), so a row never moves between partitions.
TABLES = {"records_servicerecord": "created_at", "evaluation_evaluation": "created_at"}
MONTHS_AHEAD = 3
MOVE_FLAG = "haochaping.partition_move"


def supported(connection=None) -> bool:
    return (connection or default_connection).vendor == "postgresql"


def _q(name: str) -> str:
    return default_connection.ops.quote_name(name)


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def month_start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=_tz())


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def partition_name(table: str, month: date) -> str:
    return f"{table}_p{month:%Y%m}"


def keys_table(table: str) -> str:
    return f"{table}_keys"


def default_partition(table: str) -> str:
    return f"{table}_default"


def _short(name: str) -> str:
    return name[:63]


# --- reading the catalogue --------------------------------------------------------------------------------------


def is_partitioned(cursor, table: str) -> bool:
    cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
    row = cursor.fetchone()
    return bool(row) and row[0] == "p"


@dataclass(frozen=True)
class Partition:
    table: str
    name: str
    month: date | None  # None: the DEFAULT partition
    rows_estimate: int  # planner's estimate; exact for the DEFAULT partition


def partitions(table: str) -> list[Partition]:
    """The attached partitions of ``table``, months first (oldest first), DEFAULT last."""
    with default_connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), c.reltuples::bigint FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s) ORDER BY c.relname",
            [table],
        )
        rows = cursor.fetchall()
    out = []
    for name, bound, estimate in rows:
        month = None if bound == "DEFAULT" else date(int(name[-6:-2]), int(name[-2:]), 1)
        if month is None:  # exact: it should be empty, and its statistics lag behind the upkeep's moves
            with default_connection.cursor() as cursor:
                cursor.execute(f"SELECT count(*) FROM {_q(name)}")
                estimate = cursor.fetchone()[0]
        out.append(Partition(table, name, month, max(estimate, 0)))
    return sorted(out, key=lambda p: (p.month is None, p.month or date.min))


TABLE_LABELS = {"records_servicerecord": "办件表", "evaluation_evaluation": "评价表"}


def problems(now: datetime | None = None) -> list[str]:
    """What the health endpoint says about the partitions, for whoever is on call: a table without this month's
    or next month's partition (the worker's daily upkeep has not run for weeks), or rows waiting in a DEFAULT
    partition (their month had no partition; the upkeep moves them). Cheap: the catalogue and one EXISTS per
    table, never a count. Nothing off PostgreSQL or on a table that is not partitioned."""
    if not supported():
        return []
    this = _local_month(now or datetime.now(_tz()))
    found = []
    for table in TABLES:
        with default_connection.cursor() as cursor:
            if not is_partitioned(cursor, table):
                continue
            cursor.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = to_regclass(%s)", [table],
            )
            names = {row[0] for row in cursor.fetchall()}
            stray = False
            if default_partition(table) in names:
                cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {_q(default_partition(table))})")
                stray = cursor.fetchone()[0]
        missing = [m for m in (this, next_month(this)) if partition_name(table, m) not in names]
        label = TABLE_LABELS.get(table, table)
        if missing:
            found.append(f"{label}缺少 {'、'.join(f'{m:%Y-%m}' for m in missing)} 的分区（分区维护未运行）")
        if stray:
            found.append(f"{label}的默认分区中有数据（所属月份的分区尚未建立，待分区维护移入）")
    return found


def _unique_constraints(cursor, table: str) -> list[tuple[str, list[str]]]:
    """(name, columns) of the table's unique constraints and unique indexes, the primary key excepted."""
    cursor.execute(
        "SELECT i.relname, array_agg(a.attname ORDER BY k.ord) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid "
        "CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord) "
        "JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum "
        "WHERE x.indrelid = to_regclass(%s) AND x.indisunique AND NOT x.indisprimary GROUP BY i.relname ORDER BY 1",
        [table],
    )
    return [(name, list(cols)) for name, cols in cursor.fetchall()]


def _column_types(cursor, table: str) -> dict[str, str]:
    cursor.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped", [table],
    )
    return dict(cursor.fetchall())


# --- converting a plain table -------------------------------------------------------------------------------------


def convert(table: str, column: str, *, now: datetime | None = None, months_ahead: int = MONTHS_AHEAD) -> bool:
    """Turn the plain table ``table`` into one partitioned by month of ``column``, rows, indexes, constraints,
    triggers and referencing foreign keys included (inside the caller's transaction: a migration's). Returns False
    when there is nothing to do (SQLite, or already partitioned)."""
    if not supported():
        return False
    old = f"{table}__plain"
    keys = keys_table(table)
    with default_connection.cursor() as cursor:
        if is_partitioned(cursor, table):
            return False
        uniques = _unique_constraints(cursor, table)
        types = _column_types(cursor, table)
        cursor.execute(
            "SELECT indexdef FROM pg_indexes i JOIN pg_index x ON x.indexrelid = to_regclass(quote_ident(i.indexname)) "
            "WHERE i.tablename = %s AND NOT x.indisunique", [table],
        )
        indexes = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype = 'f'",
            [table],
        )
        outgoing = cursor.fetchall()
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE confrelid = to_regclass(%s) AND contype = 'f' AND conrelid <> confrelid", [table],
        )
        incoming = cursor.fetchall()
        for referrer, name, _definition in incoming:
            cursor.execute(f"ALTER TABLE {_q(referrer)} DROP CONSTRAINT {_q(name)}")
        cursor.execute(f"ALTER TABLE {_q(table)} RENAME TO {_q(old)}")
        cursor.execute(
            f"CREATE TABLE {_q(table)} (LIKE {_q(old)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY "
            f"INCLUDING STORAGE) PARTITION BY RANGE ({_q(column)})"
        )
        cursor.execute(f"SELECT min({_q(column)}), max({_q(column)}) FROM {_q(old)}")
        first, last = cursor.fetchone()
        now = now or datetime.now(_tz())
        this = date(now.astimezone(_tz()).year, now.astimezone(_tz()).month, 1)
        start = _local_month(first) if first else this
        start = min(start, this)
        end = add_months(max(this, _local_month(last) if last else this), months_ahead)
        month = start
        while month <= end:
            _create_partition(cursor, table, month)
            month = next_month(month)
        cursor.execute(f"CREATE TABLE {_q(default_partition(table))} PARTITION OF {_q(table)} DEFAULT")
        cursor.execute(f"INSERT INTO {_q(table)} SELECT * FROM {_q(old)}")
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT max(id) FROM {_q(old)})) "
            f"WHERE EXISTS (SELECT 1 FROM {_q(old)})", [table],
        )
        key_columns = ["id", *dict.fromkeys(c for _n, cols in uniques for c in cols if c != "id")]
        cursor.execute(
            f"CREATE TABLE {_q(keys)} ("
            + ", ".join(f"{_q(c)} {types[c]} NOT NULL" for c in key_columns) + ")"
        )
        cols = ", ".join(_q(c) for c in key_columns)
        cursor.execute(f"INSERT INTO {_q(keys)} ({cols}) SELECT {cols} FROM {_q(old)}")
        cursor.execute(f"DROP TABLE {_q(old)}")
        cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(table + '_pkey')} PRIMARY KEY (id, {_q(column)})")
        cursor.execute(f"ALTER TABLE {_q(keys)} ADD CONSTRAINT {_q(_short(keys + '_pkey'))} PRIMARY KEY (id)")
        for name, columns in uniques:
            cursor.execute(f"ALTER TABLE {_q(keys)} ADD CONSTRAINT {_q(name)} UNIQUE ({', '.join(map(_q, columns))})")
            # Look-ups by these columns on the partitioned table itself (one probe per partition).
            cursor.execute(f"CREATE INDEX {_q(_short(name + '_part'))} ON {_q(table)} ({', '.join(map(_q, columns))})")
        for definition in indexes:
            cursor.execute(definition)
        for name, definition in outgoing:
            cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}")
        for referrer, name, definition in incoming:
            definition = definition.replace(f"REFERENCES {table}(", f"REFERENCES {keys}(")
            cursor.execute(f"ALTER TABLE {_q(referrer)} ADD CONSTRAINT {_q(name)} {definition}")
        _create_triggers(cursor, table, key_columns)
    return True


def _local_month(value: datetime) -> date:
    local = value.astimezone(_tz())
    return date(local.year, local.month, 1)


def _create_triggers(cursor, table: str, key_columns: list[str]) -> None:
    """The key table follows the partitioned table: inserts by one statement-level trigger (the statement's new rows
    at once, from its transition table: a COPY of a thousand rows adds their keys in one INSERT, where a row-level
    trigger ran a PL/pgSQL function and an INSERT per row), changes and deletes row by row (rare), TRUNCATE too.
    Replaces any earlier version of the triggers (``recreate_triggers``)."""
    keys = _q(keys_table(table))
    cols = ", ".join(_q(c) for c in key_columns)
    sets = ", ".join(f"{_q(c)} = NEW.{_q(c)}" for c in key_columns if c != "id")
    changed = " OR ".join(f"NEW.{_q(c)} IS DISTINCT FROM OLD.{_q(c)}" for c in key_columns)
    fn = _q(_short(f"{table}_keys_sync"))
    fn_insert = _q(_short(f"{table}_keys_insert"))
    q_table = _q(table)
    for trigger in ("keys_sync", "keys_insert", "keys_truncate", "month_fixed"):
        cursor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {q_table}")
    # A row's month never changes. PostgreSQL would carry out such an UPDATE as a DELETE and an INSERT, and the key
    # row would go with the DELETE (the statement-level insert trigger does not fire for an UPDATE): refused instead,
    # as a check violation. Look-ups and saves that name the row's month rely on it (month_filter, records.models).
    fn_fixed, part = _q(_short(f"{table}_month_fixed")), _q(TABLES[table])
    cursor.execute(f"""
        CREATE OR REPLACE FUNCTION {fn_fixed}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{table}.{TABLES[table]} never changes (row %)', OLD.id USING ERRCODE = 'check_violation';
        END $$""")
    cursor.execute(f"CREATE TRIGGER month_fixed BEFORE UPDATE OF {part} ON {q_table} FOR EACH ROW "
                   f"WHEN (NEW.{part} IS DISTINCT FROM OLD.{part}) EXECUTE FUNCTION {fn_fixed}()")
    # Rows moved from the DEFAULT partition into a month's own (maintain) keep their key rows: the move sets
    # MOVE_FLAG (it works on the partitions directly, where a statement-level trigger of the parent never fires, but
    # the row-level one does).
    moving = f"coalesce(current_setting('{MOVE_FLAG}', true), '') = 'on'"
    cursor.execute(f"""
        CREATE OR REPLACE FUNCTION {fn_insert}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF {moving} THEN
                RETURN NULL;
            END IF;
            INSERT INTO {keys} ({cols}) SELECT {cols} FROM new_rows;
            RETURN NULL;
        END $$""")
    cursor.execute(f"""
        CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                DELETE FROM {keys};
                RETURN NULL;
            END IF;
            IF {moving} THEN
                RETURN NULL;
            END IF;
            IF TG_OP = 'UPDATE' THEN
                IF {changed} THEN
                    UPDATE {keys} SET {sets} WHERE id = OLD.id;
                END IF;
            ELSE
                DELETE FROM {keys} WHERE id = OLD.id;
            END IF;
            RETURN NULL;
        END $$""")
    cursor.execute(f"CREATE TRIGGER keys_insert AFTER INSERT ON {q_table} REFERENCING NEW TABLE AS new_rows "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {fn_insert}()")
    cursor.execute(f"CREATE TRIGGER keys_sync AFTER UPDATE OR DELETE ON {q_table} "
                   f"FOR EACH ROW EXECUTE FUNCTION {fn}()")
    cursor.execute(f"CREATE TRIGGER keys_truncate AFTER TRUNCATE ON {q_table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()")


def recreate_triggers(table: str) -> bool:
    """Give a partitioned ``table`` the current version of its key-table triggers (a migration's step); False when
    there is nothing to do (SQLite, or the table is not partitioned)."""
    if not supported():
        return False
    with default_connection.cursor() as cursor:
        if not is_partitioned(cursor, table):
            return False
        cursor.execute(
            "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 "
            "AND NOT a.attisdropped ORDER BY a.attnum", [keys_table(table)],
        )
        _create_triggers(cursor, table, [row[0] for row in cursor.fetchall()])
    return True


def _create_partition(cursor, table: str, month: date) -> None:
    cursor.execute(
        f"CREATE TABLE {_q(partition_name(table, month))} PARTITION OF {_q(table)} FOR VALUES FROM (%s) TO (%s)",
        [month_start(month), month_start(next_month(month))],
    )


# --- upkeep (the worker) --------------------------------------------------------------------------------------------


@dataclass
class Upkeep:
    created: list[str]
    moved: int  # rows moved out of DEFAULT partitions


def maintain(now: datetime | None = None, months_ahead: int = MONTHS_AHEAD) -> Upkeep:
    """Create the partitions of this month and ``months_ahead`` months ahead, and give every month that has rows in
    a DEFAULT partition a partition of its own, moving the rows (one transaction per partition). Idempotent."""
    result = Upkeep([], 0)
    if not supported():
        return result
    now = now or datetime.now(_tz())
    this = _local_month(now)
    for table, column in TABLES.items():
        with default_connection.cursor() as cursor:
            if not is_partitioned(cursor, table):
                continue
            cursor.execute(
                f"SELECT DISTINCT date_trunc('month', {_q(column)} AT TIME ZONE %s)::date "
                f"FROM {_q(default_partition(table))}", [settings.TIME_ZONE],
            )
            stray = {row[0] for row in cursor.fetchall()}
        existing = {p.month for p in partitions(table) if p.month}
        wanted = {add_months(this, n) for n in range(months_ahead + 1)} | stray
        for month in sorted(wanted - existing):
            with transaction.atomic(), default_connection.cursor() as cursor:
                moved = _create_with_rows(cursor, table, column, month)
            result.created.append(partition_name(table, month))
            result.moved += moved
    return result


def _create_with_rows(cursor, table: str, column: str, month: date) -> int:
    """The month's partition, with the rows the DEFAULT partition holds for it moved in (locks the table)."""
    part, default = _q(partition_name(table, month)), _q(default_partition(table))
    bounds = [month_start(month), month_start(next_month(month))]
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {default} WHERE {_q(column)} >= %s AND {_q(column)} < %s)", bounds)
    if not cursor.fetchone()[0]:
        _create_partition(cursor, table, month)
        return 0
    cursor.execute(f"LOCK TABLE {_q(table)} IN ACCESS EXCLUSIVE MODE")
    cursor.execute(f"CREATE TABLE {part} (LIKE {_q(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    cursor.execute(f"SET LOCAL {MOVE_FLAG} = 'on'")
    cursor.execute(
        f"WITH moved AS (DELETE FROM {default} WHERE {_q(column)} >= %s AND {_q(column)} < %s RETURNING *) "
        f"INSERT INTO {part} SELECT * FROM moved", bounds,
    )
    moved = cursor.rowcount
    cursor.execute(f"SET LOCAL {MOVE_FLAG} = 'off'")
    cursor.execute(f"ALTER TABLE {_q(table)} ATTACH PARTITION {part} FOR VALUES FROM (%s) TO (%s)", bounds)
    return moved


# --- archive ----------------------------------------------------------------------------------------------------------


def detach(table: str, month: date) -> str:
    """Detach the month's partition: its rows leave every page and statistic and stay in the table of the same
    name, to be dumped and dropped (docs/operations.md). Their key rows stay, so their unique values stay taken."""
    name = partition_name(table, month)
    with transaction.atomic(), default_connection.cursor() as cursor:
        if name not in {p.name for p in partitions(table)}:
            raise LookupError(name)
        cursor.execute(f"ALTER TABLE {_q(table)} DETACH PARTITION {_q(name)}")
        cleared = _copied_columns(cursor, table)
        if cleared:
            # Columns a key table copies for look-ups (not its unique keys, which stay taken) no longer describe a
            # live row: cleared, so a look-up there finds the archived row no more than one of the table would.
            cursor.execute(f"UPDATE {_q(keys_table(table))} SET {', '.join(f'{_q(c)} = NULL' for c in cleared)} "
                           f"WHERE {_q('id')} IN (SELECT {_q('id')} FROM {_q(name)})")
    return name


def attach(table: str, month: date) -> str:
    """Attach a detached month's table again (the reverse of :func:`detach`)."""
    name = partition_name(table, month)
    with transaction.atomic(), default_connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        if not cursor.fetchone()[0] or name in {p.name for p in partitions(table)}:
            raise LookupError(name)
        cursor.execute(f"ALTER TABLE {_q(table)} ATTACH PARTITION {_q(name)} FOR VALUES FROM (%s) TO (%s)",
                       [month_start(month), month_start(next_month(month))])
        copied = _copied_columns(cursor, table)
        if copied:
            cursor.execute(f"UPDATE {_q(keys_table(table))} k SET {', '.join(f'{_q(c)} = p.{_q(c)}' for c in copied)} "
                           f"FROM {_q(name)} p WHERE p.{_q('id')} = k.{_q('id')}")
    return name


def _copied_columns(cursor, table: str) -> list[str]:
    """The key table's nullable columns: copies of the row's own columns kept for look-ups (e.g. the 办件's status and
    units, evaluation migration 0010), as opposed to its unique keys and the columns they need (NOT NULL)."""
    cursor.execute("SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 "
                   "AND NOT attisdropped AND NOT attnotnull ORDER BY attnum", [keys_table(table)])
    return [row[0] for row in cursor.fetchall()]
