"""Builds the demo data set (``haochaping demo``).

What it builds: the real regions 山东省 370000 → 济南市 370100 / 青岛市 370200 → five of their districts, a
management agency per region, departments, halls, stations, windows, staff and platforms (all named …（演示）),
265 service items with a published 办事指南 each, and a year of 办件 with their evaluations.

Deterministic: one fixed seed drives everything, and every time is relative to the *anchor*, the start of
today in Asia/Shanghai. The same command on the same day therefore writes the same content (办件编号,
receipt codes, idempotency keys, levels, labels, comments, times, personal data) into any database.
Not part of that content: row ids, the timestamps Django sets on insert (published_at of guides, audit
times) and the SM4-GCM ciphertexts, whose nonces are random by design; the clear text behind them and the
blind indexes are identical. 办件 created_at/updated_at are their push and last-change times, so they are
content too. On another day the twelve-month window moves with the anchor. Receipt codes derived from a
public seed are guessable: fine for a demo, never for real data.

Speed: 办件 and evaluations go in through one prepared INSERT run with ``executemany`` (:class:`Inserter`);
values still pass through each field's database conversion, so PersonalDataField SM4-encrypts personal
data as on ``save()``. The demo rows are written in one transaction (after the regions and the calendar,
which their own services load), so a failed run leaves no demo rows behind and the next run starts over.
Evaluations are written exactly as ``evaluation.services.submit_evaluation`` writes them (same derived
fields, same canonical bytes for the leaf hash) and checked with the same rules.

The parts: ``reference`` (regions, calendar), ``organisation`` (units, staff, platforms, items and guides),
``records`` (办件 and evaluations, day by day), ``common`` (seed, summary, helpers); ``cases`` adds the
rectification cases and appeals, ``accounts`` the demo's sign-ins. This module puts them together.
"""

from __future__ import annotations

import random
import time as clock
from datetime import date, datetime, timedelta
from types import SimpleNamespace

from django.db import transaction

from haochaping.core import calendar
from haochaping.core.bulk import Inserter
from haochaping.evaluation.models import Evaluation
from haochaping.org.models import (
    Platform,
    Region,
)
from haochaping.records.models import ServiceRecord

from . import data
from .common import CHUNK, DAYS, DEFAULT_RECORDS, MARKER_PLATFORM, SEED, SHANGHAI, Summary, receipt_codes
from .organisation import build_org, region_names
from .records import FRESH_BAD, FRESH_DAYS, RecordFactory
from .reference import load_reference_data


def is_loaded() -> bool:
    """Whether ``haochaping demo`` has already run against this database."""
    return Platform.objects.filter(code=MARKER_PLATFORM).exists()


def _day_counts(records: int, days: list[tuple[date, bool]]) -> list[int]:
    """Spread ``records`` over the days: working days busy, rest days light, slowly growing over the year."""
    n = len(days)
    weights = [(1.0 if workday else 0.12) * (0.85 + 0.3 * i / n) for i, (_d, workday) in enumerate(days)]
    total = sum(weights)
    exact = [records * w / total for w in weights]
    counts = [int(x) for x in exact]
    # Largest remainders get the leftovers; ties break by day order, so the split is deterministic.
    for i in sorted(range(n), key=lambda i: (counts[i] - exact[i], i))[: records - sum(counts)]:
        counts[i] += 1
    return counts


def _flush(inserters: dict, records: list[SimpleNamespace], evaluations: list[tuple[SimpleNamespace, list[str]]]) -> None:
    if not records:
        return
    inserters[ServiceRecord].insert(records)
    ids = dict(ServiceRecord.objects.filter(project_no__in=[r.project_no for r in records]).values_list("project_no", "id"))
    for ev, _labels in evaluations:
        ev.record_id = ids[ev.record.project_no]
    inserters[Evaluation].insert([ev for ev, _labels in evaluations])
    labelled = {ev.idempotency_key: codes for ev, codes in evaluations if codes}
    if labelled:
        ev_ids = Evaluation.objects.filter(idempotency_key__in=list(labelled)).values_list("idempotency_key", "id")
        through = Evaluation.labels.through
        through.objects.bulk_create(
            [through(evaluation_id=pk, label_id=code) for key, pk in sorted(ev_ids) for code in labelled[key]]
        )


def build(records: int = DEFAULT_RECORDS, *, today: date | None = None, progress=None) -> Summary:
    """Load the demo data set once; see the module docstring for what "deterministic" covers.

    ``today`` fixes the anchor (default: today in Asia/Shanghai); ``progress`` receives short Chinese
    status lines.
    """
    started = clock.perf_counter()
    say = progress or (lambda _msg: None)
    today = today or datetime.now(SHANGHAI).date()
    summary = Summary()
    say("正在载入行政区划和节假日…")
    load_reference_data(today)
    rng = random.Random(SEED)
    receipts = receipt_codes(random.Random(f"{SEED}:receipts"))
    with transaction.atomic():
        say("正在建立演示机构、窗口、人员、平台和事项…")
        org = build_org(random.Random(f"{SEED}:org"), summary)
        summary.regions = Region.objects.subtree(data.PROVINCE[0]).filter(code__in=list(region_names())).count()
        factory = RecordFactory(org, rng, receipts, today, summary)
        days = [(today - timedelta(days=d), calendar.is_workday(today - timedelta(days=d), data.PROVINCE[0]))
                for d in range(DAYS, 0, -1)]
        summary.start, summary.end = days[0][0], days[-1][0]
        say(f"正在生成{records}件办件及其评价…")
        inserters = {ServiceRecord: Inserter(ServiceRecord), Evaluation: Inserter(Evaluation)}
        batch_records: list[SimpleNamespace] = []
        batch_evals: list[tuple[SimpleNamespace, list[str]]] = []
        counts = _day_counts(records, days)
        # Most records are rated (P_EVALUATE_COMPLETE), so this is close to FRESH_BAD fresh 差评 in all.
        fresh_records = sum(counts[-FRESH_DAYS:])
        factory.fresh_p_bad = min(0.25, FRESH_BAD / (0.8 * fresh_records)) if fresh_records else 0.0
        for (day, workday), count in zip(days, counts, strict=True):
            days_ago = (today - day).days
            for _ in range(count):
                rec, evs = factory.record(day, workday, days_ago)
                batch_records.append(rec)
                batch_evals.extend(evs)
            if len(batch_records) >= CHUNK:
                _flush(inserters, batch_records, batch_evals)
                batch_records, batch_evals = [], []
        _flush(inserters, batch_records, batch_evals)
    summary.seconds = clock.perf_counter() - started
    return summary
