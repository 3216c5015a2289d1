"""haochaping seed_calendar [--from-year 2019]: load the national holidays and 调休 workdays the installed
chinese-calendar package knows. Safe to run again (after upgrading the package, say); never overwrites what
an administrator entered."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from haochaping.core import calendar, calendar_rules, services


class Command(BaseCommand):
    help = "从 chinese-calendar 数据包导入全国节假日与调休上班日（可重复执行，不覆盖管理员录入的数据）"

    def add_arguments(self, parser):
        parser.add_argument(
            "--from-year", type=int, default=services.DEFAULT_FROM_YEAR,
            help=f"从哪一年开始导入（默认 {services.DEFAULT_FROM_YEAR}）",
        )

    def handle(self, *args, from_year: int, **options):
        if not 1900 <= from_year <= 2100:
            raise CommandError("--from-year 应在1900至2100之间")
        result = services.seed_national_calendar(from_year)
        if not result.years:
            raise CommandError(f"chinese-calendar 数据包没有 {from_year} 年及以后的数据")
        self.stdout.write(
            f"已导入 {result.years[0]}–{result.years[-1]} 年：新增 {result.created} 天，更新 {result.updated} 天，"
            f"删除 {result.deleted} 天，保留管理员录入 {result.kept_admin} 天；"
            f"新标记年份 {len(result.years_created)} 个"
        )
        missing = calendar.fallback_years(calendar_rules.years_to_watch(timezone.localdate()))
        if missing:
            self.stderr.write(self.style.WARNING(calendar_rules.fallback_notice(missing) + "；请在管理后台录入。"))
