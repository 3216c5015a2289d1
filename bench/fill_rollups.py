"""The summary counters of a bench database recomputed by SQL inside PostgreSQL — for sizes where
``rebuild_rollups`` (Python, month by month) takes hours on the shared 2-core machine.

    python bench/fill_rollups.py --database-url postgres://…/hcp_…_bench [--check]

The bench's copies are written without their counters (bench/stats.py); this writes every table the dashboard
pages read — DailyCounter, DailyParticipation, UnitDayCounter, RegionDayCounter, RegionDayMix and their month rows
(RegionMonthCounter, UnitMonthCounter, RegionMonthMix, where the migration made them) — with GROUP BY statements
that follow the definitions of ``insight.rollups`` (rollups.expected, participation.expected, wide.expected,
mix.expected, monthly.expected), in one transaction. Not the questionnaire counters (no measured page reads them).
``haochaping rebuild_rollups --check`` on the same database must then agree for everything but the questionnaire
counters: bench/README.md records that check at 10^5. A bench tool, not a product path: the product's rebuild is
``rebuild_rollups``.
"""

from __future__ import annotations

import argparse
import sys
import time

TZ = "Asia/Shanghai"
LEVELS = range(1, 6)
BAD = "(1, 2)"  # insight.rules.BAD_LEVELS
DEFAULT = "'system_default'"  # evaluation Channel.SYSTEM_DEFAULT
UNITS = 'region, department, agency, "window", staff'
WIDE = ("level1", "level2", "level3", "level4", "level5", "followups", "real_name", "excluded", "excluded_bad",
        "system_default", "completed", "rated")


def _day(column: str) -> str:
    return f"({column} AT TIME ZONE '{TZ}')::date"


DAILY_COUNTER = f"""
INSERT INTO insight_dailycounter (day, region, department, agency, "window", staff, item, platform, channel, level,
    type, is_real_name, excluded, count)
SELECT {_day('e.created_at')}, e.region_id, e.department_id, coalesce(e.agency_id, 0), coalesce(e.window_id, 0),
    coalesce(e.staff_id, 0), e.item_id, coalesce(e.platform_id, 0), e.channel, e.level, e.type, e.is_real_name,
    x.evaluation_id IS NOT NULL, count(*)
FROM evaluation_evaluation e LEFT JOIN evaluation_evaluationexclusion x ON x.evaluation_id = e.id
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13
"""

# "" rows: completed 办件 and, of those, the ones with an evaluation that is not a system default.
PARTICIPATION_ALL = f"""
INSERT INTO insight_dailyparticipation (day, region, department, agency, "window", staff, item, platform, channel,
    completed, rated)
SELECT {_day('r.completed_at')}, r.region_id, r.department_id, coalesce(r.agency_id, 0), coalesce(r.window_id, 0),
    coalesce(r.staff_id, 0), r.item_id, coalesce(r.platform_id, 0), '', count(*),
    count(*) FILTER (WHERE EXISTS (SELECT 1 FROM evaluation_evaluation e WHERE e.record_id = r.id
                                   AND e.channel <> {DEFAULT}))
FROM records_servicerecord r
WHERE r.status = 3 AND r.completed_at IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
"""

# Channel rows: completed 办件 rated through the channel (distinct 办件).
PARTICIPATION_CHANNELS = f"""
INSERT INTO insight_dailyparticipation (day, region, department, agency, "window", staff, item, platform, channel,
    completed, rated)
SELECT {_day('r.completed_at')}, r.region_id, r.department_id, coalesce(r.agency_id, 0), coalesce(r.window_id, 0),
    coalesce(r.staff_id, 0), r.item_id, coalesce(r.platform_id, 0), e.channel, 0, count(DISTINCT r.id)
FROM records_servicerecord r JOIN evaluation_evaluation e ON e.record_id = r.id AND e.channel <> {DEFAULT}
WHERE r.status = 3 AND r.completed_at IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
"""

