"""``haochaping partitions``: list the monthly partitions of 办件 and evaluations (PostgreSQL), create the coming
months' now (``--maintain``, what the worker does daily), or detach an old month for archive and attach it again
(``--detach YYYY-MM`` / ``--attach YYYY-MM``). docs/operations.md "分区维护与归档"."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from haochaping.core import partitions

TABLES = {"records": "records_servicerecord", "evaluations": "evaluation_evaluation"}


def _month(value: str) -> date:
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise CommandError(f"月份格式应为 YYYY-MM：{value}") from None


class Command(BaseCommand):
    help = (
        "PostgreSQL 上办件和评价按月分区：列出分区；--maintain 预建今后几个月的分区并把落入默认分区的数据移入所属月份；"
        "--detach YYYY-MM 把该月分区从表中分离以便归档（数据保留在同名表中，唯一键仍占用）；--attach YYYY-MM 重新挂回。"
    )

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--maintain", action="store_true", help="预建分区并移出默认分区中的数据")
        group.add_argument("--detach", metavar="YYYY-MM", help="分离该月分区（归档）")
        group.add_argument("--attach", metavar="YYYY-MM", help="重新挂回已分离的该月分区")
        parser.add_argument("--table", choices=[*TABLES, "both"], default="both",
                            help="分离或挂回哪张表的分区：records（办件）、evaluations（评价）或 both（默认）")

    def handle(self, *args, maintain=False, detach=None, attach=None, table="both", **options):
        if not partitions.supported():
            raise CommandError("分区只用于 PostgreSQL；SQLite 上办件和评价是普通表")
        tables = list(TABLES.values()) if table == "both" else [TABLES[table]]
        if maintain:
            done = partitions.maintain()
            self.stdout.write(f"新建分区 {len(done.created)} 个：{'、'.join(done.created) or '无'}；"
                              f"从默认分区移入 {done.moved} 行。")
        elif detach:
            month = _month(detach)
            today = timezone.localdate()
            if month >= date(today.year, today.month, 1):
                raise CommandError(f"只能分离已结束的月份：{detach}")
            # Evaluations first: an attached evaluation whose 办件 was detached would lose its 办件.
            for name in sorted(tables, key=lambda t: t != TABLES["evaluations"]):
                try:
                    self.stdout.write(f"已分离 {partitions.detach(name, month)}")
                except LookupError as exc:
                    raise CommandError(f"没有该月的分区：{exc}") from None
            return
        elif attach:
            month = _month(attach)
            for name in sorted(tables, key=lambda t: t != TABLES["records"]):
                try:
                    self.stdout.write(f"已挂回 {partitions.attach(name, month)}")
                except LookupError as exc:
                    raise CommandError(f"没有已分离的该月分区表，或已挂回：{exc}") from None
            return
        for name in TABLES.values():
            for p in partitions.partitions(name):
                label = f"{p.month:%Y-%m}" if p.month else "默认分区"
                self.stdout.write(f"{name}\t{label}\t{p.name}\t约 {p.rows_estimate} 行")
