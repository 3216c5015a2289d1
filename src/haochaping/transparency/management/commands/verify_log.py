"""`haochaping verify_log`: replay every leaf from the database against every published checkpoint."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from haochaping.transparency import replay


class Command(BaseCommand):
    help = "逐条按数据库重算日志叶子，核对每个已公布检查点的根哈希、签名和一致性；发现被改动或删除的行时列出其 id 并以非零状态退出"

    def handle(self, *args, **options):
        report = replay.replay()
        for finding in report.findings:
            self.stderr.write(str(finding))
        self.stdout.write(
            f"leaves: {report.leaves}, checkpoints: {report.checkpoints}, "
            f"unsealed evaluations: {report.unsealed_evaluations}, unsealed exclusions: {report.unsealed_exclusions}, "
            f"findings: {len(report.findings)}"
        )
        if not report.ok:
            raise CommandError(f"日志核验未通过：{len(report.findings)} 处不一致")
        self.stdout.write("日志核验通过")
