"""What a report says (R5.2), gathered from insight.metrics ONLY (同源发布): the figures, rankings, coverage and
case figures are exactly what the statistics API answers for the same scope and period; pain points come from
insight.painpoints, the lists from reports.lists. The renderers (xlsx.py, pdf.py) only lay the sections out.

A report's subject is a region's subtree or one department. It is computed as the region's supervisors would see
it (an unsaved supervisor of the region as the actor), whoever asks for it: the same report for the same subject
and period, on demand or from the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from haochaping.accounts.models import User
from haochaping.accounts.roles import Role
from haochaping.org.models import Department, Region
from haochaping.org.rules import region_level, region_prefix

from .. import metrics, painpoints
from . import lists
from .periods import ReportPeriod
from .sections import INT, RATE, SCORE, Column, Section

TOP_PAIN_POINTS = 10


@dataclass
class ReportContent:
    title: str
    subject: str  # the region's or the department's name
    region_name: str
    region_code: str
    period: ReportPeriod
    generated_at: datetime
    sections: list[Section]

    def section(self, name: str) -> Section:
        return next(s for s in self.sections if s.name == name)


@dataclass(frozen=True)
class Subject:
    region: Region
    department: Department | None = None

    @property
    def name(self) -> str:
        return self.department.name if self.department else self.region.name

    def filters(self, period: ReportPeriod) -> metrics.StatsFilter:
        if self.department is not None:
            return metrics.StatsFilter(departments=frozenset({self.department.pk}), date_from=period.start,
                                       date_to=period.end)
        return metrics.StatsFilter(region_prefix=region_prefix(self.region.code), region_code=self.region.code,
                                   date_from=period.start, date_to=period.end)


def region_actor(region_code: str) -> User:
    """An unsaved supervisor of ``region_code``: what the region's management agency sees, nothing more."""
    return User(username=f"report:{region_code}", role=Role.SUPERVISOR, region_id=region_code, is_active=True)


def title_for(subject: Subject, period: ReportPeriod) -> str:
    return f"{subject.name}政务服务“好差评”{period.label}{period.kind_name}"


def build(subject: Subject, period: ReportPeriod, *, now: datetime | None = None) -> ReportContent:
    """Everything the report of ``subject`` for ``period`` shows."""
    actor = region_actor(subject.region.code)
    filters = subject.filters(period)
    grouped: dict[str, metrics.Stats] = {}

    def figures_by(dim: str) -> metrics.Stats:
        # Each dimension's figures are computed once and shared by its table, its ranking and the lists.
        if dim not in grouped:
            grouped[dim] = metrics.figures(actor, filters, group_by=dim)
        return grouped[dim]

    sections = [_headline(metrics.figures(actor, filters).total)]
    for dim, name in _groupings(subject, period):
        sections.append(_grouped(figures_by(dim), dim, name, own_region=subject.region.code))
    unit_dims = ("window", "staff") if subject.department else ("department", "window", "staff")
    rankings = {dim: metrics.rankings_of(figures_by(dim)) for dim in unit_dims}
    sections += [_ranking(r) for r in rankings.values()]
    if subject.department is None:
        sections += _enterprises(metrics.by_sector(figures_by("department"))[1])
    sections += _coverage(actor, filters)
    sections += _cases(actor, filters, by=None if subject.department else "department")
    sections += _pain_points(actor, period, subject)
    sections += _appraisal(period, subject)
    sections += lists.sections(actor, filters, rankings, {dim: figures_by(dim) for dim in unit_dims})
    return ReportContent(
        title=title_for(subject, period), subject=subject.name, region_name=subject.region.name,
        region_code=subject.region.code, period=period, generated_at=now or timezone.now(), sections=sections,
    )


def _groupings(subject: Subject, period: ReportPeriod) -> list[tuple[str, str]]:
    out = []
    if subject.department is None and region_level(subject.region.code) <= 2:
        out.append(("region", "分地区"))
    out += [("item", "分事项")] if subject.department else [("department", "分部门")]
    out += [("agency", "分政务服务机构"), ("channel", "分渠道")]
    if period.kind != "month":
        out.append(("month", "分月"))
    return out


_FIGURE_COLUMNS = [
    Column("有效评价数", INT), Column("好评数", INT), Column("差评数", INT), Column("好评率", RATE),
    Column("差评率", RATE), Column("满意度", SCORE), Column("办结办件数", INT), Column("参评办件数", INT),
    Column("参评率", RATE), Column("不计入统计", INT), Column("系统默认评价", INT),
]


def _figure_cells(f: metrics.Figures) -> list:
    t = f.tally
    return [t.valid, t.good, t.bad, t.good_rate, t.bad_rate, t.satisfaction, f.completed, f.rated,
            f.participation_rate, t.excluded, t.system_default]


