"""The cases of 差评 written in this transaction — one from a single submit or many from batch intake (issue 16
item 6) — exactly what :func:`~haochaping.rectification.services.open_case_for_evaluation` always wrote for each:
the case, its ``open`` transition and the audit entry.

A few plain statements for any number of cases (issue 14 item 1: through the ORM one 差评 cost about 7 ms of Python
and a read of its 办件 that opened every month's partition): the units come from the evaluation's own copies of
its 办件's columns (they never change: records.services.UPDATABLE), and only the window's and the platform's
departments are read; the labels' texts are one read; the rows go in by prepared INSERTs (core.bulk)."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from haochaping.core.bulk import any_of, insert_with_ids, inserter
from haochaping.core.models import AuditEntry
from haochaping.evaluation.models import Evaluation, Label
from haochaping.org import policy
from haochaping.org.models import Platform, Window
from haochaping.rectification import rules
from haochaping.rectification.models import CaseTransition, RectificationCase
from haochaping.rectification.rules import Kind, State
from haochaping.rectification.services.common import SYSTEM, add_working_days_in, opening_deadlines
from haochaping.rectification.signals import cases_written


def open_cases_for_evaluations(evaluations: list) -> dict:
    """Open the case of each 差评 in ``evaluations`` (new evaluations of this transaction: model instances or the
    plain rows of evaluation.rows, with ``label_codes``), as :func:`open_case_for_evaluation` would one after the
    other; returns {evaluation pk: case pk}. Runs inside the evaluations' transaction: a failure undoes them all."""
    return {case.evaluation_id: case.pk for case in open_cases(evaluations)}


def open_cases(evaluations: list) -> list[RectificationCase]:
    """:func:`open_cases_for_evaluations`, returning the new cases (saved instances, in the evaluations' order)."""
    evaluations = [ev for ev in evaluations if ev.is_bad]
    if not evaluations:
        return []
    # No savepoint of its own: it writes only inside the evaluations' transaction, which a failure rolls back whole.
    with transaction.atomic(savepoint=False):
        departments = _unit_departments(evaluations)
        labels = _label_texts(evaluations)
        deadlines: dict = {}
        cases = []
        for ev in evaluations:
            units = rules.RecordUnits(
                region_id=ev.region_id, department_id=ev.department_id, agency_id=ev.agency_id,
                window_id=ev.window_id, window_department_id=departments.get(("w", ev.window_id)),
                platform_id=ev.platform_id, platform_operator_id=departments.get(("p", ev.platform_id)),
            )
            responsible = rules.route(units, label_texts=labels.get(ev.pk, ()), comment=ev.comment)
            opened_on = timezone.localdate(ev.created_at)
            memo = (responsible.region_id, opened_on)
            if memo not in deadlines:
                appeal_days = policy.period_days(responsible.region_id, "appeal_days")
                deadlines[memo] = (opening_deadlines(responsible.region_id, opened_on),
                                   add_working_days_in(opened_on, appeal_days, region_code=responsible.region_id))
            due, appeal_due = deadlines[memo]
            cases.append(RectificationCase(
                kind=Kind.BAD_REVIEW, state=State.OPEN, evaluation_id=ev.pk, record_id=ev.record_id, summary="",
                region_id=responsible.region_id, department_id=responsible.department_id,
                agency_id=responsible.agency_id, platform_id=responsible.platform_id, is_real_name=ev.is_real_name,
                opened_at=ev.created_at, callback_due=due.callback_due, fix_now_due=due.fix_now_due,
                rectify_due=due.rectify_due, appeal_due=appeal_due,
            ))
        insert_with_ids(RectificationCase, cases)
        # No post_save for rows written this way: tell the higher apps (insight's case counters) in this transaction.
        cases_written.send(sender=RectificationCase, case_ids=[case.pk for case in cases])
        # The open step of each (services.common.step): its transition and its audit entry, codes and ids only.
        inserter(CaseTransition).insert(
            CaseTransition(case_id=case.pk, at=case.opened_at, actor_id=None, action="open", from_state="",
                           to_state=State.OPEN, note="")
            for case in cases
        )
        now = timezone.now()  # AuditEntry.at is auto_now_add: the time of writing
        inserter(AuditEntry).insert(
            AuditEntry(at=now, actor=SYSTEM, action="case.open", object_type="rectification.RectificationCase",
                       object_id=str(case.pk), data={"from": "", "to": State.OPEN, "department": case.department_id,
                                                     "callback_due": case.callback_due.isoformat()})
            for case in cases
        )
    return cases


def _unit_departments(evaluations: list) -> dict:
    """{("w", window id): its department, ("p", platform id): its operator} for the units the evaluations name:
    routing sends a case about the window or the platform to them (rules.route)."""
    windows = {ev.window_id for ev in evaluations if ev.window_id is not None}
    platforms = {ev.platform_id for ev in evaluations if ev.platform_id is not None}
    q = connection.ops.quote_name
    parts, params = [], []
    for tag, model, column, ids in (("w", Window, "department_id", windows), ("p", Platform, "operator_id", platforms)):
        if ids:
            condition, values = any_of(q("id"), sorted(ids))
            parts.append(f"SELECT '{tag}', {q('id')}, {q(column)} FROM {q(model._meta.db_table)} WHERE {condition}")
            params += values
    if not parts:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return {(tag, unit_id): department_id for tag, unit_id, department_id in cursor.fetchall()}


def _label_texts(evaluations: list) -> dict:
    """{evaluation pk: its labels' texts, in Label's order (by code)}: the plain rows carry their ``label_codes``;
    a model instance's labels are read from the through table (written before ``evaluation_written``)."""
    q = connection.ops.quote_name
    label = q(Label._meta.db_table)
    codes = {ev.pk: sorted(set(ev.label_codes)) for ev in evaluations if getattr(ev, "label_codes", None) is not None}
    unknown = [ev.pk for ev in evaluations if ev.pk not in codes]
    texts: dict = {}
    with connection.cursor() as cursor:
        wanted = {c for cs in codes.values() for c in cs}
        if wanted:
            condition, params = any_of(q("code"), sorted(wanted))
            cursor.execute(f"SELECT {q('code')}, {q('text')} FROM {label} WHERE {condition}", params)
            by_code = dict(cursor.fetchall())
            texts = {pk: [by_code[c] for c in cs] for pk, cs in codes.items()}
        if unknown:
            through = q(Evaluation.labels.through._meta.db_table)
            condition, params = any_of(f"{through}.{q('evaluation_id')}", unknown)
            cursor.execute(
                f"SELECT {through}.{q('evaluation_id')}, {label}.{q('text')} FROM {through} JOIN {label} "
                f"ON {label}.{q('code')} = {through}.{q('label_id')} WHERE {condition} ORDER BY {label}.{q('code')}",
                params)
            for pk, text in cursor.fetchall():
                texts.setdefault(pk, []).append(text)
    return texts
