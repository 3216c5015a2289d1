"""The cases of many 差评 written together (batch intake, issue 16 item 6): exactly what
:func:`~haochaping.rectification.services.open_case_for_evaluation` writes for each — the case, its ``open``
transition and the audit entry — with one query for the 办件, one for the labels' texts and one multi-row INSERT per
table, instead of seven statements a case."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from haochaping.core.models import AuditEntry
from haochaping.evaluation.models import Label
from haochaping.org import policy
from haochaping.records.models import ServiceRecord
from haochaping.rectification import rules
from haochaping.rectification.models import CaseTransition, RectificationCase
from haochaping.rectification.rules import Kind, State
from haochaping.rectification.services import _add_working_days, _deadlines
from haochaping.rectification.services.common import SYSTEM, record_units
from haochaping.rectification.signals import cases_written


def open_cases_for_evaluations(evaluations: list) -> dict:
    """Open the case of each 差评 in ``evaluations`` (new evaluations of this transaction: model instances or the
    plain rows of evaluation.rows, with ``label_codes``), as :func:`open_case_for_evaluation` would one after the
    other; returns {evaluation pk: case pk}. Runs inside the evaluations' transaction: a failure undoes them all."""
    evaluations = [ev for ev in evaluations if ev.is_bad]
    if not evaluations:
        return {}
    with transaction.atomic():
        records = ServiceRecord.objects.select_related("window", "platform").in_bulk(
            {ev.record_id for ev in evaluations})
        codes = {c for ev in evaluations for c in ev.label_codes}
        texts = dict(Label.objects.filter(code__in=codes).values_list("code", "text")) if codes else {}
        deadlines: dict = {}
        cases = []
        for ev in evaluations:
            record = records[ev.record_id]
            # The labels as evaluation.labels.all() lists them (Label's order: by code).
            labels = [texts[c] for c in sorted(set(ev.label_codes))]
            responsible = rules.route(record_units(record), label_texts=labels, comment=ev.comment)
            opened_on = timezone.localdate(ev.created_at)
            memo = (responsible.region_id, opened_on)
            if memo not in deadlines:
                appeal_days = policy.period_days(responsible.region_id, "appeal_days")
                deadlines[memo] = (_deadlines(responsible.region_id, opened_on),
                                   _add_working_days(opened_on, appeal_days, region_code=responsible.region_id))
            due, appeal_due = deadlines[memo]
            cases.append(RectificationCase(
                kind=Kind.BAD_REVIEW, state=State.OPEN, evaluation_id=ev.pk, record=record, summary="",
                region_id=responsible.region_id, department_id=responsible.department_id,
                agency_id=responsible.agency_id, platform_id=responsible.platform_id, is_real_name=ev.is_real_name,
                opened_at=ev.created_at, callback_due=due.callback_due, fix_now_due=due.fix_now_due,
                rectify_due=due.rectify_due, appeal_due=appeal_due,
            ))
        RectificationCase.objects.bulk_create(cases)
        # bulk_create sends no post_save: tell the higher apps (insight's case counters) in this transaction.
        cases_written.send(sender=RectificationCase, case_ids=[case.pk for case in cases])
        # The open step of each (services.common.step): its transition and its audit entry, codes and ids only.
        CaseTransition.objects.bulk_create([
            CaseTransition(case=case, at=case.opened_at, actor_id=None, action="open", from_state="",
                           to_state=State.OPEN, note="")
            for case in cases
        ])
        AuditEntry.objects.bulk_create([
            AuditEntry(actor=SYSTEM, action="case.open", object_type="rectification.RectificationCase",
                       object_id=str(case.pk), data={"from": "", "to": State.OPEN,
                                                     "department": case.department_id,
                                                     "callback_due": case.callback_due.isoformat()})
            for case in cases
        ])
    return {case.evaluation_id: case.pk for case in cases}