_VALID = f"NOT excluded AND channel <> {DEFAULT}"
_LEVEL_SUMS = ", ".join(f"coalesce(sum(count) FILTER (WHERE {_VALID} AND level = {lv}), 0)" for lv in LEVELS)
UNIT_DAY = f"""
INSERT INTO insight_unitdaycounter (day, {UNITS}, {", ".join(WIDE)})
SELECT day, {UNITS}, {", ".join(f"sum({c})" for c in WIDE)} FROM (
    SELECT day, {UNITS}, {_LEVEL_SUMS},
        coalesce(sum(count) FILTER (WHERE {_VALID} AND type = 'followup'), 0),
        coalesce(sum(count) FILTER (WHERE {_VALID} AND is_real_name), 0),
        coalesce(sum(count) FILTER (WHERE excluded AND channel <> {DEFAULT}), 0),
        coalesce(sum(count) FILTER (WHERE excluded AND channel <> {DEFAULT} AND level IN {BAD}), 0),
        coalesce(sum(count) FILTER (WHERE channel = {DEFAULT}), 0), 0, 0
    FROM insight_dailycounter GROUP BY day, {UNITS}
    UNION ALL
    SELECT day, {UNITS}, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, sum(completed), sum(rated)
    FROM insight_dailyparticipation WHERE channel = '' GROUP BY day, {UNITS}
) AS u (day, {UNITS}, {", ".join(WIDE)})
GROUP BY day, {UNITS}
HAVING {" OR ".join(f"sum({c}) <> 0" for c in WIDE)}
"""

REGION_DAY = f"""
INSERT INTO insight_regiondaycounter (day, region, department, {", ".join(WIDE)})
SELECT day, region, department, {", ".join(f"sum({c})" for c in WIDE)} FROM insight_unitdaycounter
GROUP BY day, region, department
"""

MIX_CHANNELS = f"""
INSERT INTO insight_regiondaymix (day, region, department, kind, key, count)
SELECT day, region, department, 'channel', channel, sum(count) FROM insight_dailycounter WHERE {_VALID}
GROUP BY day, region, department, channel HAVING sum(count) <> 0
"""

MIX_LABELS = f"""
INSERT INTO insight_regiondaymix (day, region, department, kind, key, count)
SELECT {_day('e.created_at')}, e.region_id, e.department_id, 'label', l.label_id, count(*)
FROM evaluation_evaluation_labels l JOIN evaluation_evaluation e ON e.id = l.evaluation_id
WHERE e.is_bad AND e.channel <> {DEFAULT}
  AND NOT EXISTS (SELECT 1 FROM evaluation_evaluationexclusion x WHERE x.evaluation_id = e.id)
GROUP BY 1, 2, 3, 5
"""


def _month_sql(day_table: str, month_table: str, keys: str, values: tuple[str, ...]) -> str:
    return (f"INSERT INTO {month_table} (day, {keys}, {', '.join(values)}) "
            f"SELECT date_trunc('month', day)::date, {keys}, {', '.join(f'sum({v})' for v in values)} "
            f"FROM {day_table} GROUP BY 1, {keys} HAVING {' OR '.join(f'sum({v}) <> 0' for v in values)}")


MONTHS = [
    ("insight_regionmonthcounter", _month_sql("insight_regiondaycounter", "insight_regionmonthcounter",
                                              "region, department", WIDE)),
    ("insight_unitmonthcounter", _month_sql("insight_unitdaycounter", "insight_unitmonthcounter", UNITS, WIDE)),
    ("insight_regionmonthmix", _month_sql("insight_regiondaymix", "insight_regionmonthmix",
                                          "region, department, kind, key", ("count",))),
]

STEPS = [
    ("insight_dailycounter", [DAILY_COUNTER]),
    ("insight_dailyparticipation", [PARTICIPATION_ALL, PARTICIPATION_CHANNELS]),
    ("insight_unitdaycounter", [UNIT_DAY]),
    ("insight_regiondaycounter", [REGION_DAY]),
    ("insight_regiondaymix", [MIX_CHANNELS, MIX_LABELS]),
]


def fill(database_url: str, say=print) -> dict:
    """Replace the counters by the SQL recomputation, in one transaction; returns seconds per table."""
    import psycopg

    seconds = {}
    with psycopg.connect(database_url) as conn:
        conn.execute("SET LOCAL work_mem = '256MB'")
        have = {r[0] for r in conn.execute("SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE 'insight_%'")}
        steps = STEPS + [(table, [sql]) for table, sql in MONTHS if table in have]
        conn.execute("TRUNCATE " + ", ".join(table for table, _s in steps))
        for table, statements in steps:
            started = time.perf_counter()
            for sql in statements:
                conn.execute(sql)
            seconds[table] = round(time.perf_counter() - started, 1)
            say(f"  {table}: {seconds[table]} s")
        conn.commit()
    with psycopg.connect(database_url, autocommit=True) as conn:
        for table, _s in steps:
            conn.execute(f"ANALYZE {table}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url", required=True)
    a = p.parse_args(argv)
    if "bench" not in a.database_url.rsplit("/", 1)[-1]:
        raise SystemExit("refusing: the database name must contain 'bench'")
    started = time.perf_counter()
    fill(a.database_url, say=lambda m: print(m, flush=True))
    print(f"filled in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
