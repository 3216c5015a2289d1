"""``haochaping send_outbox``: push what waits in the outbox now (the worker does it every minute)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from haochaping.exchange.models import OutboxEntry
from haochaping.exchange.services.sender import send_all


class Command(BaseCommand):
    help = "向上级节点报送待报送的办件、评价和整改结果"

    def add_arguments(self, parser):
        parser.add_argument("--until-empty", action="store_true",
                            help="反复报送（失败时按退避间隔等待），直到队列中没有可报送的条目")
        parser.add_argument("--timeout", type=float, default=600, help="--until-empty 时最长运行秒数（默认600）")

    def handle(self, *args, until_empty=False, timeout=600, **options):
        deadline = time.monotonic() + timeout
        total_sent = total_refused = 0
        while True:
            result = send_all()
            total_sent += result.sent
            total_refused += result.refused
            pending = OutboxEntry.objects.filter(status=OutboxEntry.Status.PENDING)
            if not until_empty or not pending.exists() or time.monotonic() > deadline:
                break
            head = pending.order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first()
            wait = (head - timezone.now()).total_seconds() if head else 0
            time.sleep(min(max(wait, 0.2), 5))
        left = OutboxEntry.objects.filter(status=OutboxEntry.Status.PENDING).count()
        self.stdout.write(f"已报送 {total_sent} 条，拒收或无法报送 {total_refused} 条，待报送 {left} 条")
        if until_empty and left:
            raise SystemExit(1)
