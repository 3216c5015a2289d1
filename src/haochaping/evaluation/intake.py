"""Set-based intake of many evaluations at once (the batch endpoint, history import; issue 16 item 6).

The same rules, answers and guarantees as :func:`services.submit_evaluation`, item by item, at a fraction of the
statements: every item is checked in Python; the 办件, the idempotency keys, the labels and the evaluations already
on those 办件 are each read in one query; the new rows, their labels and everything the receivers of
``evaluations_written`` do (counters aggregated per key, outbox rows, cases for the 差评) are written in one
transaction with multi-row INSERTs. No Django model instance is built per item (evaluation.rows): the 办件 are read
into plain rows, the new evaluations are plain rows converted with the model fields' own conversions and written by
one COPY (PostgreSQL), and ``evaluations_written`` carries those rows.

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

from haochaping.core import crypto
from haochaping.core.bulk import any_of
from haochaping.core.problems import DomainError, conflict, not_found
from haochaping.org.models import Region
from haochaping.org.rules import region_prefix

from . import lookups, rows, rules
from .models import Evaluation, EvaluationType, Label
from .services import (
    EvaluationInput,
    SubmitResult,
    _duplicate_message,
    _replay,
    canonical_bytes,
    check_fields,
    check_labels,
    check_timing,
    new_receipt_code,
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
    taken_keys = _taken_keys([items[i].idempotency_key for i in live])
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
    # The 办件, the labels and the evaluations already on those 办件: one query each; plain rows, no model instances.
    records = rows.records({items[i].project_no for i in fresh})
    codes = {c for i in fresh for c in items[i].labels}
    known = set(Label.objects.filter(code__in=codes, is_active=True).values_list("code", flat=True)) if codes else set()
    taken = _taken([r.id for r in records.values()])
    prefix = region_prefix(region_scope.code) if region_scope is not None else None
    new: list[tuple[int, rows.EvaluationRow]] = []
    last_days: dict = {}
    timings: dict = {}
    days = _LocalDays()
    for i in fresh:
        data = items[i]
        try:
            record = records.get(data.project_no)
            if record is None or (prefix is not None and not record.region_id.startswith(prefix)):
                raise not_found("办件不存在", "project_no")
            today = days.of(stamps[i])
            check_fields(data, imported=imported)
            if data.labels:
                check_labels(data, known)
            has_active = (record.id, data.stage, EvaluationType.ACTIVE) in taken
            # check_timing depends on nothing else of the item or its 办件: checked once per distinct answer.
            timing = (data.stage, data.type, record.stage_time(data.stage), record.region_id, today, has_active)
            if timing not in timings:
                try:
                    check_timing(data, record, today, has_active=has_active, last_days=last_days)
                    timings[timing] = None
                except DomainError as exc:
                    timings[timing] = exc
            if timings[timing] is not None:
                raise timings[timing]
            if (record.id, data.stage, data.type) in taken:
                raise conflict(_duplicate_message(data.type), "type")
            new.append((i, _new_row(data, record, now=stamps[i], today=today,
                                    stage_day=days.of(record.stage_time(data.stage)), digest=digests[i],
                                    source=source)))
        except DomainError as exc:
            out[i] = exc
    if not new:
        return
    written = [row for _i, row in new]
    try:
        with transaction.atomic():
            rows.write(written)
            case_ids = _case_ids(evaluations_written.send(sender=Evaluation, evaluations=written))
    except IntegrityError:
        # A concurrent submit took a key or a stage meanwhile: let the single service sort each item out.
        for i, _row in new:
            try:
                out[i] = submit_evaluation(items[i], source=source, now=stamps[i], region_scope=region_scope,
                                           by_api_key=by_api_key, imported=imported)
            except DomainError as exc:
                out[i] = exc
        return
    for i, row in new:
        out[i] = Created(row, case_ids.get(row.id))


class Created(SubmitResult):
    """A new evaluation of a batch: ``row`` is its :class:`rows.EvaluationRow`; ``evaluation`` (the model
    instance) is built only when asked for — the batch endpoint answers from the row."""

    def __init__(self, row: rows.EvaluationRow, case_id):  # noqa: D107 - SubmitResult's fields, evaluation lazily
        self.row = row
        self.case_id = case_id
        self.replayed = False

    @property
    def evaluation(self) -> Evaluation:  # type: ignore[override]
        return self.row.as_model()


class _LocalDays:
    """The local (北京时间) day of an instant, memoised: a batch's items share their time, and their 办件 often
    share theirs. As ``timezone.localtime(t).date()``, with the current time zone looked up once."""

    def __init__(self):
        self.tz = timezone.get_current_timezone()
        self.memo: dict = {}

    def of(self, when: datetime | None):
        if when is None:
            return None
        day = self.memo.get(when)
        if day is None:
            day = self.memo[when] = when.astimezone(self.tz).date()
        return day


def _new_row(data: EvaluationInput, record: rows.RecordRow, *, now: datetime, today, stage_day, digest: str,
             source: str) -> rows.EvaluationRow:
    """The row of a checked evaluation, field for field as :func:`services.new_evaluation` builds its instance
    (tests/evaluation/test_intake.py compares the stored rows of both), its leaf hash computed (R8.1)."""
    ev = rows.EvaluationRow()
    ev.id = None
    ev.record = record
    ev.record_id = record.id
    ev.stage = data.stage
    ev.type = data.type
    ev.channel = data.channel
    ev.level = data.level
    ev.is_bad = rules.is_bad(data.level)
    ev.is_supplementary = rules.is_supplementary(stage_day, today)
    ev.comment = data.comment
    ev.questionnaire = data.questionnaire
    ev.evaluator_name = data.evaluator_name
    ev.evaluator_phone = data.evaluator_phone
    ev.evaluator_phone_index = crypto.blind_index(data.evaluator_phone, kind="phone") if data.evaluator_phone else ""
    ev.is_real_name = bool(data.evaluator_phone)
    ev.item_id = record.item_id
    ev.region_id = record.region_id
    ev.department_id = record.department_id
    ev.agency_id = record.agency_id
    ev.window_id = record.window_id
    ev.staff_id = record.staff_id
    ev.platform_id = record.platform_id
    ev.idempotency_key = data.idempotency_key
    ev.request_hash = digest
    ev.receipt_code = new_receipt_code()
    ev.source = source
    ev.client_address_index = ""
    ev.client_device_index = ""
    ev.created_at = now
    ev.label_codes = data.labels
    ev.local_day = today  # the local day of created_at (= now)
    ev.leaf_hash = crypto.sm3_hex(canonical_bytes(ev, data.labels))
    return ev


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _taken_keys(keys: list) -> list:
    """Which of ``keys`` are idempotency keys of stored evaluations (one statement)."""
    if not keys:
        return []
    condition, params = any_of(_q("idempotency_key"), keys)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_q('idempotency_key')} FROM {_q(lookups.lookup_table())} WHERE {condition}", params)
        return [row[0] for row in cursor.fetchall()]


def _taken(record_ids: list) -> dict[tuple, str]:
    """(record id, stage, type) → idempotency key of the evaluations already on those 办件."""
    if not record_ids:
        return {}
    condition, params = any_of(_q("record_id"), record_ids)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_q('record_id')}, {_q('stage')}, {_q('type')}, {_q('idempotency_key')} "
                       f"FROM {_q(lookups.lookup_table())} WHERE {condition}", params)
        return {(r, stage, type_): key for r, stage, type_, key in cursor.fetchall()}


def _case_ids(responses) -> dict:
    out: dict = {}
    for _receiver, response in responses:
        if isinstance(response, dict):
            out.update(response.get("case_ids") or {})
    return out
