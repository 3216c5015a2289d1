"""Reports sent down (§四(三): the national platform's periodic reports go back to the regions and departments).

The upper node lists, for a lower node's key, the reports it made about regions within that node's region; the
lower node's worker fetches those it does not have yet and keeps them as ReceivedReport rows, shown to the
supervisors of the region each report is about."""

from __future__ import annotations

from datetime import date, datetime

import httpx
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from haochaping.insight.models import Report
from haochaping.org.rules import region_prefix

from ..models import ReceivedReport, Upstream
from .sender import PushFailed

REPORTS_PATH = "/api/v1/exchange/reports"


def reports_for_node(region_code: str | None):
    """The reports an upper node sends down to a lower node bound to ``region_code`` (all, for an unbound key)."""
    qs = Report.objects.select_related("department").order_by("-period_start", "id")
    if region_code:
        qs = qs.filter(region__pk__startswith=region_prefix(region_code))
    return qs


def fetch_reports(upstream: Upstream, *, client: httpx.Client | None = None, now: datetime | None = None) -> int:
    """Fetch the reports ``upstream`` has for this node that are not here yet; returns how many arrived."""
    now = now or timezone.now()
    own = client is None
    client = client or httpx.Client()
    auth = {"Authorization": f"Bearer {upstream.api_key()}"}
    base = upstream.url.rstrip("/") + REPORTS_PATH
    arrived = 0
    try:
        try:
            response = client.get(base, headers=auth, timeout=upstream.timeout_seconds)
            listing = response.json()["reports"] if response.status_code == 200 else None
        except (httpx.TransportError, ValueError, KeyError, TypeError):
            listing = None
        if listing is None:
            raise PushFailed("无法从上级节点取得报告列表")
        have = set(ReceivedReport.objects.filter(upstream=upstream).values_list("remote_id", flat=True))
        for entry in listing:
            if entry["id"] in have:
                continue
            pdf = client.get(f"{base}/{int(entry['id'])}/pdf", headers=auth, timeout=upstream.timeout_seconds)
            if pdf.status_code != 200 or not pdf.content.startswith(b"%PDF"):
                continue  # tried again at the next run
            with transaction.atomic():
                report = ReceivedReport(
                    upstream=upstream, remote_id=int(entry["id"]), title=str(entry["title"])[:300],
                    kind=str(entry["kind"])[:10], period_start=date.fromisoformat(entry["period_start"]),
                    period_end=date.fromisoformat(entry["period_end"]), region_code=str(entry["region_code"])[:12],
                    department_name=str(entry.get("department") or "")[:200],
                    generated_at=parse_datetime(entry["generated_at"]), received_at=now,
                )
                report.pdf.save(f"{upstream.pk}-{int(entry['id'])}.pdf", ContentFile(pdf.content), save=False)
                report.save()
            arrived += 1
    finally:
        if own:
            client.close()
    return arrived
