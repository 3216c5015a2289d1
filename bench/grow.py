"""Growing a bench database (bench/stats.py, bench/rebuild.py, bench/log.py): the demo template year seeded once,
then copied inside PostgreSQL up to a number of evaluations (see bench/stats.py's docstring for the method), and
the facts and rebuild the benches report about it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/grow.py _seed N` puts bench/, not the checkout, on the path
    sys.path.insert(0, str(ROOT))

from bench.common import _django_env, _haochaping_command  # noqa: E402 - after the path fix above

SHANGHAI = ZoneInfo("Asia/Shanghai")
STRIDE = 10_000_000  # copy k of template row id i gets id k*STRIDE + i (template ids stay below STRIDE)
COPIES_PER_STATEMENT = 20

def seed(database_url: str, template_records: int) -> dict:
    """The template year and the API key, built by the project's own code in a Django subprocess."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "_seed", str(template_records)],
        env=_django_env(database_url), check=True, timeout=1800, cwd=ROOT, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _seed_main(template_records: int) -> None:
    import django

    django.setup()
    from haochaping.accounts.models import Scope
    from haochaping.accounts.services import create_api_key
    from haochaping.demo import data, generator

    today = datetime.now(SHANGHAI).date()
    summary = generator.build(template_records, today=today)
    _key, secret = create_api_key(name="统计性能测试", scopes=[Scope.STATS_READ], rate_limit_per_minute=2_000_000_000)
    print(json.dumps({"api_key": secret, "today": str(today), "county": data.COUNTIES[0][0],
                      "template_records": summary.records, "template_evaluations": summary.evaluations}))


# Imported system defaults (R8.4) for a third of the completed 办件 that nobody rated: counted apart by the API.
SYSTEM_DEFAULTS_SQL = """
INSERT INTO evaluation_evaluation (stage, type, channel, level, is_bad, is_supplementary, comment, questionnaire,
    evaluator_phone_index, is_real_name, idempotency_key, request_hash, receipt_code, leaf_hash, source, created_at,
    agency_id, department_id, item_id, platform_id, record_id, region_id, staff_id, window_id, client_address_index,
    client_device_index)
SELECT 'complete', 'active', 'system_default', 5, false, false, '', '{}', '', false, 'bench-default-' || r.id,
    md5(r.project_no) || md5(r.id::text), 'BD' || lpad(r.id::text, 10, '0'), md5(r.project_no || 'leaf') || md5('x'),
    'bench', r.completed_at + interval '15 days', r.agency_id, r.department_id, r.item_id, r.platform_id, r.id,
    r.region_id, r.staff_id, r.window_id, '', ''
FROM records_servicerecord r
WHERE r.status = 3 AND r.id % 3 = 0 AND r.completed_at + interval '15 days' < now()
  AND NOT EXISTS (SELECT 1 FROM evaluation_evaluation e WHERE e.record_id = r.id AND e.stage = 'complete')
"""

TEMPLATE_SQL = [
    "DROP TABLE IF EXISTS bench_tpl_r, bench_tpl_e, bench_tpl_l",
    # latest: the last moment of the 办件 or any of its evaluations; a copy is moved back a year when it would end
    # in the future.
    """CREATE TABLE bench_tpl_r AS
       SELECT r.*, (row_number() OVER (ORDER BY r.id) - 1)::bigint AS idx,
              greatest(r.created_at, r.accepted_at, r.completed_at, r.updated_at,
                       (SELECT max(e.created_at) FROM evaluation_evaluation e WHERE e.record_id = r.id)) AS latest
       FROM records_servicerecord r""",
    "CREATE TABLE bench_tpl_e AS SELECT * FROM evaluation_evaluation",
    "CREATE TABLE bench_tpl_l AS SELECT evaluation_id, label_id FROM evaluation_evaluation_labels",
    "CREATE UNIQUE INDEX ON bench_tpl_r (id)",
    "ANALYZE bench_tpl_r",
    "ANALYZE bench_tpl_e",
    "ANALYZE bench_tpl_l",
]

