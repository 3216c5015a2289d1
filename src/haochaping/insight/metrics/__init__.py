"""The ONE module computing published figures (R6.1 同源发布): 评价数, 参评率, 好评率, 差评率, 满意度, excluded and
system-default evaluations shown apart, coverage, rankings (R5.3), and the case figures (delegated to
rectification.figures). docs/metrics.md defines each; pages, the API, reports and the portal call these functions.

Evaluation figures come from the per-day counters and 参评率 from the per-day participation counters, summed by
the database per group (O(groups) result rows); coverage comes from the 办件 table; case figures from the cases. Every function applies the caller's scope (core.scoping) before the filters:
what is out of scope is absent, as if it did not exist.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from haochaping.core.problems import invalid
from haochaping.core.scoping import EVERYTHING, Visibility, scope, visibility_for
from haochaping.evaluation.models import Channel, Evaluation, EvaluationType
from haochaping.org.rules import region_prefix

from .. import rules
from ..models import (
    MONTHLY,
    WIDE_VALUES,
    DailyCounter,
    DailyParticipation,
    RegionDayCounter,
    RegionDayMix,
    UnitDayCounter,
)
from ..rollups import monthly
from . import names

# The cases' figures live in metrics/cases.py (the same entry point: metrics.case_figures …).
from .cases import OutcomeCount, case_figures, case_outcomes, complaint_counts, fraud_counts  # noqa: F401
from .filters import (  # noqa: F401 (one entry point: metrics.StatsFilter, metrics.DIMENSIONS …)
    _COUNTER_COLUMN,
    _RECORD_COLUMN,
    COVERAGE_OF,
    DIMENSIONS,
    UNIT_DIMENSIONS,
    StatsFilter,
    day_start,
)


@dataclass
class Figures:
    """One group's figures (or the totals). Rates are shares in [0, 1] or None ("—") without a denominator."""

    key: str
    name: str
    tally: rules.Tally = field(default_factory=rules.Tally)
    completed: int | None = None  # 办结办件数 (None: not defined for this grouping, e.g. by channel or level)
    rated: int | None = None  # of those, 办件 with an evaluation

    @property
    def participation_rate(self) -> float | None:
        return None if self.completed is None else rules.rate(self.rated or 0, self.completed)

    def as_dict(self) -> dict:
        t = self.tally
        return {
            "key": self.key, "name": self.name, "evaluations": t.valid, "good": t.good, "bad": t.bad,
            "levels": {str(lv): t.levels.get(lv, 0) for lv in rules.LEVELS}, "followups": t.followups,
            "real_name": t.real_name, "good_rate": t.good_rate, "bad_rate": t.bad_rate,
            "satisfaction": t.satisfaction, "excluded": t.excluded, "excluded_bad": t.excluded_bad,
            "system_default": t.system_default, "total": t.total, "completed": self.completed, "rated": self.rated,
            "participation_rate": self.participation_rate,
        }


@dataclass
class Stats:
    group_by: str | None
    total: Figures
    groups: list[Figures]


def _check_dimension(group_by: str | None, allowed=DIMENSIONS, field_name: str = "group_by") -> None:
    if group_by is not None and group_by not in allowed:
        raise invalid(f"分组维度应为以下之一：{'、'.join(allowed)}", field_name)


def _region_base(actor, filters: StatsFilter) -> tuple[bool, str | None]:
    """(fold?, base code) for group_by=region: one level below the filter's region or the caller's region."""
    if filters.region_code:
        return True, filters.region_code
    visibility = visibility_for(actor)
    if visibility.region_prefix:
        return True, visibility.region_prefix.ljust(6, "0")
    return visibility.everything, None


def _group_value(dim: str | None, value, fold) -> object:
    if dim is None:
        return ""
    if dim == "month":
        return value.strftime("%Y-%m")
    if dim == "region":
        return fold(value)
    return value


def counted(actor, filters: StatsFilter) -> QuerySet:
    """The caller's counters under ``filters``."""
    return filters.counters(scope(DailyCounter.objects.all(), actor))


