"""The database's floor for batch intake (issue 16 item 6): the same evaluation rows COPYed by psycopg, no
application code, into the real ``evaluation_evaluation`` (partitions, indexes, deferred foreign keys, the key
table's trigger) and into the ``bench_copy`` shape bench/ingest.py compares the batch endpoint with.

Run after ``bench/ingest.py`` on its database (it takes that run's stored evaluations as the rows). Each round copies
``--rows`` of them, given new ids, keys and receipts and the stage ``accept`` (the bench rates ``complete`` only),
with every foreign key checked during the COPY (``SET CONSTRAINTS ALL IMMEDIATE``: what COMMIT would check), then
rolls back; the same rows go into an empty ``bench_copy_floor`` likewise (COPY timed, rolled back). Neither time
includes a commit, so rounds repeat and nothing stays behind::

    .venv/bin/python bench/copy_floor.py --database-url postgres://…/hcp_bench_… [--rows 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.reference import REFERENCE_DDL  # noqa: E402 - after the path fix above

REFERENCE_COLUMNS = ("record_id, stage, type, channel, level, is_bad, is_supplementary, comment, questionnaire, "
                     "evaluator_name, evaluator_phone, evaluator_phone_index, is_real_name, item_id, region_id, "
                     "department_id, agency_id, window_id, staff_id, platform_id, idempotency_key, request_hash, "
                     "receipt_code, leaf_hash, source, created_at").split(", ")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url", required=True)
    p.add_argument("--rows", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=5)
    a = p.parse_args(argv)
    import psycopg
    from psycopg.types.json import Jsonb

    with psycopg.connect(a.database_url) as conn:
        cols = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'evaluation_evaluation' "
            "ORDER BY ordinal_position")]
        at = {c: i for i, c in enumerate(cols)}
        stored = conn.execute(f"SELECT {', '.join(cols)} FROM evaluation_evaluation ORDER BY id LIMIT %s",
                              [a.rows]).fetchall()
        if len(stored) < a.rows:
            raise SystemExit(f"only {len(stored)} evaluations stored; run bench/ingest.py on this database first")
        conn.rollback()
        conn.execute("DROP TABLE IF EXISTS bench_copy_floor")
        conn.execute(REFERENCE_DDL.replace("bench_reference", "bench_copy_floor"))
        conn.commit()
        print(f"COPY of {a.rows} evaluation rows, load average {os.getloadavg()[0]:.1f}")
        ratios = []
        for n in range(a.rounds):
            ids = [r[0] for r in conn.execute(
                "SELECT nextval(pg_get_serial_sequence('evaluation_evaluation', 'id')) FROM generate_series(1, %s)",
                [a.rows])]
            rows = []
            for row, new_id in zip(stored, ids, strict=True):
                row = list(row)
                row[at["id"]], row[at["stage"]] = new_id, "accept"
                row[at["idempotency_key"]], row[at["receipt_code"]] = uuid.uuid4().hex, uuid.uuid4().hex[:16]
                row[at["questionnaire"]] = Jsonb(row[at["questionnaire"]])
                rows.append(row)
            conn.rollback()
            started = time.perf_counter()
            conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
            with conn.cursor() as cur, cur.copy(f"COPY evaluation_evaluation ({', '.join(cols)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            real = time.perf_counter() - started
            conn.rollback()
            plain = [[row[at[c]] if c not in ("evaluator_name", "evaluator_phone") else "" for c in REFERENCE_COLUMNS]
                     for row in rows]
            started = time.perf_counter()
            with conn.cursor() as cur, cur.copy(
                    f"COPY bench_copy_floor ({', '.join(REFERENCE_COLUMNS)}) FROM STDIN") as copy:
                for row in plain:
                    copy.write_row(row)
            shape = time.perf_counter() - started
            conn.rollback()
            ratios.append(shape / real)
            print(f"round {n + 1}: evaluation_evaluation {real * 1000:.0f} ms, bench_copy shape {shape * 1000:.0f} ms, "
                  f"ratio {shape / real:.3f}")
        conn.execute("DROP TABLE bench_copy_floor")
        conn.commit()
        ratios.sort()
        print(f"median ratio bench_copy/real: {ratios[len(ratios) // 2]:.3f} — the most a batch path could reach "
              f"against bench_copy's COPY if it cost nothing but the rows' own COPY")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
