"""Background work of exchange, run by ``haochaping worker`` (core.schedule): the sender every minute, the
reports sent down every hour, the reconciliation once a day."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from haochaping.core.schedule import periodic


@periodic(every=timedelta(minutes=1))
@task()
def send_outbox() -> int:
    """Push what waits in the outbox to every active upstream; returns how many rows were delivered."""
    from .services.sender import send_all

    return send_all().sent


@periodic(every=timedelta(hours=1))
@task()
def fetch_received_reports() -> int:
    """Fetch the reports upstreams of this system's kind made for this node's regions."""
    from .models import Upstream
    from .services.reports import fetch_reports
    from .services.sender import PushFailed

    arrived = 0
    for upstream in Upstream.objects.filter(is_active=True, profile=Upstream.Profile.INTERNAL):
        try:
            arrived += fetch_reports(upstream)
        except PushFailed:
            continue
    return arrived


@periodic(every=timedelta(days=1))
@task()
def reconcile_with_upstreams() -> int:
    """Compare the last week's per-day, per-region counts with each upstream; returns how many days differ."""
    from .services.reconcile import reconcile_recent

    return sum(1 for row in reconcile_recent() if not row.matches)