_VALID = Q(excluded=False) & ~Q(channel=Channel.SYSTEM_DEFAULT)
_EXCLUDED = Q(excluded=True) & ~Q(channel=Channel.SYSTEM_DEFAULT)
# One SUM per part of a Tally (rules.Tally.add puts each counter in exactly one): the database adds the counters of
# each group, so a group costs one result row whatever the number of counter rows behind it.
_TALLY_SUMS = {  # aliases prefixed: an aggregate may not share a field's name
    **{f"s_level{lv}": Sum("count", filter=_VALID & Q(level=lv)) for lv in rules.LEVELS},
    "s_followups": Sum("count", filter=_VALID & Q(type=EvaluationType.FOLLOWUP)),
    "s_real_name": Sum("count", filter=_VALID & Q(is_real_name=True)),
    "s_excluded": Sum("count", filter=_EXCLUDED),
    "s_excluded_bad": Sum("count", filter=_EXCLUDED & Q(level__in=rules.BAD_LEVELS)),
    "s_system_default": Sum("count", filter=Q(channel=Channel.SYSTEM_DEFAULT)),
}


_WIDE_SUMS = {f"s_{c}": Sum(c) for c in WIDE_VALUES}
_WIDE_GROUPS = {None: RegionDayCounter, "region": RegionDayCounter, "department": RegionDayCounter,
                "day": RegionDayCounter, "month": RegionDayCounter,
                "agency": UnitDayCounter, "window": UnitDayCounter, "staff": UnitDayCounter}


def _wide_table(actor, filters: StatsFilter, group_by: str | None):
    """The smallest wide counter table that can answer (docs/metrics.md "汇总计数"), or None for the fine counters:
    a channel, item or platform (filter or group) and grouping by level or channel need DailyCounter."""
    if filters.channel or filters.items is not None or filters.platforms is not None or group_by not in _WIDE_GROUPS:
        return None
    table = _WIDE_GROUPS[group_by]
    if table is RegionDayCounter:
        visibility = visibility_for(actor)
        units = any(getattr(filters, a) is not None for a in ("agencies", "windows", "staff"))
        # Scoped by hall or staff member, or filtered by them: only UnitDayCounter has those columns.
        if units or not (visibility.everything or visibility.region_prefix):
            table = UnitDayCounter
    return table


def _tally(row: dict) -> rules.Tally:
    return rules.Tally(
        levels={lv: row[f"s_level{lv}"] or 0 for lv in rules.LEVELS}, followups=row["s_followups"] or 0,
        real_name=row["s_real_name"] or 0, excluded=row["s_excluded"] or 0,
        excluded_bad=row["s_excluded_bad"] or 0, system_default=row["s_system_default"] or 0,
    )


def _grouped(qs: QuerySet, column: str | None, month: bool, sums: dict) -> list[tuple[object, dict]]:
    """(group value, sums) per group, aggregated by the database: one aggregate without a column, else
    GROUP BY the column (its month for ``month``)."""
    if column is None:
        return [(None, qs.order_by().aggregate(**sums))]
    if month:
        qs, column = qs.annotate(g=TruncMonth(column)), "g"
    return [(row.pop(column), row) for row in qs.order_by().values(column).annotate(**sums)]


def _month_parts(table, filters: StatsFilter) -> list[tuple[object, StatsFilter]]:
    """(table, filters) pairs whose rows together are exactly ``table``'s rows under ``filters``: the whole months
    of the period from the month table (models.MONTHLY, one row per month and unit), the partial months at its
    edges from ``table`` itself (rollups.monthly.split)."""
    edges, months = monthly.split(filters.date_from, filters.date_to)
    parts = [(table, replace(filters, date_from=lo, date_to=hi)) for lo, hi in edges]
    if months is not None:
        parts.append((MONTHLY[table], replace(filters, date_from=months[0], date_to=months[1])))
    return parts


def _wide_grouped(table, actor, filters: StatsFilter, column: str | None, month: bool) -> list[tuple[object, dict]]:
    """:func:`_grouped` of the wide counters ``table`` under ``filters``, whole months read from the month rows
    (per-day groups from the day rows only). The sums of each group are added across the parts."""
    if column == "day" and not month:
        return _grouped(filters.counters(scope(table.objects.all(), actor)), column, month, _WIDE_SUMS)
    merged: dict = {}
    for model, part in _month_parts(table, filters):
        for value, sums in _grouped(part.counters(scope(model.objects.all(), actor)), column, month, _WIDE_SUMS):
            cell = merged.setdefault(value, dict.fromkeys(_WIDE_SUMS, 0))
            for name, n in sums.items():
                cell[name] += n or 0
    return list(merged.items())


