"""What each part of the evaluation table's schema costs a COPY (issue 16 item 6): PostgreSQL backend CPU of COPYing
N stored evaluation rows (new ids, keys, receipts, stage ``accept``; foreign keys checked during the COPY) into
``evaluation_evaluation`` as it is, and with one part dropped inside the transaction (indexes, foreign keys, the
key table's trigger), each rolled back. Run after bench/ingest.py on its database::

    N=4000 .venv/bin/python bench/schema_costs.py postgres://…/hcp_…bench [rounds]

Names are those of the schema before migration evaluation 0008 (a part already gone is skipped: IF EXISTS).
CPU is read from /proc for the backend (same machine only), in clock ticks (10 ms): use N of several thousand.
"""
import os
import statistics
import sys
import uuid

import psycopg
from psycopg.types.json import Jsonb

URL = sys.argv[1]
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
N = int(os.environ.get("N", 1000))
LIKE = ["evaluation_evaluation_evaluator_phone_index_066010df_like", "evaluation_evaluation_idempotency_key_c34c73f1_like",
        "evaluation_evaluation_receipt_code_8a3d914a_like", "evaluation_evaluation_region_id_c431f9e2_like"]
PART = ["evaluation_evaluation_idempotency_key_key_part", "evaluation_evaluation_receipt_code_key_part"]
REC = ["evaluation_evaluation_record_id_80e7fd4f"]
REGION = ["evaluation_evaluation_region_id_c431f9e2"]
FK_ORG = ["evaluation_evaluatio_agency_id_546b3a20_fk_org_servi", "evaluation_evaluatio_department_id_1d484d61_fk_org_depar",
          "evaluation_evaluatio_item_id_cc005523_fk_catalog_s", "evaluation_evaluation_platform_id_8e689066_fk_org_platform_id",
          "evaluation_evaluation_region_id_c431f9e2_fk_org_region_code", "evaluation_evaluation_staff_id_8435c065_fk_org_staff_id",
          "evaluation_evaluation_window_id_f72899ee_fk_org_window_id"]
FK_REC = ["evaluation_evaluatio_record_id_80e7fd4f_fk_records_s"]
VARIANTS = {
    "as is": [],
    "-4 like twins": [f"DROP INDEX IF EXISTS {i}" for i in LIKE],
    "-record_id idx": [f"DROP INDEX IF EXISTS {i}" for i in REC],
    "-region_id idx": [f"DROP INDEX IF EXISTS {i}" for i in REGION],
    "-2 _part idx": [f"DROP INDEX IF EXISTS {i}" for i in PART],
    "-7 org FKs": [f"ALTER TABLE evaluation_evaluation DROP CONSTRAINT IF EXISTS {c}" for c in FK_ORG],
    "-record FK": [f"ALTER TABLE evaluation_evaluation DROP CONSTRAINT IF EXISTS {c}" for c in FK_REC],
    "-keys trigger": ["ALTER TABLE evaluation_evaluation DISABLE TRIGGER USER"],
    "-all idx but pkey": "ALLIDX",
}

TICK = os.sysconf("SC_CLK_TCK")
def cpu(conn):
    f = open(f"/proc/{conn.info.backend_pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK

with psycopg.connect(URL) as conn:
    cols = [r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'evaluation_evaluation' ORDER BY ordinal_position")]
    at = {c: i for i, c in enumerate(cols)}
    stored = conn.execute(f"SELECT {', '.join(cols)} FROM evaluation_evaluation ORDER BY id LIMIT %s", [N]).fetchall()
    allidx = [r[0] for r in conn.execute("select indexname from pg_indexes where tablename='evaluation_evaluation' and indexname <> 'evaluation_evaluation_pkey'")]
    conn.rollback()
    times = {k: [] for k in VARIANTS}
    print(f"load {os.getloadavg()[0]:.1f}")
    for _round in range(ROUNDS):
        for name, ddl in VARIANTS.items():
            if ddl == "ALLIDX":
                ddl = [f"DROP INDEX IF EXISTS {i}" for i in allidx]
            ids = [r[0] for r in conn.execute("SELECT nextval(pg_get_serial_sequence('evaluation_evaluation', 'id')) FROM generate_series(1, %s)", [N])]
            rows = []
            for row, new_id in zip(stored, ids, strict=True):
                row = list(row)
                row[at["id"]], row[at["stage"]] = new_id, "accept"
                row[at["idempotency_key"]], row[at["receipt_code"]] = uuid.uuid4().hex, uuid.uuid4().hex[:16]
                row[at["questionnaire"]] = Jsonb(row[at["questionnaire"]])
                rows.append(row)
            conn.rollback()
            for d in ddl:
                conn.execute(d)
            conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
            t = cpu(conn)
            with conn.cursor() as cur, cur.copy(f"COPY evaluation_evaluation ({', '.join(cols)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            times[name].append(cpu(conn) - t)
            conn.rollback()
    base = statistics.median(times["as is"])
    for name, ts in times.items():
        m = statistics.median(ts)
        print(f"{name:20} backend CPU median {m*1000:7.1f} ms per {N} rows  ({(m-base)*1e6/N:+7.1f} µs/row vs as is)")
