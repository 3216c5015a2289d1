"""The reference writes bench/ingest.py compares the API with: bare single-row INSERT + COMMIT through psycopg into
`bench_reference`, a table with the evaluation row's columns and widths (also the shape `bench/batch.py` COPYs into)."""

from __future__ import annotations

import json
import threading
import time
import uuid

from bench.common import CpuMeter

REFERENCE_DDL = """
CREATE TABLE bench_reference (
    id bigserial PRIMARY KEY,
    record_id bigint NOT NULL,
    stage varchar(10) NOT NULL,
    type varchar(10) NOT NULL,
    channel varchar(20) NOT NULL,
    level smallint NOT NULL,
    is_bad boolean NOT NULL,
    is_supplementary boolean NOT NULL,
    comment text NOT NULL,
    questionnaire jsonb NOT NULL,
    evaluator_name text NOT NULL,
    evaluator_phone text NOT NULL,
    evaluator_phone_index varchar(64) NOT NULL,
    is_real_name boolean NOT NULL,
    item_id bigint NOT NULL,
    region_id varchar(12) NOT NULL,
    department_id bigint NOT NULL,
    agency_id bigint,
    window_id bigint,
    staff_id bigint,
    platform_id bigint,
    idempotency_key varchar(100) NOT NULL UNIQUE,
    request_hash varchar(64) NOT NULL,
    receipt_code varchar(20) NOT NULL UNIQUE,
    leaf_hash varchar(64) NOT NULL,
    source varchar(100) NOT NULL,
    created_at timestamptz NOT NULL
)
"""

REFERENCE_INSERT = """
INSERT INTO bench_reference (record_id, stage, type, channel, level, is_bad, is_supplementary, comment,
    questionnaire, evaluator_name, evaluator_phone, evaluator_phone_index, is_real_name, item_id, region_id,
    department_id, agency_id, window_id, staff_id, platform_id, idempotency_key, request_hash, receipt_code,
    leaf_hash, source, created_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())
"""


def _reference_row(i: int, body: dict) -> tuple:
    # Same widths as an evaluation row: hex strings where the real row holds hashes and ciphertext.
    phone = (body.get("evaluator") or {}).get("phone", "")
    hexes = uuid.uuid4().hex * 2
    return (
        i + 1, body["stage"], "active", body["channel"], body["level"], body["level"] <= 2, False,
        body.get("comment", ""), json.dumps(body.get("questionnaire", {})), "",
        (hexes + hexes)[:96] if phone else "", hexes if phone else "", bool(phone), 1, "370102", 1, 1, 1, 1, None,
        body["idempotency_key"], hexes, uuid.uuid4().hex[:12].upper(), hexes, "apikey:bench0000",
    )


def reference_inserts(database_url: str, bodies: list[dict], clients: int) -> tuple:
    """The same number of single-row INSERT + COMMITs, one connection per thread; returns the phase and row count."""
    import psycopg

    from bench.ingest import MAX_ERRORS_KEPT, Phase, _run_concurrently

    url = database_url  # libpq takes the same postgres:// URL as dj-database-url
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_reference")
        conn.execute(REFERENCE_DDL)
    rows = [_reference_row(i, b) for i, b in enumerate(bodies)]
    phase = Phase("psycopg INSERT+COMMIT", count=len(rows))
    lock = threading.Lock()
    conns = [psycopg.connect(url) for _ in range(clients)]

    def one(worker: int, i: int) -> None:
        conn = conns[worker]
        started = time.perf_counter()
        try:
            conn.execute(REFERENCE_INSERT, rows[i])
            conn.commit()
        except psycopg.Error as exc:
            conn.rollback()
            with lock:
                phase.errors += 1
                if len(phase.error_samples) < MAX_ERRORS_KEPT:
                    phase.error_samples.append(str(exc))
            return
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            phase.latencies_ms.append(elapsed)

    try:
        for c in conns:  # each connection's first round trip happens before the clock starts, as for the server
            c.execute("SELECT 1")
            c.commit()
        meter = CpuMeter(url)
        meter.start()
        phase.wall_s = _run_concurrently(clients, len(rows), one)
        phase.cpu = meter.stop()
    finally:
        for c in conns:
            c.close()
    with psycopg.connect(url) as conn:
        stored = conn.execute("SELECT count(*) FROM bench_reference").fetchone()[0]
    return phase, stored