# The same pseudo-random shift (whole days) for a copied 办件 and its evaluations.
_SHIFT = """make_interval(days => ((k * 7919 + r.idx * 104729) %% 365)::int
            - CASE WHEN r.latest + make_interval(days => ((k * 7919 + r.idx * 104729) %% 365)::int) >= now()
                   THEN 365 ELSE 0 END)"""

COPY_RECORDS_SQL = f"""
INSERT INTO records_servicerecord (id, project_no, applicant_type, applicant_name, applicant_id_number,
    applicant_id_index, applicant_phone, applicant_phone_index, record_type, promised_days, status, accepted_at,
    completed_at, due_date, overdue_explanation, push_hash, source, created_at, updated_at, agency_id, department_id,
    item_id, platform_id, region_id, staff_id, window_id)
SELECT k * {STRIDE} + r.id, r.project_no || '-' || k, r.applicant_type, r.applicant_name, r.applicant_id_number,
    r.applicant_id_index, r.applicant_phone, r.applicant_phone_index, r.record_type, r.promised_days, r.status,
    r.accepted_at + s.shift, r.completed_at + s.shift, (r.due_date + s.shift)::date, r.overdue_explanation,
    r.push_hash, r.source, r.created_at + s.shift, r.updated_at + s.shift, r.agency_id, r.department_id, r.item_id,
    r.platform_id, r.region_id, r.staff_id, r.window_id
FROM generate_series(%(k1)s::bigint, %(k2)s::bigint) k CROSS JOIN bench_tpl_r r CROSS JOIN LATERAL (SELECT {_SHIFT} AS shift) s
WHERE k * %(t)s::bigint + r.idx >= %(lo)s::bigint AND k * %(t)s::bigint + r.idx < %(hi)s::bigint
"""

COPY_EVALUATIONS_SQL = f"""
INSERT INTO evaluation_evaluation (id, stage, type, channel, level, is_bad, is_supplementary, comment, questionnaire,
    evaluator_name, evaluator_phone, evaluator_phone_index, is_real_name, idempotency_key, request_hash,
    receipt_code, leaf_hash, source, created_at, agency_id, department_id, item_id, platform_id, record_id,
    region_id, staff_id, window_id, client_address_index, client_device_index)
SELECT k * {STRIDE} + e.id, e.stage, e.type, e.channel, e.level, e.is_bad, e.is_supplementary, e.comment,
    e.questionnaire, e.evaluator_name, e.evaluator_phone, e.evaluator_phone_index, e.is_real_name,
    e.idempotency_key || '-' || k, e.request_hash, e.receipt_code || k, e.leaf_hash, e.source,
    e.created_at + s.shift, e.agency_id, e.department_id, e.item_id, e.platform_id, k * {STRIDE} + e.record_id,
    e.region_id, e.staff_id, e.window_id, e.client_address_index, e.client_device_index
FROM generate_series(%(k1)s::bigint, %(k2)s::bigint) k CROSS JOIN bench_tpl_r r CROSS JOIN LATERAL (SELECT {_SHIFT} AS shift) s
JOIN bench_tpl_e e ON e.record_id = r.id
WHERE k * %(t)s::bigint + r.idx >= %(lo)s::bigint AND k * %(t)s::bigint + r.idx < %(hi)s::bigint
"""

# The 差评 labels of the copied evaluations (the dashboard's 差评标签 chart and the pain points read them).
COPY_LABELS_SQL = f"""
INSERT INTO evaluation_evaluation_labels (evaluation_id, label_id)
SELECT k * {STRIDE} + l.evaluation_id, l.label_id
FROM generate_series(%(k1)s::bigint, %(k2)s::bigint) k CROSS JOIN bench_tpl_r r
JOIN bench_tpl_e e ON e.record_id = r.id JOIN bench_tpl_l l ON l.evaluation_id = e.id
WHERE k * %(t)s::bigint + r.idx >= %(lo)s::bigint AND k * %(t)s::bigint + r.idx < %(hi)s::bigint
"""

