"""``haochaping demo``: load the demo data set once (see haochaping.demo.generator for what it holds)."""

from __future__ import annotations

import time
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from haochaping.demo import accounts as demo_accounts
from haochaping.demo import appraisal as demo_appraisal
from haochaping.demo import cases as demo_cases
from haochaping.demo import generator
from haochaping.demo import supervision as demo_supervision
from haochaping.demo import surveys as demo_surveys
from haochaping.evaluation.models import Channel
from haochaping.insight import rollups
from haochaping.rectification.rules import AppealState, State
from haochaping.transparency import services as log_services


class Command(BaseCommand):
    help = _(
        "载入演示数据：山东省及济南市、青岛市部分区县的演示机构、事项和办事指南，以及最近12个月的办件和评价。"
        "数据由固定随机种子生成，同一天运行结果相同；已载入时不再重复载入。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--records", type=int, default=generator.DEFAULT_RECORDS, help=_("生成的办件数量（默认100000）")
        )

    def _seal(self, verbosity: int) -> None:
        # What the worker would seal within 15 minutes, at once: the demo's receipt pages can verify straight away.
        checkpoint = log_services.seal(actor="demo")
        if checkpoint is not None and verbosity >= 1:
            self.stdout.write(_("评价存证日志已封存：检查点树大小 %(size)d。") % {"size": checkpoint.tree_size})

    def handle(self, *args, records: int, verbosity: int = 1, **options):
        if records < 1:
            raise CommandError(_("--records 应为正整数"))
        today = datetime.now(generator.SHANGHAI).date()
        if generator.is_loaded():
            self.stdout.write(_("演示数据已存在，无需重复载入。"))
            # A database loaded before demo accounts (or demo cases) existed gets them now.
            if demo_accounts.missing():
                self._create_accounts(verbosity)
            with transaction.atomic():
                cases = demo_cases.build(today)
                demo_surveys.build(today)
                if cases.cases:
                    rollups.rebuild(actor="demo")  # cases may have excluded evaluations
                demo_supervision.build(today)
            if cases.cases and verbosity >= 1:
                self.stdout.write(self._cases_line(cases))
            with transaction.atomic():
                self._appraisal(today, verbosity)
            self._seal(verbosity)
            return
        progress = self.stdout.write if verbosity >= 1 else None
        started = time.perf_counter()
        # One transaction: the 办件 and evaluations, the accounts that act in the cases, and the cases.
        with transaction.atomic():
            s = generator.build(records, today=today, progress=progress)
            accounts = self._make_accounts()
            cases = demo_cases.build(today, progress=progress)
            supervision = demo_surveys.build(today)
            demo_supervision.build(today)
        # The loader bulk-inserts evaluations past the receivers (and cases exclude some): count them now.
        rollups.rebuild(actor="demo")
        with transaction.atomic():
            appraised = demo_appraisal.build(today)
        # Pain points: classify the bad reviews now rather than at the worker's first run (demo comments repeat,
        # so this is a few seconds).
        from haochaping.insight.painpoints.services import assign_pending

        assign_pending(limit=100_000)
        s.seconds = time.perf_counter() - started
        self._seal(verbosity)
        if verbosity < 1:
            return
        channels = "，".join(
            f"{Channel(c).label}{n / s.evaluations:.1%}" for c, n in s.channels.most_common()
        ) if s.evaluations else "—"
        lines = [
            _("演示数据已载入（用时 %(seconds).1f 秒）。") % {"seconds": s.seconds},
            _("机构：演示行政区划 %(regions)d 个，部门 %(departments)d 个，政务服务机构 %(agencies)d 个，窗口 %(windows)d 个，"
              "工作人员 %(staff)d 名，平台 %(platforms)d 个") % vars(s),
            _("事项 %(items)d 项，每项均已发布办事指南") % {"items": s.items},
            _("办件 %(records)d 件（%(start)s 至 %(end)s）：已办结 %(completed)d，办理中 %(in_progress)d，"
              "待受理 %(waiting)d，超期 %(overdue)d")
            % {"records": s.records, "start": s.start, "end": s.end, "completed": s.completed,
               "in_progress": s.status[2], "waiting": s.status[1], "overdue": s.overdue},
            _("评价 %(evaluations)d 条（其中追加评价 %(followups)d 条，补充评价 %(supplementary)d 条，实名 %(real_name)d 条）；"
              "差评 %(bad)d 条，差评率 %(bad_rate).2f%%；参评率 %(participation).1f%%（未评价的办件不计为满意）")
            % {"evaluations": s.evaluations, "followups": s.followups, "supplementary": s.supplementary,
               "real_name": s.real_name, "bad": s.bad, "bad_rate": s.bad_rate * 100,
               "participation": s.participation_rate * 100},
            _("评价渠道：%(channels)s") % {"channels": channels},
        ]
        lines.append(self._cases_line(cases))
        lines.append(_("监督查评问卷 %(surveys)d 份（答卷 %(responses)d 份）；回访抽样 %(samples)d 个单位 %(drawn)d 条，"
                       "已回访 %(calls)d 条，评价不实 %(mismatches)d 条")
                     % {"surveys": supervision.surveys, "responses": supervision.responses,
                        "samples": supervision.samples, "drawn": supervision.drawn, "calls": supervision.calls,
                        "mismatches": supervision.mismatches})
        if appraised:
            lines.append(self._appraisal_line(appraised))
        for line in lines:
            self.stdout.write(line)
        self._print_accounts(*accounts)

    @staticmethod
    def _cases_line(c: demo_cases.CaseSummary) -> str:
        states = "，".join(f"{State(k).label}{n}" for k, n in sorted(c.states.items(), key=lambda kv: -kv[1]))
        appeals = "，".join(f"{AppealState(k).label}{n}" for k, n in sorted(c.appeals.items())) or "—"
        return (_("整改案件 %(cases)d 件（每条差评一件）：%(states)s；曾逾期上报 %(escalated)d 件；申诉：%(appeals)s；"
                  "不计入统计的差评 %(excluded)d 条")
                % {"cases": c.cases, "states": states or "—", "escalated": c.escalated, "appeals": appeals,
                   "excluded": c.excluded})

    @staticmethod
    def _appraisal_line(units: int) -> str:
        return _("第三方评估：评估委托1项（评估报告已采纳1份、已退回1份）；上月绩效评价已计算 %(units)d 个部门") % {
            "units": units}

    def _appraisal(self, today, verbosity: int) -> None:
        units = demo_appraisal.build(today)
        if units and verbosity >= 1:
            self.stdout.write(self._appraisal_line(units))

    def _make_accounts(self):
        password, is_default = demo_accounts.demo_password()
        created, everyone = demo_accounts.create_demo_accounts(password)
        return created, everyone, password, is_default

    def _create_accounts(self, verbosity: int) -> None:
        accounts = self._make_accounts()
        if verbosity >= 1:
            self._print_accounts(*accounts)

    def _print_accounts(self, created, everyone, password, is_default) -> None:
        self.stdout.write(_("演示账号：新建 %(created)d 个，共 %(total)d 个。") % {"created": len(created), "total": len(everyone)})
        for line in demo_accounts.table(everyone):
            self.stdout.write(line)
        if is_default:
            self.stdout.write(_("演示账号密码均为：%(password)s（可用环境变量 %(env)s 另行指定）")
                              % {"password": password, "env": demo_accounts.PASSWORD_ENV})
        else:
            self.stdout.write(_("演示账号密码为环境变量 %(env)s 的值。") % {"env": demo_accounts.PASSWORD_ENV})
        self.stdout.write(_("设置 HAOCHAPING_DEMO=1 运行时（make run），演示账号登录无需动态口令；否则经办人、监督人员和管理员首次登录须绑定动态口令。"))