def _headline(total: metrics.Figures) -> Section:
    t = total.tally
    rows = [
        ["评价数", t.valid, "计入统计的有效评价（不含下列不计入统计的评价和系统默认评价）"],
        ["好评数", t.good, "非常满意、满意"],
        ["差评数", t.bad, "不满意、非常不满意"],
        ["好评率", t.good_rate, "好评数 ÷ 评价数"],
        ["差评率", t.bad_rate, "差评数 ÷ 评价数"],
        ["满意度", t.satisfaction, "有效评价等级的平均，换算为0–100分（5→100，4→75，3→50，2→25，1→0）"],
        ["办结办件数", total.completed, "期间内办结的办件（按办结时间）"],
        ["参评办件数", total.rated, "其中有评价的办件（系统默认评价不算）"],
        ["参评率", total.participation_rate, "参评办件数 ÷ 办结办件数"],
        ["不计入统计的评价", t.excluded, "申诉成立或认定误评、恶意差评的评价，另行列示"],
        ["其中差评", t.excluded_bad, ""],
        ["系统默认评价", t.system_default, "导入的系统默认评价，另行列示，不计入任何比率"],
        ["评价总数", t.total, "评价数 + 不计入统计的评价 + 系统默认评价"],
        ["实名评价", t.real_name, "有效评价中留有手机号的"],
        ["追加评价", t.followups, "有效评价中的追加评价"],
    ]
    for level, text in ((5, "非常满意"), (4, "满意"), (3, "基本满意"), (2, "不满意"), (1, "非常不满意")):
        rows.append([f"{text}（{level}级）", t.levels.get(level, 0), "有效评价"])
    kinds = {"好评率": RATE, "差评率": RATE, "参评率": RATE, "满意度": SCORE}
    return Section("概况", "主要指标", [Column("指标"), Column("数值", "mixed"), Column("口径")],
                   [[r[0], (kinds.get(r[0], INT), r[1]), r[2]] for r in rows],
                   note="各项指标的口径见上表“口径”一列；与数据看板、统计接口和公开数据同源计算。")


def _grouped(stats: metrics.Stats, dim: str, name: str, own_region: str = "") -> Section:
    # By region, the report's own region stands for its own level's units (a province's own departments): named
    # "…本级" as the public portal names it, so that it does not read as the region's total beside 合计.
    rows = [[g.key, f"{g.name}本级" if dim == "region" and g.key == own_region else g.name, *_figure_cells(g)]
            for g in stats.groups]
    rows.append(["", "合计", *_figure_cells(stats.total)])
    note = "按渠道分组时办件没有渠道，不计算参评率。" if dim == "channel" else ""
    return Section(name, f"{name}指标", [Column("编码"), Column("名称"), *_FIGURE_COLUMNS], rows, note)


_RANK_NAMES = {"department": "部门", "window": "窗口", "staff": "工作人员", "agency": "政务服务机构", "region": "地区"}


def _ranking(r: metrics.Rankings) -> Section:
    unit = _RANK_NAMES[r.by]
    rows = [[row.rank, row.key, row.name, row.evaluations, row.good, row.good_rate, row.score, ""] for row in r.ranked]
    rows += [[None, row.key, row.name, row.evaluations, row.good, row.good_rate, None,
              f"有效评价少于{r.min_sample}条，不参与排名"] for row in r.apart]
    return Section(
        f"{unit}排名", f"{unit}排名（按好评率置信下限）",
        [Column("排名", INT), Column("编码"), Column("名称"), Column("有效评价数", INT), Column("好评数", INT),
         Column("好评率", RATE), Column("好评率置信下限", RATE), Column("说明")],
        rows, note=f"按好评率的Wilson 95%置信区间下限排名；有效评价少于{r.min_sample}条的另行列出，不排名。",
    )


def _enterprises(stats: metrics.Stats) -> list[Section]:
    """Public-service enterprises (§五), apart from the departments: their figures and their own ranking."""
    if not stats.groups:
        return []
    rows = [[g.key, g.name, *_figure_cells(g)] for g in stats.groups]
    ranking = _ranking(metrics.rankings_of(stats))
    ranking.name, ranking.title = "公共服务企业排名", "公共服务企业排名（按好评率置信下限）"
    return [Section("公共服务企业", "公共服务企业指标（供水、供电、供气、供热、通信、邮政、公共交通）",
                    [Column("编码"), Column("名称"), *_FIGURE_COLUMNS], rows,
                    "公共服务企业与政府部门分开列示；其评价同样计入本地区合计。"), ranking]


_COVERAGE_NAMES = {"agency": "政务服务机构", "window": "窗口", "staff": "工作人员", "item": "事项", "platform": "平台"}