EXCLUSIONS_SQL = """
INSERT INTO evaluation_evaluationexclusion (reason, source, note, at, evaluation_id)
SELECT 'appeal_upheld', 'bench', '', e.created_at + interval '3 days', e.id
FROM evaluation_evaluation e
WHERE e.is_bad AND e.id % 20 = 0
  AND NOT EXISTS (SELECT 1 FROM evaluation_evaluationexclusion x WHERE x.evaluation_id = e.id)
"""


def prepare_template(database_url: str) -> tuple[int, int]:
    """System defaults into the template, then the template tables; returns (template 办件, template evaluations)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(SYSTEM_DEFAULTS_SQL)
        for sql in TEMPLATE_SQL:
            conn.execute(sql)
        t = conn.execute("SELECT count(*) FROM bench_tpl_r").fetchone()[0]
        e = conn.execute("SELECT count(*) FROM bench_tpl_e").fetchone()[0]
        if conn.execute(f"SELECT coalesce(max(id), 0) >= {STRIDE} FROM bench_tpl_r").fetchone()[0]:
            raise SystemExit("template too large for the id stride")
    return t, e


# Growing to 10^7 row by row through the partition triggers (one key-table INSERT per row) and with every secondary
# index maintained took hours on the shared 2-core machine. The bench therefore (a) turns triggers off for the copy
# (session_replication_role = replica, which also skips the foreign-key checks: the copies reference rows that exist
# by construction) and writes the key-table rows itself from the same statement (INSERT … RETURNING), and (b) drops
# the non-unique indexes of the big tables while copying and builds them again afterwards (one sort per index
# instead of 10^7 random insertions). The definitions are kept in bench_dropped_indexes until rebuilt, so an
# interrupted run can be finished by hand. Unique constraints (the key tables') stay in place.
BIG_TABLES = ("records_servicerecord", "evaluation_evaluation")


def _key_columns(conn, table: str) -> list[str] | None:
    """The key table's columns (core/partitions.py), or None where the table is not partitioned (no key table)."""
    rows = conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped "
        "ORDER BY attnum", [f"{table}_keys"],
    ).fetchall()
    return [r[0] for r in rows] or None


def _with_keys(conn, table: str, insert_sql: str) -> str:
    cols = _key_columns(conn, table)
    if not cols:
        return insert_sql
    names = ", ".join(f'"{c}"' for c in cols)
    return f"WITH ins AS ({insert_sql} RETURNING {names}) INSERT INTO {table}_keys ({names}) SELECT {names} FROM ins"


def drop_secondary_indexes(conn) -> int:
    conn.execute("CREATE TABLE IF NOT EXISTS bench_dropped_indexes (name text PRIMARY KEY, definition text NOT NULL)")
    rows = conn.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisunique AND NOT i.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)", [list(BIG_TABLES)],
    ).fetchall()
    for name, definition in rows:
        conn.execute("INSERT INTO bench_dropped_indexes VALUES (%s, %s) ON CONFLICT DO NOTHING",
                     [name, definition.replace(" ON ONLY ", " ON ", 1)])
        conn.execute(f'DROP INDEX "{name}"')
    return len(rows)


def restore_indexes(conn, say=print) -> None:
    if not conn.execute("SELECT to_regclass('bench_dropped_indexes') IS NOT NULL").fetchone()[0]:
        return
    for name, definition in conn.execute("SELECT name, definition FROM bench_dropped_indexes ORDER BY name").fetchall():
        started = time.perf_counter()
        conn.execute(definition)
        conn.execute("DELETE FROM bench_dropped_indexes WHERE name = %s", [name])
        say(f"  index {name} built in {time.perf_counter() - started:.1f} s")
    conn.execute("DROP TABLE bench_dropped_indexes")


