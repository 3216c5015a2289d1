"""Rectification cases for an existing bench database's 差评, written set-wise by SQL, then the case counters.

    python bench/grow_cases.py --database-url postgres://…/hcp_…_bench

The bench's evaluations come without cases (bench/stats.py copies 办件 and evaluations only), so the dashboards'
整改与申诉 figures had nothing to count. This opens one case per 差评 (level 1–2, kind bad_review) that has none,
on the 差评's day and units, in a realistic mix fixed by the evaluation's id — closed, answered, rectifying with a
台账, called back, still open; handled on time or late; a 差评 in twenty appealed (submitted, upheld or rejected) —
older cases mostly finished, the last weeks' partly in hand; then fills CaseTally, CaseDayCounter and
CaseMonthCounter with the rebuild's own SQL (insight.rollups.rebuilding.rebuild_cases) and runs ANALYZE. A few
INSERT … SELECT statements and one rebuild: minutes at 10^7 evaluations (~2 % 差评). Running it again adds cases only
for 差评 without one. No transitions, audit entries or evaluation exclusions are written (no page measured reads
them for these figures). PostgreSQL only; a bench tool, not a product path.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

# r = the evaluation's id mod 100 fixes a case's fate; age = days since it was opened (北京时间 days from now()).
CASES_SQL = """
INSERT INTO rectification_rectificationcase ({columns})
SELECT {values}
FROM (
    SELECT e.*, e.id % 100 AS r,
           (now() AT TIME ZONE 'Asia/Shanghai')::date - (e.created_at AT TIME ZONE 'Asia/Shanghai')::date AS age,
           (e.created_at AT TIME ZONE 'Asia/Shanghai')::date AS opened_on
    FROM evaluation_evaluation e
    WHERE e.is_bad AND e.channel <> 'system_default'
      AND NOT EXISTS (SELECT 1 FROM rectification_rectificationcase c WHERE c.evaluation_id = e.id)
) e
"""

# The state each r (and age) gives: mostly closed once a month has passed; in hand in the last weeks.
STATE = """CASE
    WHEN e.age <= 2 AND e.r < 60 THEN 'open'
    WHEN e.age <= 2 THEN 'called_back'
    WHEN e.age <= 40 AND e.r >= 90 THEN 'open'
    WHEN e.age <= 40 AND e.r >= 84 THEN 'called_back'
    WHEN e.age <= 40 AND e.r >= 76 THEN 'rectifying'
    WHEN e.age <= 40 AND e.r >= 66 THEN 'answered'
    ELSE 'closed' END"""
OUTCOME = """CASE WHEN e.r % 10 < 5 THEN 'fixed_now' WHEN e.r % 10 < 7 THEN 'explained'
    WHEN e.r % 10 < 9 THEN 'deadline' ELSE 'mistaken' END"""

APPEALS_SQL = """
INSERT INTO rectification_appeal (case_id, evaluation_id, appellant_id, party, explanation, state, submitted_at,
    review_due, reviewer_id, decided_at, decision_note)
SELECT c.id, c.evaluation_id, %(user)s, 'unit', '（压测）评价与事实不符',
       CASE WHEN mod(c.evaluation_id, 100) IN (95, 96) AND c.opened_at > now() - interval '10 days' THEN 'submitted'
            WHEN mod(c.id, 3) = 0 THEN 'upheld' ELSE 'rejected' END,
       c.opened_at + interval '1 day', (c.opened_at + interval '8 days')::date, NULL,
       CASE WHEN mod(c.evaluation_id, 100) IN (95, 96) AND c.opened_at > now() - interval '10 days' THEN NULL
            ELSE c.opened_at + interval '5 days' END, ''
FROM rectification_rectificationcase c
WHERE c.kind = 'bad_review' AND mod(c.evaluation_id, 100) >= 95 AND c.id > %(after)s
"""

LEDGER_SQL = """
INSERT INTO rectification_ledgerentry (case_id, problem, measures, responsible_person, deadline, extension_approved,
    extension_reason, extension_decided_by_id, extension_decided_at, completed_at, evidence)
SELECT c.id, '（压测）存在问题', '（压测）整改措施', '责任人',
       c.rectify_due + CAST((mod(c.evaluation_id, 5) - 2) * 3 AS integer), mod(c.evaluation_id, 7) = 0, '', NULL, NULL, c.handled_at, ''
