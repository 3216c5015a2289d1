"""`haochaping seal_log`: seal now what the worker would seal at its next slot (for cron or an operator)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from haochaping.transparency import services


class Command(BaseCommand):
    help = "立即把尚未封存的评价和不计入统计记录封存进一个新的签名检查点"

    def handle(self, *args, **options):
        started = time.perf_counter()
        checkpoint = services.seal(actor="seal_log")
        elapsed = time.perf_counter() - started
        if checkpoint is None:
            self.stdout.write(f"nothing new to seal ({elapsed:.2f} s)")
        else:
            self.stdout.write(f"checkpoint: tree_size={checkpoint.tree_size} previous={checkpoint.previous_size} "
                              f"root={checkpoint.root_hash} sealed in {elapsed:.2f} s")