def _coverage(actor, filters) -> list[Section]:
    summary = Section("覆盖情况", "评价覆盖情况",
                      [Column("对象"), Column("有办结办件的", INT), Column("有评价的", INT), Column("覆盖率", RATE),
                       Column("零评价", INT)],
                      note="期间内有办结办件、但没有任何评价（系统默认评价不算）的对象为零评价对象。")
    missing = Section("零评价对象", "零评价对象", [Column("对象"), Column("编码"), Column("名称")])
    for of, name in _COVERAGE_NAMES.items():
        c = metrics.coverage(actor, filters, of=of)
        summary.rows.append([name, c.active, c.evaluated, c.rate, len(c.missing)])
        missing.rows += [[name, key, label] for key, label in c.missing]
    return [summary, missing]


_CASE_COLUMNS = [
    Column("案件数", INT), Column("回访率", RATE), Column("整改率", RATE), Column("办结数", INT), Column("按时办结率", RATE),
    Column("实名差评回访整改率", RATE), Column("申诉率", RATE), Column("申诉成立率", RATE), Column("当前逾期", INT),
]


def _case_cells(c) -> list:
    return [c.cases, c.callback_rate, c.rectify_rate, c.finished, c.on_time_rate, c.real_name_rate, c.appeal_rate,
            c.upheld_rate, c.overdue_now]


def _cases(actor, filters, by: str | None) -> list[Section]:
    rows = []
    if by:
        rows += [[c.name, *_case_cells(c)] for c in metrics.case_figures(actor, filters, by=by)]
    rows += [["合计", *_case_cells(c)] for c in metrics.case_figures(actor, filters)]
    figures = Section("整改情况", "差评整改情况（期间内立案的案件）", [Column("责任单位"), *_CASE_COLUMNS], rows,
                      note="定义见《统计口径》“整改与申诉”；申诉成立的案件不计入整改率、按时办结率和实名差评回访整改率。")
    outcomes = Section("处理方式", "案件按处理方式", [Column("处理方式"), Column("案件数", INT)],
                       [[o.name, o.cases] for o in metrics.case_outcomes(actor, filters)])
    return [figures, outcomes]


def _appraisal(period: ReportPeriod, subject: Subject) -> list[Section]:
    """绩效评价 (supervision.appraisal): each department's score for the period, the formula of docs/metrics.md
    "绩效评价", computed for the report's period (a month's equals the stored monthly result)."""
    from haochaping.supervision.appraisal.services import appraise_live

    rows = appraise_live(subject.region.code, period.start, period.end,
                         department_id=subject.department.pk if subject.department else None)
    out = []
    for r in rows:
        valued = [line for line in r["lines"] if line.score is not None]
        weakest = min(valued, key=lambda line: line.score, default=None)
        out.append([r["department"], r["score"], len(valued), len(r["lines"]),
                    f"{weakest.name}（{weakest.score:.1f}）" if weakest else ""])
    return [Section("绩效评价", "绩效评价得分（按指标体系计算）",
                    [Column("部门"), Column("绩效评价得分", SCORE), Column("有数据的指标", INT), Column("适用指标", INT),
                     Column("得分最低的指标")], out,
                    note="得分 = Σ 权重 × 指标得分，定义见《统计口径》“绩效评价”；没有数据的指标不计入，权重在其余指标间重新归一。")]


def _pain_points(actor, period: ReportPeriod, subject: Subject) -> list[Section]:
    result = painpoints.pain_points(actor, painpoints.Period(period.start, period.end),
                                    department_id=subject.department.pk if subject.department else None)
    labels = Section("差评标签", "差评标签统计", [Column("差评标签"), Column("差评数", INT), Column("占差评比例", RATE),
                                           Column("涉及事项")],
                     [[row.text, row.count, row.share, "、".join(n.name for n in row.items)]
                      for row in result.labels[:TOP_PAIN_POINTS]],
                     note=f"期间内计入统计的差评{result.reviews}条。")
    # A topic's share is of all the period's 差评 (painpoints._topic), as the pain-point page says it.
    topics = Section("集中问题", "差评集中反映的问题", [Column("问题"), Column("关键词"), Column("差评数", INT),
                                                Column("占差评比例", RATE), Column("常选标签"), Column("涉及事项")],
                     [[f"问题{t.number}：{t.name}", "、".join(t.terms) if t.emerging else "", t.size, t.share,
                       "、".join(n.name for n in t.labels), "、".join(n.name for n in t.items)]
                      for t in result.topics[:TOP_PAIN_POINTS]],
                     note="由差评的文字评价归纳：归入已定义痛点类别的列类别名称，新出现的问题列关键词；不引用评价原文。")
    return [labels, topics]