FROM rectification_rectificationcase c
WHERE c.outcome = 'deadline' AND c.id > %(after)s
"""


def _case_values() -> tuple[str, str]:
    """The case table's columns and, for each, the expression over the 差评 ``e`` (text columns the product leaves
    blank: '', nullable ones: NULL) — from the model, so a new column with a default needs no change here."""
    from django.db import models

    from haochaping.rectification.models import RectificationCase

    state = f"({STATE})"
    handled = (f"CASE WHEN {state} IN ('closed', 'answered') THEN e.created_at + "
               "CAST(e.r % 11 AS integer) * interval '1 day' + interval '3 hours' END")
    given = {
        "kind": "'bad_review'", "state": state, "evaluation_id": "e.id", "record_id": "e.record_id",
        "region_id": "e.region_id", "department_id": "e.department_id", "agency_id": "e.agency_id",
        "platform_id": "e.platform_id", "is_real_name": "e.is_real_name", "opened_at": "e.created_at",
        "callback_due": "e.opened_on + 1", "fix_now_due": "e.opened_on + 7", "rectify_due": "e.opened_on + 21",
        "appeal_due": "e.opened_on + 5",
        "outcome": f"CASE WHEN {state} IN ('open', 'called_back') THEN '' WHEN {state} = 'rectifying' THEN 'deadline' "
                   f"ELSE {OUTCOME} END",
        "callback_at": f"CASE WHEN {state} <> 'open' AND e.r % 17 <> 0 THEN e.created_at + interval '20 hours' END",
        "callback_method": f"CASE WHEN {state} <> 'open' THEN 'phone' ELSE '' END",
        "handled_at": handled,
        "answered_at": handled,
        "closed_at": f"CASE WHEN {state} = 'closed' THEN e.created_at + CAST(e.r % 11 + 2 AS integer) * interval '1 day' END",
        "reopen_count": "0",
    }
    columns, values = [], []
    for field in RectificationCase._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(f'"{field.column}"')
        if field.attname in given:
            values.append(given[field.attname])
        elif field.null:
            values.append("NULL")
        elif isinstance(field, (models.CharField, models.TextField)):
            values.append("''")
        elif field.has_default():
            values.append(repr(field.get_default()).lower() if isinstance(field.get_default(), bool)
                          else str(field.get_default()))
        else:
            raise SystemExit(f"grow_cases: no value for rectification case column {field.column}")
    return ", ".join(columns), ", ".join(values)


def grow_cases(database_url: str, say=print) -> dict:
    """Cases for the 差评 without one, their appeals and 台账, then the case counters. Returns counts and seconds."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haochaping.settings")
    import django

    django.setup()
    from django.db import connection, transaction

    from haochaping.accounts.models import User
    from haochaping.insight.rollups.rebuilding import rebuild_cases

    out: dict = {}
    t0 = time.perf_counter()
    columns, values = _case_values()
    from haochaping.accounts.roles import Role

    # The appeals' appellant (and nothing else): a handler account of the bench's own.
    user = User.objects.get_or_create(username="bench-appellant", defaults={"role": Role.HANDLER,
                                                                            "is_active": False})[0].pk
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM rectification_rectificationcase")
        after = cursor.fetchone()[0]
        cursor.execute(CASES_SQL.format(columns=columns, values=values))
        out["cases"] = cursor.rowcount
        cursor.execute(APPEALS_SQL, {"user": user, "after": after})
        out["appeals"] = cursor.rowcount
        cursor.execute(LEDGER_SQL, {"after": after})
        out["ledger_entries"] = cursor.rowcount
    out["cases_s"] = round(time.perf_counter() - t0, 1)
    say(f"  {out['cases']} cases, {out['appeals']} appeals, {out['ledger_entries']} 台账 in {out['cases_s']} s")
    t1 = time.perf_counter()
    counted, differing = rebuild_cases(None, None)
    out["counters_s"] = round(time.perf_counter() - t1, 1)
    say(f"  case counters: {counted} cases counted ({differing} rows rewritten) in {out['counters_s']} s")
    with connection.cursor() as cursor:
        for table in ("rectification_rectificationcase", "rectification_appeal", "rectification_ledgerentry",
                      "insight_casetally", "insight_casedaycounter", "insight_casemonthcounter"):
            cursor.execute(f"ANALYZE {table}")
        cursor.execute("SELECT state, count(*) FROM rectification_rectificationcase GROUP BY state ORDER BY state")
        out["states"] = dict(cursor.fetchall())
    say(f"  states: {out['states']}")
    out["total_s"] = round(time.perf_counter() - t0, 1)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", required=True, help="PostgreSQL URL of an existing bench database")
    args = p.parse_args(argv)
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        p.error("PostgreSQL only")
    result = grow_cases(args.database_url)
    print(f"total {result['total_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