def figures(actor, filters: StatsFilter, group_by: str | None = None) -> Stats:
    """评价数, 好评率, 差评率, 满意度, excluded and system-default evaluations, 参评率 — in total and per group."""
    _check_dimension(group_by)
    fold_region, base = _region_base(actor, filters) if group_by == "region" else (False, None)

    def fold(code):
        return rules.child_region(code, base) if fold_region else code

    column = _COUNTER_COLUMN.get(group_by)
    tallies: dict[object, rules.Tally] = defaultdict(rules.Tally)
    table = _wide_table(actor, filters, group_by)
    if table is not None:
        # One grouped aggregate over the wide counters answers both the evaluation figures and 参评率.
        completed: dict = defaultdict(int)
        rated: dict = defaultdict(int)
        for value, sums in _wide_grouped(table, actor, filters, column, group_by == "month"):
            key = _group_value(group_by, value, fold)
            tally = _tally(sums)
            if tally.total:
                tallies[key].merge(tally)
            if sums["s_completed"] or sums["s_rated"]:
                completed[key] += sums["s_completed"] or 0
                rated[key] += sums["s_rated"] or 0
    else:
        for value, sums in _grouped(counted(actor, filters), column, group_by == "month", _TALLY_SUMS):
            tally = _tally(sums)
            if tally.total:
                tallies[_group_value(group_by, value, fold)].merge(tally)
        completed, rated = _participation(actor, filters, group_by, fold)
    by_record = group_by is not None and _RECORD_COLUMN[group_by] is not None
    keys = set(tallies) | (set(completed) if by_record else set())
    labels = names.names_for(group_by, keys)
    total = Figures("", "合计", completed=sum(completed.values()), rated=sum(rated.values()))
    groups = []
    for k in keys:
        f = Figures(
            *labels.get(k, (str(k), str(k))), tally=tallies.get(k, rules.Tally()),
            completed=completed.get(k, 0) if by_record else None, rated=rated.get(k, 0) if by_record else None,
        )
        groups.append(f)
        total.tally.merge(f.tally)
    groups.sort(key=lambda f: (f.key == "", f.key))
    if group_by is None:
        groups = []
    return Stats(group_by, total, groups)


def _participation(actor, filters: StatsFilter, group_by: str | None, fold) -> tuple[dict, dict]:
    """Completed 办件 (by completion day) and, of those, the ones with an evaluation that is not an imported
    system default (through ``filters.channel`` when given) — per group when the group is a property of a 办件,
    else in one group "". Read from the 参评率 counters (DailyParticipation), summed by the database."""
    record_column = _RECORD_COLUMN.get(group_by) if group_by else None
    column = None if record_column is None else _COUNTER_COLUMN[group_by]
    qs = filters.participation(scope(DailyParticipation.objects.all(), actor))
    sums = {"s_completed": Sum("completed"), "s_rated": Sum("rated", filter=Q(channel=filters.channel or ""))}
    completed: dict = defaultdict(int)
    rated: dict = defaultdict(int)
    for value, row in _grouped(qs, column, group_by == "month", sums):
        if not (row["s_completed"] or row["s_rated"]):
            continue
        key = _group_value(group_by if column else None, value, fold)
        completed[key] += row["s_completed"] or 0
        rated[key] += row["s_rated"] or 0
    return completed, rated


# --- coverage -----------------------------------------------------------------------------------------------------


@dataclass
class Coverage:
    of: str  # agency | window | staff | item | platform
    active: int  # objects with completed 办件 in the period
    evaluated: int  # of those, objects with at least one evaluation (not a system default) in the period
    missing: list[tuple[str, str]]  # (key, name) of the active objects without any evaluation

    @property
    def rate(self) -> float | None:
        return rules.rate(self.evaluated, self.active)


def coverage(actor, filters: StatsFilter, of: str = "window") -> Coverage:
    """覆盖情况 (R1.3): which halls, windows, staff members, items or platforms had completed 办件 in the period but
    no evaluation at all. Both sets come from the rollups: the 参评率 counters (completed 办件 per completion day and
    unit) and the evaluation counters, O(groups)."""
    _check_dimension(of, COVERAGE_OF, "of")
    completed = filters.participation(scope(DailyParticipation.objects.all(), actor)).filter(channel="", completed__gt=0)
    active = set(completed.exclude(**{of: 0}).order_by().values_list(of, flat=True).distinct())
    evaluated = set(
        counted(actor, filters).exclude(channel=Channel.SYSTEM_DEFAULT).exclude(**{of: 0}).filter(count__gt=0)
        .order_by().values_list(of, flat=True).distinct()
    )
    missing_ids = sorted(active - evaluated)
    labels = names.names_for(of, missing_ids)
    missing = sorted((labels.get(i, (str(i), str(i))) for i in missing_ids), key=lambda kn: kn[0])
    return Coverage(of, len(active), len(active & evaluated), missing)


# --- rankings (R5.3) ----------------------------------------------------------------------------------------------


