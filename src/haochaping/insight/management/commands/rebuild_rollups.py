"""``haochaping rebuild_rollups [--from D] [--to D] [--check]``: recompute the per-day counters from the
evaluations, one transaction per month (rollups.rebuild: the recount and the comparison run in SQL, so memory does not
grow with the data; a run stopped halfway converges when run again), and report how they differed (DESIGN.md
"Rollups": they must agree exactly)."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from haochaping.insight import rollups


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"日期格式应为 YYYY-MM-DD：{value}") from None


class Command(BaseCommand):
    help = (
        "按评价和办件重新计算每日评价计数和参评计数（统计汇总），逐月（每月一个事务）替换指定期间（默认全部）的计数，中途中断后重新运行即可，并报告与原计数的差异。"
        "--check 只比较不修改，有差异时以非零状态退出（可用于定时核对）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", help="起始日期（含），YYYY-MM-DD，按北京时间")
        parser.add_argument("--to", dest="date_to", help="截止日期（含），YYYY-MM-DD，按北京时间")
        parser.add_argument("--check", action="store_true", help="只比较，不修改计数")
        parser.add_argument("--days", type=int, help="每月再按不超过该天数分段处理（缩短每段的事务和加锁时间），默认按整月")

    def handle(self, *args, date_from=None, date_to=None, check=False, days=None, verbosity=1, **options):
        start = _day(date_from) if date_from else None
        end = _day(date_to) if date_to else None
        if start and end and start > end:
            raise CommandError("起始日期不能晚于截止日期")
        if days is not None and days < 1:
            raise CommandError("--days 应为正整数")
        report = rollups.rebuild(start, end, apply=not check, actor="rebuild_rollups", days=days)
        period = f"{start or '最早'} 至 {end or '最新'}"
        if verbosity >= 1:
            self.stdout.write(
                f"期间 {period}：评价 {report.evaluations} 条，计数 {report.counters} 行；"
                f"与原计数不同的 {report.differing} 行（原计数少计 {report.missing} 条、多计 {report.surplus} 条）；"
                f"参评计数：办结办件 {report.completed} 件，计数 {report.participation_rows} 行，"
                f"与原计数不同的 {report.participation_differing} 行；地区部门、窗口人员汇总与原汇总不同的 {report.wide_differing} 行；"
                f"问卷计数与改进意见不同的 {report.questionnaire_differing} 项；"
                f"整改与申诉计数：立案 {report.cases} 件，与原计数不同的 {report.case_differing} 行。"
            )
            self.stdout.write("已按评价重建计数。" if report.applied else "只作比较，计数未修改。")
        if check and not report.agrees:
            raise CommandError(
                f"计数与评价、办件不一致：评价计数 {report.differing} 行、参评计数 {report.participation_differing} 行、"
                f"汇总 {report.wide_differing} 行、问卷 {report.questionnaire_differing} 项、"
                f"整改与申诉计数 {report.case_differing} 行不同")
