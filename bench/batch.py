"""Batch intake beside psycopg COPY (issue 16 item 6): the same rows, in the same run as bench/ingest.py.

Batch phase: C threads POST the second half of the seeded 办件's evaluations to /api/v1/batch/evaluations,
BATCH items a request; every item must come back `created`. COPY phase: the very same rows (as ingest.py's
reference rows) go into `bench_copy` — the reference table's columns, primary key and unique keys — with one
psycopg `COPY … FROM STDIN` per BATCH rows, one connection per thread. The ratio batch/COPY is what the issue asks
to be at least 0.25."""

from __future__ import annotations

import threading
import time

from bench.common import CpuMeter

BATCH = 1000


def batch_phase(phase, base_url: str, api_key: str, bodies: list[dict], clients: int, *, server_pid: int,
                database_url: str, max_errors: int = 5):
    """POST ``bodies`` in batches of BATCH from ``clients`` keep-alive clients into ``phase`` (a bench Phase)."""
    import httpx

    from bench.ingest import _run_concurrently

    chunks = [bodies[i:i + BATCH] for i in range(0, len(bodies), BATCH)]
    lock = threading.Lock()
    http = [httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=600)
            for _ in range(clients)]

    def fail(message: str, n: int = 1) -> None:
        with lock:
            phase.errors += n
            if len(phase.error_samples) < max_errors:
                phase.error_samples.append(message)

    def one(worker: int, n: int) -> None:
        chunk = chunks[n]
        started = time.perf_counter()
        try:
            r = http[worker].post("/api/v1/batch/evaluations", json={"items": chunk})
        except httpx.HTTPError as exc:
            fail(f"{type(exc).__name__}: {exc}", len(chunk))
            return
        elapsed = (time.perf_counter() - started) * 1000
        if r.status_code != 200:
            fail(f"HTTP {r.status_code}: {r.text[:200]}", len(chunk))
            return
        answer = r.json()
        with lock:
            phase.latencies_ms.append(elapsed / len(chunk))  # per item, comparable with the single submits
        if answer["created"] != len(chunk):
            refused = [x["problem"] for x in answer["results"] if x["status"] != "created"]
            fail(f"{len(chunk) - answer['created']} not created, e.g. {refused[:1]}", len(chunk) - answer["created"])

    meter = CpuMeter(database_url, server_pid)
    try:
        meter.start()
        phase.wall_s = _run_concurrently(min(clients, len(chunks)), len(chunks), one)
        phase.cpu = meter.stop()
    finally:
        for c in http:
            c.close()
    return phase


def copy_phase(phase, database_url: str, rows: list[tuple], clients: int, ddl: str):
    """COPY ``rows`` into a fresh ``bench_copy`` (the reference table's shape), BATCH rows per COPY."""
    import psycopg

    from bench.ingest import _run_concurrently

    columns = ("record_id, stage, type, channel, level, is_bad, is_supplementary, comment, questionnaire, "
               "evaluator_name, evaluator_phone, evaluator_phone_index, is_real_name, item_id, region_id, "
               "department_id, agency_id, window_id, staff_id, platform_id, idempotency_key, request_hash, "
               "receipt_code, leaf_hash, source")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy")
        conn.execute(ddl.replace("bench_reference", "bench_copy"))
        conn.execute("ALTER TABLE bench_copy ALTER COLUMN created_at SET DEFAULT now()")
    chunks = [rows[i:i + BATCH] for i in range(0, len(rows), BATCH)]
    conns = [psycopg.connect(database_url) for _ in range(min(clients, len(chunks)))]
    lock = threading.Lock()

    def one(worker: int, n: int) -> None:
        conn = conns[worker]
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY bench_copy ({columns}) FROM STDIN") as copy:
            for row in chunks[n]:
                copy.write_row(row)
        conn.commit()
        with lock:
            phase.latencies_ms.append((time.perf_counter() - started) * 1000 / len(chunks[n]))

    try:
        for c in conns:
            c.execute("SELECT 1")
            c.commit()
        meter = CpuMeter(database_url)
        meter.start()
        phase.wall_s = _run_concurrently(len(conns), len(chunks), one)
        phase.cpu = meter.stop()
    finally:
        for c in conns:
            c.close()
    with psycopg.connect(database_url) as conn:
        stored = conn.execute("SELECT count(*) FROM bench_copy").fetchone()[0]
    return phase, stored


def schema_floor_phase(phase, database_url: str, count: int, clients: int):
    """Informational (not the issue's yardstick): the batch phase's own stored rows COPYed again, by psycopg with no
    application code, into the product's ``evaluation_evaluation`` — monthly partitions, their indexes, the checked
    foreign keys, the key table's trigger —, BATCH rows per COPY from ``clients`` connections. Each row gets a new
    id, idempotency key and receipt code and the stage ``accept`` (the batch rated ``complete``), the foreign keys
    are checked during the COPY (``SET CONSTRAINTS ALL IMMEDIATE``, what COMMIT would do) and each COPY is rolled
    back, so nothing stays. What the batch path could reach if it cost nothing but its rows' own COPY."""
    import uuid

    import psycopg
    from psycopg.types.json import Jsonb

    from bench.ingest import _run_concurrently

    with psycopg.connect(database_url) as conn:
        cols = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'evaluation_evaluation' "
            "ORDER BY ordinal_position")]
        at = {c: i for i, c in enumerate(cols)}
        stored = conn.execute(f"SELECT {', '.join(cols)} FROM evaluation_evaluation ORDER BY id DESC LIMIT %s",
                              [count]).fetchall()
        ids = [r[0] for r in conn.execute(
            "SELECT nextval(pg_get_serial_sequence('evaluation_evaluation', 'id')) FROM generate_series(1, %s)",
            [len(stored)])]
    rows = []
    for row, new_id in zip(stored, ids, strict=True):
        row = list(row)
        row[at["id"]], row[at["stage"]] = new_id, "accept"
        row[at["idempotency_key"]], row[at["receipt_code"]] = uuid.uuid4().hex, uuid.uuid4().hex[:16]
        row[at["questionnaire"]] = Jsonb(row[at["questionnaire"]])
        rows.append(row)
    chunks = [rows[i:i + BATCH] for i in range(0, len(rows), BATCH)]
    conns = [psycopg.connect(database_url) for _ in range(min(clients, len(chunks)))]
    lock = threading.Lock()
    copied = [0]

    def one(worker: int, n: int) -> None:
        conn = conns[worker]
        started = time.perf_counter()
        conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with conn.cursor() as cur, cur.copy(f"COPY evaluation_evaluation ({', '.join(cols)}) FROM STDIN") as copy:
            for row in chunks[n]:
                copy.write_row(row)
        conn.rollback()
        with lock:
            copied[0] += len(chunks[n])
            phase.latencies_ms.append((time.perf_counter() - started) * 1000 / len(chunks[n]))

    try:
        for c in conns:
            c.execute("SELECT 1")
            c.rollback()
        meter = CpuMeter(database_url)
        meter.start()
        phase.wall_s = _run_concurrently(len(conns), len(chunks), one)
        phase.cpu = meter.stop()
    finally:
        for c in conns:
            c.close()
    phase.count = len(rows)
    phase.errors = len(rows) - copied[0]
    return phase
