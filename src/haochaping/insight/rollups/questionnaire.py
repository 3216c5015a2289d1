"""The questionnaire counters (QuestionnaireCounter) and the improvement suggestions (Suggestion): written with
the evaluation in its transaction, taken out again when it is excluded, rebuilt from the evaluations.

Only valid evaluations count (not imported system defaults, not excluded ones), like every other figure. One
``INSERT … ON CONFLICT … DO UPDATE SET col = col + excluded.col`` per change, as rollups/__init__.py does."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from django.db import connection
from django.db.models import Exists, OuterRef

from haochaping.core.bulk import inserter
from haochaping.evaluation.models import Channel, Evaluation, EvaluationExclusion
from haochaping.evaluation.rows import local_day

from ..metrics.filters import day_start
from ..models import (
    QUESTIONNAIRE_KEY_FIELDS,
    QUESTIONNAIRE_VALUES,
    QUESTIONS,
    QuestionnaireCounter,
    Suggestion,
)
from ..painpoints.text import redact
from . import recount

_SQL: dict[str, str] = {}


def _sql() -> str:
    if connection.vendor not in _SQL:
        q = connection.ops.quote_name
        table = q(QuestionnaireCounter._meta.db_table)
        columns = (*QUESTIONNAIRE_KEY_FIELDS, *QUESTIONNAIRE_VALUES)
        sets = ", ".join(f"{q(c)} = {table}.{q(c)} + EXCLUDED.{q(c)}" for c in QUESTIONNAIRE_VALUES)
        _SQL[connection.vendor] = (
            f"INSERT INTO {table} ({', '.join(q(c) for c in columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "
            f"ON CONFLICT ({', '.join(q(c) for c in QUESTIONNAIRE_KEY_FIELDS)}) DO UPDATE SET {sets}"
        )
    return _SQL[connection.vendor]


def key_of(ev: Evaluation) -> tuple:
    return (local_day(ev), ev.region_id, ev.department_id, ev.agency_id or 0, ev.item_id,
            ev.platform_id or 0)


def values_of(answers: dict) -> dict[str, int]:
    """The counter columns one questionnaire adds 1 to (empty: nothing answered)."""
    out = {f"{q}_{'yes' if answers[q] else 'no'}": 1 for q in QUESTIONS if isinstance(answers.get(q), bool)}
    if (answers.get("suggestions") or "").strip():
        out["suggestions"] = 1
    if out:
        out["answered"] = 1
    return out


def _counts(ev: Evaluation) -> dict[str, int]:
    if ev.channel == Channel.SYSTEM_DEFAULT or not ev.questionnaire:
        return {}
    return values_of(ev.questionnaire)


def _bump(ev: Evaluation, values: dict[str, int], sign: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_sql(), [*key_of(ev), *(sign * values.get(c, 0) for c in QUESTIONNAIRE_VALUES)])


def _suggestion(ev: Evaluation) -> Suggestion:
    day, region, department, agency, item, platform = key_of(ev)
    return Suggestion(evaluation_id=ev.pk, created_at=ev.created_at, day=day, region=region, department=department,
                      agency=agency, item=item, platform=platform,
                      text=redact(ev.questionnaire["suggestions"].strip())[:600])


def written_statements(ev: Evaluation) -> list[tuple[str, list]]:
    """:func:`count_written` as statements (the single submit's one write): the counter upsert and, with a
    suggestion, its row's INSERT (a plain id column, no foreign key: it needs the evaluation's values only)."""
    values = _counts(ev)
    if not values:
        return []
    out = [(_sql(), [*key_of(ev), *(values.get(c, 0) for c in QUESTIONNAIRE_VALUES)])]
    if values.get("suggestions"):
        plain = inserter(Suggestion)
        out.append((plain.sql, list(plain.row(_suggestion(ev)))))
    return out


def count_written(ev: Evaluation) -> None:
    """A new valid evaluation with questionnaire answers: count them, keep its suggestion (redacted)."""
    values = _counts(ev)
    if not values:
        return
    _bump(ev, values, 1)
    if values.get("suggestions"):
        _suggestion(ev).save(force_insert=True)


def count_written_many(evaluations: list[Evaluation]) -> None:
    """:func:`count_written` for many new evaluations: one upsert per counter key, one INSERT of suggestions."""
    totals: dict[tuple, Counter] = {}
    suggestions = []
    for ev in evaluations:
        values = _counts(ev)
        if not values:
            continue
        totals.setdefault(key_of(ev), Counter()).update(values)
        if values.get("suggestions"):
            suggestions.append(_suggestion(ev))
    if totals:
        with connection.cursor() as cursor:
            cursor.executemany(_sql(), [[*key, *(values.get(c, 0) for c in QUESTIONNAIRE_VALUES)]
                                        for key, values in totals.items()])
    if suggestions:
        # Plain INSERTs, not bulk_create: that asks the database routers once per row, and on PostgreSQL the first
        # of them (pending.FoldBeforeReading) probes for waiting evaluations each time: a query per suggestion.
        inserter(Suggestion).insert(suggestions)


def count_excluded(ev: Evaluation) -> None:
    """An evaluation left statistics: its answers and its suggestion leave the summary too."""
    values = _counts(ev)
    if not values:
        return
    _bump(ev, values, -1)
    Suggestion.objects.filter(evaluation_id=ev.pk).delete()


def _evaluations(date_from: date | None, date_to: date | None):
    qs = Evaluation.objects.exclude(channel=Channel.SYSTEM_DEFAULT).exclude(questionnaire={})
    qs = qs.exclude(Exists(EvaluationExclusion.objects.filter(evaluation=OuterRef("pk"))))
    if date_from:
        qs = qs.filter(created_at__gte=day_start(date_from))
    if date_to:
        qs = qs.filter(created_at__lt=day_start(date_to + timedelta(days=1)))
    return qs.order_by()


def _valid_sql(date_from: date | None, date_to: date | None) -> recount.Sql:
    """The valid evaluations of [date_from, date_to] (a WHERE condition)."""
    where, params = recount.time_range(recount.column(Evaluation, "created_at"), date_from, date_to)
    return (f"{recount.column(Evaluation, 'channel')} <> %s AND NOT "
            f"{recount.excluded_sql(recount.column(Evaluation, 'id'))} AND {where}"), [Channel.SYSTEM_DEFAULT, *params]


_EMPTY = {True: "'{}'::jsonb", False: "'{}'"}  # no answer at all: skipped before the JSON look-ups


def want_sql(date_from: date | None = None, date_to: date | None = None) -> recount.Sql:
    """QuestionnaireCounter as the valid evaluations of [date_from, date_to] say it should be — :func:`values_of`
    in SQL: a 是/否 answer is a JSON boolean, a suggestion a text that is not blank."""
    q = recount.q
    e = q(Evaluation._meta.db_table)
    answers = recount.column(Evaluation, "questionnaire")
    day, day_params = recount.local_day(recount.column(Evaluation, "created_at"))
    flags, flag_params = [], []
    for question in QUESTIONS:
        for answer, value in (("yes", True), ("no", False)):
            flags.append(f"CASE WHEN {recount.json_is(answers, question, value)} THEN 1 ELSE 0 END AS {q(f'{question}_{answer}')}")
    text, text_params = recount.json_text_not_blank(answers, "suggestions")
    flags.append(f"CASE WHEN {text} THEN 1 ELSE 0 END AS {q('suggestions')}")
    flag_params += text_params
    valid, valid_params = _valid_sql(date_from, date_to)
    per_evaluation = (
        f"SELECT {day} AS {q('day')}, {recount.unit_columns(Evaluation, ('region', 'department', 'agency', 'item', 'platform'))}, "
        f"{', '.join(flags)} FROM {e} WHERE {answers} <> {_EMPTY[connection.vendor == 'postgresql']} AND {valid}"
    )
    values = [c for c in QUESTIONNAIRE_VALUES if c != "answered"]
    keys = ", ".join(q(c) for c in QUESTIONNAIRE_KEY_FIELDS)
    answered = f"SUM(CASE WHEN {' OR '.join(f'{q(c)} = 1' for c in values)} THEN 1 ELSE 0 END) AS {q('answered')}"
    sql = (f"SELECT {keys}, {answered}, {', '.join(f'SUM({q(c)}) AS {q(c)}' for c in values)} "
           f"FROM ({per_evaluation}) a GROUP BY {keys}")
    return sql, [*day_params, *flag_params, *valid_params]


def _suggestions_sql(date_from: date | None, date_to: date | None) -> recount.Sql:
    """The ids of the valid evaluations of [date_from, date_to] with a suggestion that is not blank."""
    valid, valid_params = _valid_sql(date_from, date_to)
    text, text_params = recount.json_text_not_blank(recount.column(Evaluation, "questionnaire"), "suggestions")
    return (f"SELECT {recount.column(Evaluation, 'id')} FROM {recount.q(Evaluation._meta.db_table)} "
            f"WHERE {text} AND {valid}"), [*text_params, *valid_params]


def compare(date_from: date | None = None, date_to: date | None = None) -> int:
    """Counter cells (key × column) whose stored count differs from the recomputed one, plus the evaluations that
    are among the stored suggestions but should not be, or should be but are not."""
    cells = sum(recount.compare(QuestionnaireCounter, QUESTIONNAIRE_KEY_FIELDS, QUESTIONNAIRE_VALUES,
                                want_sql(date_from, date_to), date_from, date_to).cells)
    q = recount.q
    want, want_params = _suggestions_sql(date_from, date_to)
    have, have_params = recount.day_range(q("day"), date_from, date_to)
    have = f"SELECT {q('evaluation_id')} FROM {q(Suggestion._meta.db_table)} WHERE {have}"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT (SELECT COUNT(*) FROM ({want} EXCEPT {have}) a), (SELECT COUNT(*) FROM ({have} EXCEPT "
                       f"{want}) b)", [*want_params, *have_params, *have_params, *want_params])
        return cells + sum(cursor.fetchone())


def replace(date_from: date | None = None, date_to: date | None = None) -> None:
    """Recompute the counters (SQL) and the suggestions of [date_from, date_to] from the evaluations (inside the
    caller's transaction). The suggestions pass through Python (redaction), a thousand at a time."""
    recount.replace(QuestionnaireCounter, QUESTIONNAIRE_KEY_FIELDS, QUESTIONNAIRE_VALUES, want_sql(date_from, date_to),
                    date_from, date_to)
    Suggestion.objects.in_days(date_from, date_to).delete()
    suggestions = _evaluations(date_from, date_to).filter(questionnaire__has_key="suggestions")
    batch = []
    for ev in suggestions.only("pk", "created_at", "region_id", "department_id", "agency_id", "item_id",
                               "platform_id", "questionnaire").iterator(chunk_size=2000):
        if (ev.questionnaire.get("suggestions") or "").strip():
            batch.append(_suggestion(ev))
        if len(batch) >= 1000:  # memory bounded by the batch, not by the period's suggestions
            inserter(Suggestion).insert(batch)  # (as in count_written_many: no router call per row)
            batch = []
    inserter(Suggestion).insert(batch)
