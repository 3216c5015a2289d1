"""The sender (the worker runs it every minute; `haochaping send_outbox` on demand): drains each upstream's outbox
in order, in batches, over HTTPS with SM2-signed (and, where agreed, SM4-encrypted) bodies.

Order: rows leave strictly in the order they were written, so a 办件 always reaches the upstream before its
evaluations and their case outcome. A batch that fails as a whole (the upstream is down, times out, answers 5xx,
4xx or something that is not its answer) is retried with exponential backoff and nothing behind it overtakes it.
An item the upstream refuses on its own (problem details) becomes a dead letter with the upstream's reason, shown in
the admin for re-sending; the items behind it go on. Redelivery is harmless: the upstream is idempotent on the
evaluation's key (projectNo + assessNumber in the national shape)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .. import rules, wire
from ..models import OutboxEntry, Upstream
from . import payloads

log = logging.getLogger(__name__)
Status = OutboxEntry.Status
PUSH_PATH = "/api/v1/exchange/push"


class PushFailed(Exception):
    """The batch as a whole did not arrive (retry later); the message says why, without any of the data."""


@dataclass
class SendResult:
    sent: int = 0
    refused: int = 0
    failed_batches: int = 0
    waiting: bool = False  # stopped because the head of the queue is backing off

    def __add__(self, other: SendResult) -> SendResult:
        return SendResult(self.sent + other.sent, self.refused + other.refused,
                          self.failed_batches + other.failed_batches, self.waiting or other.waiting)


def push_url(upstream: Upstream) -> str:
    # Another instance of this system is named by its root; the national platform gives one full address.
    if upstream.profile == Upstream.Profile.INTERNAL:
        return upstream.url.rstrip("/") + PUSH_PATH
    return upstream.url


def _now_ms(now: datetime) -> str:
    return str(int(now.timestamp() * 1000))


def push(upstream: Upstream, items: list[dict], *, now: datetime, client: httpx.Client) -> list[dict]:
    """POST one batch; the upstream's answer per item (``status`` created/replayed/refused, ``problem``)."""
    timestamp = _now_ms(now)
    body = wire.seal({"items": [{"kind": i["kind"], "data": i["data"]} for i in items]},
                     app_id=upstream.app_id, timestamp=timestamp, payload_key=upstream.payload_key())
    headers = wire.headers(body, app_id=upstream.app_id, timestamp=timestamp)
    headers["Authorization"] = f"Bearer {upstream.api_key()}"
    try:
        response = client.post(push_url(upstream), content=body, headers=headers, timeout=upstream.timeout_seconds)
    except httpx.TimeoutException:
        raise PushFailed("上级节点超时未答复") from None
    except httpx.TransportError as exc:
        raise PushFailed(f"无法连接上级节点（{type(exc).__name__}）") from None
    if response.status_code != 200:
        detail = ""
        if response.headers.get("content-type", "").startswith("application/problem+json"):
            try:
                detail = str(response.json().get("detail", ""))[:200]
            except ValueError:
                pass
        raise PushFailed(f"上级节点答复 HTTP {response.status_code} {detail}".strip())
    try:
        results = response.json()["results"]
        statuses = [r["status"] for r in results]
    except (ValueError, KeyError, TypeError):
        raise PushFailed("上级节点的答复无法识别") from None
    if len(results) != len(items) or not set(statuses) <= {"created", "replayed", "refused"}:
        raise PushFailed("上级节点的答复与所报条目不符")
    return results


def _refusal(result: dict) -> str:
    problem = result.get("problem") if isinstance(result.get("problem"), dict) else {}
    return (str(problem.get("detail") or problem.get("title") or "上级节点拒收"))[:500]


def _mark_failed(refs: list[int], attempts: int, reason: str, now: datetime) -> None:
    wait = rules.backoff_seconds(attempts, base=settings.HAOCHAPING_OUTBOX_BACKOFF_SECONDS)
    OutboxEntry.objects.filter(pk__in=refs).update(
        attempts=F("attempts") + 1, next_attempt_at=now + timedelta(seconds=wait), last_error=reason[:500],
    )


def _mark_dead(pk: int, reason: str) -> None:
    OutboxEntry.objects.filter(pk=pk).update(status=Status.DEAD, last_error=reason[:500], attempts=F("attempts") + 1)


def _send_batch(upstream: Upstream, client: httpx.Client, now: datetime) -> SendResult | None:
    """Send the oldest waiting rows; None when there is nothing to send. No transaction is open during the push
    (on the embedded SQLite database it would stop every evaluation from being written meanwhile): if the process
    dies between the push and the bookkeeping, the rows are simply sent again, which the upstream answers as
    replayed."""
    entries = list(OutboxEntry.objects.filter(upstream=upstream, status=Status.PENDING).order_by("id")[: upstream.batch_size])
    if not entries:
        return None
    if entries[0].next_attempt_at and entries[0].next_attempt_at > now:
        return SendResult(waiting=True)
    items, unsendable = payloads.build(upstream, entries)
    for pk, reason in unsendable.items():
        _mark_dead(pk, reason)
    if not items:
        return SendResult(refused=len(unsendable))
    try:
        results = push(upstream, items, now=now, client=client)
    except PushFailed as exc:
        with transaction.atomic():
            _mark_failed([i["ref"] for i in items], entries[0].attempts + 1, str(exc), now)
        log.warning("push to upstream %s failed (%s)", upstream.name, exc)
        return SendResult(refused=len(unsendable), failed_batches=1, waiting=True)
    delivered = [i["ref"] for i, r in zip(items, results, strict=True) if r["status"] != "refused"]
    refused = [(i["ref"], _refusal(r)) for i, r in zip(items, results, strict=True) if r["status"] == "refused"]
    with transaction.atomic():
        OutboxEntry.objects.filter(pk__in=delivered).update(
            status=Status.SENT, sent_at=now, attempts=F("attempts") + 1, last_error="",
        )
        for pk, reason in refused:
            _mark_dead(pk, reason)
    if refused:
        log.warning("upstream %s refused %d item(s); see the dead letters in the admin", upstream.name, len(refused))
    return SendResult(sent=len(delivered), refused=len(refused) + len(unsendable))


def _take_lease(upstream: Upstream, now: datetime) -> bool:
    until = now + timedelta(seconds=upstream.timeout_seconds + 60)
    free = Q(sending_until__isnull=True) | Q(sending_until__lt=now)
    return Upstream.objects.filter(free, pk=upstream.pk).update(sending_until=until) == 1


def send_upstream(upstream: Upstream, *, max_batches: int = 50, client: httpx.Client | None = None,
                  now: datetime | None = None) -> SendResult:
    """Send up to ``max_batches`` batches to one upstream, stopping at a failure or when the queue is empty."""
    total = SendResult()
    if not _take_lease(upstream, now or timezone.now()):
        return total  # another sender is at it
    own = client is None
    client = client or httpx.Client()
    try:
        for _ in range(max_batches):
            result = _send_batch(upstream, client, now or timezone.now())
            if result is None:
                break
            total = total + result
            if result.waiting:
                break
    finally:
        if own:
            client.close()
        Upstream.objects.filter(pk=upstream.pk).update(sending_until=None)
    return total


def send_all(**kwargs) -> SendResult:
    """Send to every active upstream."""
    total = SendResult()
    for upstream in Upstream.objects.filter(is_active=True):
        total = total + send_upstream(upstream, **kwargs)
    return total
