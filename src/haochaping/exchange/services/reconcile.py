"""Daily reconciliation (对账, R6.2): per day and region, how many evaluations and 办件 each node has.

Evaluations are counted by their own time (kept across nodes), 办件 by their acceptance day (a 办件 not yet
accepted has no day and is not counted): both are the same on both sides when nothing was lost or doubled."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

import httpx
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from haochaping.evaluation.models import Evaluation
from haochaping.org.rules import region_prefix
from haochaping.records.models import ServiceRecord

from .. import rules
from ..models import Reconciliation, Upstream
from .sender import PushFailed

log = logging.getLogger(__name__)
COUNTS_PATH = "/api/v1/exchange/counts"
DAYS_BACK = 7  # late pushes (an upstream down for days) are still caught a week on


def daily_counts(start: date, end: date, *, region_code: str | None = None) -> dict[date, dict[tuple[str, str], int]]:
    """{day: {(region code, "evaluations"|"records"): n}} for start ≤ day ≤ end, within ``region_code``'s subtree."""
    tz = timezone.get_current_timezone()
    lo = datetime.combine(start, datetime.min.time(), tzinfo=tz)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    out: dict[date, dict[tuple[str, str], int]] = {}
    evaluations = Evaluation.objects.filter(created_at__gte=lo, created_at__lt=hi)
    records = ServiceRecord.objects.filter(accepted_at__gte=lo, accepted_at__lt=hi)
    if region_code:
        evaluations = evaluations.filter(region__pk__startswith=region_prefix(region_code))
        records = records.filter(region__pk__startswith=region_prefix(region_code))
    for kind, qs, moment in (("evaluations", evaluations, "created_at"), ("records", records, "accepted_at")):
        rows = (qs.order_by().annotate(day=TruncDate(moment, tzinfo=tz)).values("day", "region_id")
                .annotate(n=Count("id")))
        for row in rows:
            out.setdefault(row["day"], {})[(row["region_id"], kind)] = row["n"]
    return out


def as_rows(counts: dict[date, dict[tuple[str, str], int]]) -> list[dict]:
    return [{"day": day.isoformat(), "region_code": region, "kind": kind, "count": n}
            for day in sorted(counts) for (region, kind), n in sorted(counts[day].items())]


def _fetch(upstream: Upstream, start: date, end: date, client: httpx.Client) -> dict[date, dict[tuple[str, str], int]]:
    try:
        response = client.get(upstream.url.rstrip("/") + COUNTS_PATH, params={"start": start, "end": end},
                              headers={"Authorization": f"Bearer {upstream.api_key()}"}, timeout=upstream.timeout_seconds)
    except httpx.TransportError as exc:
        raise PushFailed(f"无法连接上级节点（{type(exc).__name__}）") from None
    if response.status_code != 200:
        raise PushFailed(f"上级节点答复 HTTP {response.status_code}")
    out: dict[date, dict[tuple[str, str], int]] = {}
    try:
        for row in response.json()["counts"]:
            out.setdefault(date.fromisoformat(row["day"]), {})[(row["region_code"], row["kind"])] = int(row["count"])
    except (ValueError, KeyError, TypeError):
        raise PushFailed("上级节点的对账数据无法识别") from None
    return out


def reconcile(upstream: Upstream, *, start: date, end: date, client: httpx.Client | None = None,
              now: datetime | None = None) -> list[Reconciliation]:
    """Compare each day from ``start`` to ``end`` with ``upstream`` and record the result (one row per day)."""
    now = now or timezone.now()
    own = client is None
    client = client or httpx.Client()
    try:
        theirs = _fetch(upstream, start, end, client)
    finally:
        if own:
            client.close()
    ours = daily_counts(start, end)
    rows = []
    day = start
    while day <= end:
        local, remote = ours.get(day, {}), theirs.get(day, {})

        def total(counts, kind):
            return sum(n for (_, k), n in counts.items() if k == kind)

        row, _ = Reconciliation.objects.update_or_create(upstream=upstream, day=day, defaults={
            "checked_at": now, "differences": rules.count_differences(local, remote),
            "local_evaluations": total(local, "evaluations"), "upstream_evaluations": total(remote, "evaluations"),
            "local_records": total(local, "records"), "upstream_records": total(remote, "records"),
        })
        rows.append(row)
        day += timedelta(days=1)
    return rows


def reconcile_recent(now: datetime | None = None) -> list[Reconciliation]:
    """The worker's daily run: the last DAYS_BACK days (today included) with every upstream of this system's kind."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    rows = []
    for upstream in Upstream.objects.filter(is_active=True, profile=Upstream.Profile.INTERNAL):
        try:
            rows += reconcile(upstream, start=today - timedelta(days=DAYS_BACK - 1), end=today, now=now)
        except PushFailed as exc:
            log.warning("reconciliation with upstream %s failed: %s", upstream.name, exc)
    return rows