@dataclass
class RankingRow:
    key: str
    name: str
    good: int
    evaluations: int
    good_rate: float | None
    score: float | None = None  # Wilson lower bound (95 %) of the good rate
    rank: int | None = None


@dataclass
class Rankings:
    by: str
    min_sample: int
    ranked: list[RankingRow]
    apart: list[RankingRow]  # fewer valid evaluations than min_sample: listed, not ranked


def min_sample() -> int:
    return int(getattr(settings, "HAOCHAPING_RANKING_MIN_SAMPLE", rules.MIN_RANK_SAMPLE))


def rankings(actor, filters: StatsFilter, by: str = "department", sample: int | None = None) -> Rankings:
    """Units ranked by the Wilson lower bound of their 好评率; those below the minimum sample listed apart."""
    _check_dimension(by, UNIT_DIMENSIONS, "by")
    stats = figures(actor, filters, group_by=by)
    units = {g.key: g for g in stats.groups if g.key and g.tally.valid + g.tally.excluded + g.tally.system_default}
    sample = min_sample() if sample is None else sample
    ranked, apart = rules.rank((rules.RankInput(k, g.tally.good, g.tally.valid) for k, g in units.items()), sample)
    return Rankings(
        by, sample,
        [RankingRow(r.key, units[r.key].name, r.good, r.valid, rules.rate(r.good, r.valid), r.score, r.rank)
         for r in ranked],
        [RankingRow(u.key, units[u.key].name, u.good, u.valid, rules.rate(u.good, u.valid)) for u in apart],
    )


# --- the public (R5.5 公开) -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicViewer:
    """The public — nobody signed in — reading the published figures of one region's subtree (the whole country
    when ``region_code`` is None). Pass it as the ``actor`` of any function here: the disclosure portal gets the
    same numbers (同源发布) as a supervisor of that region would, without a user row.

    core.scoping asks it what it sees, and it answers like an administrator of that region: that region's
    subtree, or everything without one. Only hand it to the aggregate functions of this module (and
    :func:`public_cases`), never to a list of rows with personal data."""

    region_code: str | None = None

    def scope_visibility(self) -> Visibility:
        return Visibility(region_prefix=region_prefix(self.region_code)) if self.region_code else EVERYTHING


def public_cases(actor, filters: StatsFilter) -> QuerySet:
    """The cases :func:`case_figures` counts (caller's scope, filters, opened in the period), as a queryset, so a
    published list of cases is exactly the set behind the published case figures. Callers choose the columns."""
    from haochaping.rectification.models import RectificationCase

    return filters.cases(scope(RectificationCase.objects.all(), actor))


# --- the evaluations behind the figures, and their bad-review labels (dashboards) ---------------------------------


def evaluations(actor, filters: StatsFilter) -> QuerySet:
    """The caller's evaluations under ``filters`` — every part (valid, excluded, system default), counted on the day
    they were made — i.e. the rows the counters count, for the list a dashboard figure drills into."""
    columns = {"region": "region__pk"} | {d: f"{d}_id" for d in UNIT_DIMENSIONS if d != "region"}
    # Not widened: the unit a case was routed to sees that case's evaluation, but the figures (and so the list
    # behind them) count the unit's own evaluations only.
    qs = scope(Evaluation.objects.all(), actor, widened=False).filter(filters._units(columns))
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    return filters._moments(qs, "created_at")


@dataclass(frozen=True)
class LabelCount:
    code: str
    text: str
    count: int  # valid 差评 that chose this label (one 差评 may choose several)


def _mix(actor, filters: StatsFilter, kind: str) -> dict[str, int] | None:
    """Key → count of the RegionDayMix cells of ``kind`` ("channel" or "label") under ``filters`` (whole months
    from RegionMonthMix), when that table can answer — exactly when RegionDayCounter can answer the ungrouped
    figures (region-wide callers, no hall, window, staff, item, platform or channel filter) — else None."""
    if _wide_table(actor, filters, None) is not RegionDayCounter:
        return None
    counts: dict[str, int] = defaultdict(int)
    for model, part in _month_parts(RegionDayMix, filters):
        for key, n in part.counters(scope(model.objects.filter(kind=kind), actor)).order_by().values_list(
                "key").annotate(n=Sum("count")):
            counts[key] += n or 0
    return counts


