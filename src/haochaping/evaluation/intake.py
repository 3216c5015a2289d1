"""Set-based intake of many evaluations at once (the batch endpoint, history import; issue 16 item 6).

The same rules, answers and guarantees as :func:`services.submit_evaluation`, item by item, at a fraction of the
statements: every item is checked in Python; the 办件, the idempotency keys, the labels and the evaluations already
on those 办件 are each read in one query; the new rows, their labels and everything the receivers of
``evaluations_written`` do (counters aggregated per key, outbox rows, cases for the 差评) are written in one
transaction with multi-row INSERTs.

Items are answered as if they had been submitted one after the other: an item that repeats an earlier item's
idempotency key, or rates the same 办件 stage, waits for a later round that sees the earlier one written. Should
the set-based write meet a unique constraint (a concurrent submit won a race), that round falls back to the
single service, item by item, which sorts out every race exactly as a single submit does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from haochaping.core.bulk import any_of, copy_with_ids
from haochaping.core.problems import DomainError, conflict, not_found
from haochaping.org.models import Region
from haochaping.org.rules import region_prefix
from haochaping.records.models import ServiceRecord

from . import lookups, rules
from .models import Evaluation, EvaluationType, Label
from .services import (
    EvaluationInput,
    SubmitResult,
    _duplicate_message,
    _replay,
    check_fields,
    check_labels,
    check_timing,
    new_evaluation,
    request_hash,
    submit_evaluation,
)
from .signals import evaluations_written

Outcome = SubmitResult | DomainError


def submit_evaluations(
    items: Sequence[EvaluationInput], *, source: str, now: datetime | None = None,
    times: Sequence[datetime | None] | None = None, region_scope: Region | None = None, by_api_key: bool = False,
    imported: bool = False,
) -> list[Outcome]:
    """Record many evaluations; one answer per item, in order: a :class:`SubmitResult` (created or replayed) or the
    :class:`DomainError` that refused it. Arguments as :func:`services.submit_evaluation`; ``times`` gives each
    item its own time (history import), else every item gets ``now`` (default: the current time)."""
    now = now or timezone.now()
    stamps = [(times[i] if times is not None and times[i] is not None else now).astimezone(UTC)
              for i in range(len(items))]
    out: list[Outcome | None] = [None] * len(items)
    for round_ in _rounds(items):
        _one_round(items, round_, out, stamps, source=source, region_scope=region_scope, by_api_key=by_api_key,
                   imported=imported)
    return out  # type: ignore[return-value]


def _rounds(items: Sequence[EvaluationInput]) -> list[list[int]]:
    """Indices split so that no round holds two items with one idempotency key or one (办件, stage)."""
    last_round: dict[tuple, int] = {}
    rounds: list[list[int]] = []
    for i, data in enumerate(items):
        marks = (("key", data.idempotency_key), ("stage", data.project_no, data.stage))
        r = max((last_round.get(m, -1) for m in marks), default=-1) + 1
        for m in marks:
            last_round[m] = r
        if r == len(rounds):
            rounds.append([])
        rounds[r].append(i)
    return rounds


def _one_round(items, indices: list[int], out: list, stamps: list[datetime], *, source: str, region_scope,
               by_api_key: bool, imported: bool) -> None:
    digests = {i: request_hash(items[i]) for i in indices}
    live: list[int] = []
    for i in indices:
        problem = rules.channel_claim_problem(items[i].channel, by_device=False) if by_api_key else None
        if problem:
            out[i] = DomainError(403, "禁止操作", problem, "channel", code="forbidden")
        else:
            live.append(i)
    # Idempotency: one query for every key of the round (the full rows only for the few that are retries).
    taken_keys = _column_values(Evaluation, "idempotency_key", "idempotency_key", [items[i].idempotency_key for i in live])
    existing = {
        ev.idempotency_key: ev
        for ev in Evaluation.objects.select_related("record").order_by().filter(idempotency_key__in=taken_keys)
    } if taken_keys else {}
    fresh: list[int] = []
    for i in live:
        ev = existing.get(items[i].idempotency_key)
        if ev is None:
            fresh.append(i)
            continue
        try:
            out[i] = _replay(ev, digests[i])
        except DomainError as exc:
            out[i] = exc
    if not fresh:
        return
    # The 办件, the labels and the evaluations already on those 办件: one query each.
    records = _records({items[i].project_no for i in fresh})
    codes = {c for i in fresh for c in items[i].labels}
    known = set(Label.objects.filter(code__in=codes, is_active=True).values_list("code", flat=True)) if codes else set()
    taken = _taken([r.pk for r in records.values()])
    prefix = region_prefix(region_scope.code) if region_scope is not None else None
    new: list[tuple[int, Evaluation]] = []
    last_days: dict = {}
    for i in fresh:
        data = items[i]
        try:
            record = records.get(data.project_no)
            if record is None or (prefix is not None and not record.region_id.startswith(prefix)):
                raise not_found("办件不存在", "project_no")
            today = timezone.localtime(stamps[i]).date()
            check_fields(data, imported=imported)
            if data.labels:
                check_labels(data, known)
            check_timing(data, record, today,
                         has_active=(record.pk, data.stage, EvaluationType.ACTIVE) in taken, last_days=last_days)
            if (record.pk, data.stage, data.type) in taken:
                raise conflict(_duplicate_message(data.type), "type")
            new.append((i, new_evaluation(data, record, now=stamps[i], today=today, digest=digests[i],
                                          source=source)))
        except DomainError as exc:
            out[i] = exc
    if not new:
        return
    try:
        with transaction.atomic():
            _write([ev for _i, ev in new], [items[i].labels for i, _ev in new])
            case_ids = _case_ids(evaluations_written.send(sender=Evaluation, evaluations=[ev for _i, ev in new]))
    except IntegrityError:
        # A concurrent submit took a key or a stage meanwhile: let the single service sort each item out.
        for i, _ev in new:
            try:
                out[i] = submit_evaluation(items[i], source=source, now=stamps[i], region_scope=region_scope,
                                           by_api_key=by_api_key, imported=imported)
            except DomainError as exc:
                out[i] = exc
        return
    for i, ev in new:
        out[i] = SubmitResult(ev, case_ids.get(ev.pk), replayed=False)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _column_values(model, column: str, where: str, values: list) -> list:
    """``column`` of the rows of ``model`` whose ``where`` is one of ``values`` (one statement)."""
    if not values:
        return []
    condition, params = any_of(_q(where), values)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_q(column)} FROM {_q(model._meta.db_table)} WHERE {condition}", params)
        return [row[0] for row in cursor.fetchall()]


def _records(project_nos: set[str]) -> dict[str, ServiceRecord]:
    fields = lookups.record_fields()
    condition, params = any_of(_q("project_no"), sorted(project_nos))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(_q(f.column) for f in fields)} FROM {_q(ServiceRecord._meta.db_table)} "
                       f"WHERE {condition}", params)
        records = [lookups.record_from_row(fields, row) for row in cursor.fetchall()]
    return {r.project_no: r for r in records}


def _taken(record_ids: list) -> dict[tuple, str]:
    """(record id, stage, type) → idempotency key of the evaluations already on those 办件."""
    if not record_ids:
        return {}
    condition, params = any_of(_q("record_id"), record_ids)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_q('record_id')}, {_q('stage')}, {_q('type')}, {_q('idempotency_key')} "
                       f"FROM {_q(Evaluation._meta.db_table)} WHERE {condition}", params)
        return {(r, stage, type_): key for r, stage, type_, key in cursor.fetchall()}


def _write(evaluations: list[Evaluation], labels: list[list[str]]) -> None:
    if connection.vendor == "postgresql":
        copy_with_ids(Evaluation, evaluations)
    else:
        Evaluation.objects.bulk_create(evaluations)
    through = Evaluation.labels.through
    links = [through(evaluation_id=ev.pk, label_id=code) for ev, codes in zip(evaluations, labels, strict=True)
             for code in dict.fromkeys(codes)]
    if links:
        through.objects.bulk_create(links)


def _case_ids(responses) -> dict:
    out: dict = {}
    for _receiver, response in responses:
        if isinstance(response, dict):
            out.update(response.get("case_ids") or {})
    return out
