"""``haochaping reconcile [--start D --end D]``: compare per-day, per-region counts with each upstream."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from haochaping.exchange.models import Upstream
from haochaping.exchange.services.reconcile import DAYS_BACK, reconcile
from haochaping.exchange.services.sender import PushFailed


class Command(BaseCommand):
    help = "与上级节点对账：逐日、逐个行政区划比对评价数和办件数"

    def add_arguments(self, parser):
        parser.add_argument("--start", type=date.fromisoformat, help="起始日期 YYYY-MM-DD（默认7天前）")
        parser.add_argument("--end", type=date.fromisoformat, help="结束日期 YYYY-MM-DD（默认今天）")

    def handle(self, *args, start=None, end=None, **options):
        end = end or timezone.localdate()
        start = start or end - timedelta(days=DAYS_BACK - 1)
        upstreams = Upstream.objects.filter(is_active=True, profile=Upstream.Profile.INTERNAL)
        if not upstreams:
            raise CommandError("没有可对账的上级节点（仅上级节点也运行本系统时可对账）")
        differing = 0
        for upstream in upstreams:
            try:
                rows = reconcile(upstream, start=start, end=end)
            except PushFailed as exc:
                raise CommandError(f"{upstream.name}：{exc}") from None
            for row in rows:
                if row.matches:
                    continue
                differing += 1
                for d in row.differences:
                    kind = "评价" if d["kind"] == "evaluations" else "办件"
                    self.stdout.write(f"{upstream.name} {row.day} {d['region_code']} {kind}：本节点 {d['local']}，上级 {d['upstream']}")
            total = sum(r.local_evaluations for r in rows)
            self.stdout.write(f"{upstream.name}：{start} 至 {end} 共 {len(rows)} 天，本节点评价 {total} 条")
        self.stdout.write("一致" if not differing else f"{differing} 天不一致")
        if differing:
            raise SystemExit(1)
