"""``haochaping detect_fraud``: run the fraud detectors now (the worker runs them daily) and file findings."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from haochaping.supervision.fraud import rules, services


class Command(BaseCommand):
    help = "运行刷好评、代评、打击报复等弄虚作假线索检测，结果进入监督人员的核查队列（不会自动剔除任何评价）"

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=rules.LOOKBACK_DAYS, help="检测最近多少天的评价")
        parser.add_argument("--outlier-days", type=int, default=rules.OUTLIER_LOOKBACK_DAYS,
                            help="非常满意占比异常检测读取的天数")

    def handle(self, *args, days: int, outlier_days: int, **options):
        result = services.detect(days=days, outlier_days=outlier_days)
        self.stdout.write(f"检测到线索{result.signals}条：新增{len(result.created)}条，更新{len(result.updated)}条")
