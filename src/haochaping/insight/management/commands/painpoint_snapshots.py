"""``haochaping painpoint_snapshots``: analyse the pain-point page's default view of every whole-region scope now and
store it (what the worker's ``insight.tasks.build_pain_point_snapshots`` does every 15 minutes; docs/painpoints.md).
For a new installation, a restored database or a benchmark, so the first page view reads a snapshot."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from haochaping.insight.painpoints import services


class Command(BaseCommand):
    help = "立即为每个整区范围（全部、各监督人员所在地区）分析默认期间的差评痛点并保存快照（后台任务每15分钟做一次）。"

    def handle(self, *args, verbosity=1, **options):
        started = time.perf_counter()
        scopes = services.build_snapshots()
        if verbosity:
            self.stdout.write(f"已保存 {scopes} 个范围的差评痛点快照，用时 {time.perf_counter() - started:.1f} 秒")