def channel_counts(actor, filters: StatsFilter) -> list[LabelCount]:
    """Valid evaluations per channel under ``filters`` (channels without any left out): from RegionDayMix when it
    can answer, else from the fine counters. Equal to figures(actor, filters, group_by="channel")'s valid."""
    counts = _mix(actor, filters, "channel")
    if counts is None:
        counts = {g.key: g.tally.valid for g in figures(actor, filters, group_by="channel").groups}
    labels = names.names_for("channel", counts)
    return [LabelCount(k, labels[k][1], n) for k, n in counts.items() if n]


def bad_review_labels(actor, filters: StatsFilter, limit: int = 10) -> list[LabelCount]:
    """The labels chosen most often with valid 差评 (not excluded, not system default) under ``filters``, most
    first: the same 差评 as the ``bad`` figure. From RegionDayMix when it can answer (never reading the 差评), else
    one grouped query over the 差评 and their labels."""
    counts = _mix(actor, filters, "label")
    if counts is not None:
        rows = sorted(((k, n) for k, n in counts.items() if n > 0), key=lambda kn: (-kn[1], kn[0]))[:limit]
        texts = dict(Evaluation.labels.field.related_model.objects.filter(pk__in=[k for k, _n in rows])
                     .values_list("pk", "text"))
        return [LabelCount(k, texts.get(k, k), n) for k, n in rows]
    bad = evaluations(actor, filters).countable().filter(is_bad=True)
    through = Evaluation.labels.through
    rows = (through.objects.filter(evaluation__in=bad.values("pk")).values("label_id", "label__text")
            .annotate(n=Count("pk")).order_by("-n", "label_id")[:limit])
    return [LabelCount(r["label_id"], r["label__text"], r["n"]) for r in rows]


def bad_review_counts(actor, filters: StatsFilter, by: str) -> dict[object, int] | None:
    """Valid 差评 (the ``bad`` figure) per ``by`` ("department", "region": the unit's own region, not folded, or
    "item") under ``filters`` — from the counters, never reading the 差评 (issue 14): departments and regions from
    the wide counters (month rows for whole months), items from the fine counters. None when the caller's scope is
    not whole regions (the counters cannot tell what was routed to a unit), so the caller counts the 差评."""
    visibility = visibility_for(actor)
    if not (visibility.everything or visibility.region_prefix):
        return None
    bad = [f"s_level{lv}" for lv in sorted(rules.BAD_LEVELS)]
    if by == "item" or _wide_table(actor, filters, "department") is None:
        rows = (counted(actor, filters).filter(_VALID & Q(level__in=rules.BAD_LEVELS)).order_by()
                .values_list(_COUNTER_COLUMN[by]).annotate(n=Sum("count")))
        return {k: n for k, n in rows if n}
    table = _wide_table(actor, filters, "department")
    out = {}
    for value, sums in _wide_grouped(table, actor, filters, _COUNTER_COLUMN[by], False):
        n = sum(sums[name] or 0 for name in bad)
        if n:
            out[value] = n
    return out


def by_sector(stats: Stats) -> tuple[Stats, Stats]:
    """Figures grouped by department, split into government departments and public-service enterprises (§五: shown
    apart). Each part keeps the whole ``total`` (the parts are for tables and :func:`rankings_of`, which read the
    groups only)."""
    _check_dimension(stats.group_by, ("department",), "group_by")
    enterprises = set(names.sector_departments(names.ENTERPRISE).filter(
        credit_code__in=[g.key for g in stats.groups if g.key]).values_list("credit_code", flat=True))
    return (Stats(stats.group_by, stats.total, [g for g in stats.groups if g.key not in enterprises]),
            Stats(stats.group_by, stats.total, [g for g in stats.groups if g.key in enterprises]))


def rankings_of(stats: Stats, sample: int | None = None) -> Rankings:
    """The same as :func:`rankings` for figures already computed with ``figures(actor, filters, group_by=by)``:
    a report shows a dimension's figures and its ranking, and needs the figures' query only once. Must stay equal
    to :func:`rankings` (tests/insight/test_reports.py compares them)."""
    _check_dimension(stats.group_by, UNIT_DIMENSIONS, "by")
    units = {g.key: g for g in stats.groups if g.key and g.tally.valid + g.tally.excluded + g.tally.system_default}
    sample = min_sample() if sample is None else sample
    ranked, apart = rules.rank((rules.RankInput(k, g.tally.good, g.tally.valid) for k, g in units.items()), sample)
    return Rankings(
        stats.group_by, sample,
        [RankingRow(r.key, units[r.key].name, r.good, r.valid, rules.rate(r.good, r.valid), r.score, r.rank)
         for r in ranked],
        [RankingRow(u.key, units[u.key].name, u.good, u.valid, rules.rate(u.good, u.valid)) for u in apart],
    )