def maintain_partitions(database_url: str) -> float:
    """The worker's partition upkeep: every month with rows in a DEFAULT partition gets its own partition."""
    started = time.perf_counter()
    subprocess.run([*_haochaping_command(), "partitions", "--maintain"], env=_django_env(database_url), check=True,
                   timeout=7200, cwd=ROOT, capture_output=True)
    return time.perf_counter() - started


def grow(database_url: str, t: int, have_slots: int, want_slots: int, say=print) -> dict:
    """Copy template 办件 (and their evaluations) into slots [have_slots, want_slots); slot p is copy p // t of
    template 办件 p % t. Slot range [0, t) is the template itself. Returns the phases' seconds."""
    import psycopg

    phases = {}
    t0 = time.perf_counter()

    k_first, k_last = have_slots // t, (want_slots - 1) // t
    with psycopg.connect(database_url, autocommit=True) as conn:
        dropped = drop_secondary_indexes(conn)
        say(f"  {dropped} secondary indexes dropped while copying")
        records_sql = _with_keys(conn, "records_servicerecord", COPY_RECORDS_SQL)
        evaluations_sql = _with_keys(conn, "evaluation_evaluation", COPY_EVALUATIONS_SQL)
        for k1 in range(k_first, k_last + 1, COPIES_PER_STATEMENT):
            k2 = min(k_last, k1 + COPIES_PER_STATEMENT - 1)
            params = {"k1": k1, "k2": k2, "t": t, "lo": have_slots, "hi": want_slots}
            started = time.perf_counter()
            with conn.transaction():
                conn.execute("SET LOCAL session_replication_role = replica")
                conn.execute(records_sql, params)
                conn.execute(evaluations_sql, params)
                conn.execute(COPY_LABELS_SQL, params)
            say(f"  copies {k1}–{k2} of {k_last} written in {time.perf_counter() - started:.1f} s")
        phases["copy_s"] = round(time.perf_counter() - t0, 1)
        # A copy moved back a year can land before the template's first month: the upkeep gives that month its
        # partition (cheap while the indexes are down).
        phases["partitions_s"] = round(maintain_partitions(database_url), 1)
        t1 = time.perf_counter()
        restore_indexes(conn, say)
        phases["indexes_s"] = round(time.perf_counter() - t1, 1)
    return phases


def finish(database_url: str) -> None:
    """Exclusions for the new 差评, identity sequences past the explicit ids, fresh planner statistics."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(EXCLUSIONS_SQL)
        for table in ("records_servicerecord", "evaluation_evaluation"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.execute("ANALYZE")


def analyze(database_url: str) -> None:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ANALYZE")


def database_facts(database_url: str) -> dict:
    import psycopg

    with psycopg.connect(database_url) as conn:
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "records": one("SELECT count(*) FROM records_servicerecord"),
            "completed": one("SELECT count(*) FROM records_servicerecord WHERE status = 3"),
            "evaluations": one("SELECT count(*) FROM evaluation_evaluation"),
            "excluded": one("SELECT count(*) FROM evaluation_evaluationexclusion"),
            "labels": one("SELECT count(*) FROM evaluation_evaluation_labels"),
            "system_default": one("SELECT count(*) FROM evaluation_evaluation WHERE channel = 'system_default'"),
            "counters": one("SELECT count(*) FROM insight_dailycounter"),
            "counted": one("SELECT coalesce(sum(count), 0) FROM insight_dailycounter"),
            "database_mb": round(one("SELECT pg_database_size(current_database())") / 2**20),
        }


def rebuild_rollups(database_url: str) -> float:
    started = time.perf_counter()
    subprocess.run([*_haochaping_command(), "rebuild_rollups", "-v", "0"], env=_django_env(database_url), check=True,
                   timeout=7200, cwd=ROOT)
    return time.perf_counter() - started


if __name__ == "__main__" and sys.argv[1:2] == ["_seed"]:  # seed()'s Django subprocess
    _seed_main(int(sys.argv[2]))
