"""haochaping import FILE --kind records|evaluations [--shape national] [--name 旧系统]: history import (R6.5).
See haochaping.exchange.importer and docs/exchange.md."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from haochaping.exchange import importer


class Command(BaseCommand):
    help = "导入历史办件或评价（CSV、XLSX、JSONL；本系统格式、国家平台接口格式或 GB/T 39046），保留原始时间，可中断续传"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="要导入的文件（.csv、.xlsx、.jsonl）")
        parser.add_argument("--kind", required=True, choices=importer.KINDS, help="records 办件；evaluations 评价")
        parser.add_argument("--shape", default="internal", choices=importer.SHAPES, help="文件格式，默认 internal")
        parser.add_argument("--name", default="", help="数据来源名称，记为 import:<名称>（默认取文件名）")
        parser.add_argument("--chunk", type=int, default=importer.CHUNK,
                            help=f"每批读取、校验并写入的最多行数，每批之后记录续传进度（默认 {importer.CHUNK}）")

    def handle(self, *args, file: Path, kind: str, shape: str, name: str, chunk: int = importer.CHUNK, **options):
        if not file.is_file():
            raise CommandError(f"文件不存在：{file}")
        tty = sys.stderr.isatty()
        started, before = time.monotonic(), importer.rows_done(file, kind, shape)

        def progress(rows: int) -> None:
            # A bar needs a total, which would mean reading the file twice: the count of rows handled is enough,
            # with the rate of this run (rows before a resumed run's start are not counted in it).
            seconds = time.monotonic() - started
            rate = f"，每秒 {(rows - before) / seconds:.0f} 行" if seconds > 0 and rows > before else ""
            message = f"已处理 {rows} 行{rate}"
            if tty:
                sys.stderr.write("\r" + message)
            else:
                sys.stderr.write(message + "\n")
            sys.stderr.flush()

        try:
            result = importer.import_file(file, kind=kind, shape=shape, name=name, progress=progress, chunk=chunk)
        except importer.ImportFileError as exc:
            raise CommandError(str(exc)) from None
        if tty:
            sys.stderr.write("\n")
        self.stdout.write(
            f"导入完成：共 {result.rows} 行，新增 {result.created} 行，已存在 {result.replayed} 行，"
            f"拒绝 {result.refused} 行" + (f"，此前已完成 {result.skipped} 行" if result.skipped else "")
        )
        if result.refused or result.refused_before:
            self.stdout.write(f"被拒绝的行及原因见：{result.refused_path}")
