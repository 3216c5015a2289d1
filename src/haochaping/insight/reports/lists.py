"""The report's lists (R5.2): 表扬 (commendation), 问责 (accountability) and 疑似刷好评 (suspected manufactured good
reviews). Commendation and accountability read the rankings and figures of insight.metrics; the suspicion signs
(reports.suspicion) read valid 五星 reviews — their window, staff member, time and evaluator blind index only,
never a name or a phone — in the same scope and period.

The thresholds are stated here and in docs/metrics.md "统计报告"; each row says why it is on the list.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import Count
from django.utils import timezone

from haochaping.core.scoping import scope
from haochaping.evaluation.models import Evaluation

from .. import metrics
from ..metrics import names
from . import suspicion
from .sections import INT, RATE, TEXT, Column, Section

COMMEND_TOP = 10  # at most this many units (and staff members) of each kind are commended …
COMMEND_MIN_SCORE = 0.85  # … ranked, and 95 % sure their 好评率 is at least 85 % (Wilson lower bound)
ACCOUNT_MIN_BAD = 3  # 差评 in the period that put a unit or staff member on the accountability list …
ACCOUNT_BOTTOM_SHARE = 0.1  # … as does ranking in the last 10 % (at least the last one) …
ACCOUNT_MIN_RANKED = 5  # … when at least this many were ranked …
ACCOUNT_MIN_COMPLAINTS = 2  # … or complaints (投诉) opened in the period about the unit or staff member (R5.4)

_KIND_NAMES = {"department": "部门", "window": "窗口", "staff": "工作人员", "agency": "政务服务机构"}


def _cols(*spec):
    return [Column(title, kind) for title, kind in spec]


def commendation(rankings: dict[str, metrics.Rankings], accountable: frozenset = frozenset()) -> list[list]:
    """(类别, 编码, 名称, 排名, 有效评价数, 好评率, 置信下限, 理由) of the best-ranked units and staff members, but
    none on the accountability list (``accountable``: its rows' (类别, 编码)): a busy unit can rank high and still
    have three 差评, and one report cannot publish it as both."""
    rows = []
    for dim, r in rankings.items():
        chosen = [row for row in r.ranked if row.rank <= COMMEND_TOP and row.score >= COMMEND_MIN_SCORE
                  and (_KIND_NAMES[dim], row.key) not in accountable]
        rows += [[_KIND_NAMES[dim], row.key, row.name, row.rank, row.evaluations, row.good_rate, row.score,
                  f"排名第{row.rank}（共{len(r.ranked)}个参与排名），好评率置信下限不低于{COMMEND_MIN_SCORE:.0%}"]
                 for row in chosen]
    return rows


def accountability(rankings: dict[str, metrics.Rankings], figures: dict[str, metrics.Stats],
                   complaints: dict[str, dict[str, tuple[str, int]]] | None = None,
                   fraud: dict[str, dict[str, tuple[str, int]]] | None = None) -> list[list]:
    """(类别, 编码, 名称, 差评数, 有效评价数, 差评率, 排名, 投诉数, 理由) of the units and staff members with at least
    ACCOUNT_MIN_BAD 差评 or ACCOUNT_MIN_COMPLAINTS 投诉 in the period, or ranked in the bottom ACCOUNT_BOTTOM_SHARE.
    ``figures`` holds, per dimension of ``rankings``, ``metrics.figures(…, group_by=dimension)`` of the same scope
    and period; ``complaints`` the matching ``metrics.complaint_counts``; ``fraud`` the matching
    ``metrics.fraud_counts`` (findings of 弄虚作假 a supervisor confirmed: one is enough)."""
    rows = []
    for dim, r in rankings.items():
        groups = {g.key: g for g in figures[dim].groups if g.key}
        complained = (complaints or {}).get(dim, {})
        falsified = (fraud or {}).get(dim, {})
        bottom: dict[str, int] = {}
        if len(r.ranked) >= ACCOUNT_MIN_RANKED:
            last = max(1, round(len(r.ranked) * ACCOUNT_BOTTOM_SHARE))
            cut = r.ranked[-last].rank
            bottom = {row.key: row.rank for row in r.ranked if row.rank >= cut}
        ranks = {row.key: row.rank for row in r.ranked}
        dim_rows = []
        for key in set(groups) | set(complained) | set(falsified):
            g = groups.get(key)
            bad = g.tally.bad if g else 0
            name, complaint_count = complained.get(key, (g.name if g else key, 0))
            reasons = []
            if bad >= ACCOUNT_MIN_BAD:
                reasons.append(f"期间内差评{bad}条（不少于{ACCOUNT_MIN_BAD}条）")
            if complaint_count >= ACCOUNT_MIN_COMPLAINTS:
                reasons.append(f"期间内被投诉{complaint_count}件（不少于{ACCOUNT_MIN_COMPLAINTS}件）")
            if key in falsified:
                reasons.append(f"经核查确认弄虚作假{falsified[key][1]}起（刷好评、代评或打击报复）")
                name = name if g or key in complained else falsified[key][0]
            if key in bottom:
                reasons.append(f"排名第{bottom[key]}，位于末位{ACCOUNT_BOTTOM_SHARE:.0%}（共{len(r.ranked)}个参与排名）")
            if reasons:
                dim_rows.append([_KIND_NAMES[dim], key, g.name if g else name, bad, g.tally.valid if g else 0,
                                 g.tally.bad_rate if g else None, ranks.get(key), complaint_count, "；".join(reasons)])
        rows += sorted(dim_rows, key=lambda row: (-row[3], -row[7], row[1]))
    return rows


def _five_star(actor, filters: metrics.StatsFilter):
    """Valid 五星 reviews of the scope and period (the same evaluations the figures count as 非常满意)."""
    tz = timezone.get_current_timezone()
    qs = scope(Evaluation.objects.countable().filter(level=5), actor)
    if filters.date_from:
        qs = qs.filter(created_at__gte=timezone.make_aware(datetime.combine(filters.date_from, time.min), tz))
    if filters.date_to:
        qs = qs.filter(created_at__lt=timezone.make_aware(datetime.combine(filters.date_to + timedelta(days=1), time.min), tz))
    if filters.region_prefix:
        qs = qs.filter(region__pk__startswith=filters.region_prefix)
    if filters.departments is not None:
        qs = qs.filter(department_id__in=filters.departments)
    return qs.order_by()


def suspected(actor, filters: metrics.StatsFilter) -> list[list]:
    """(线索, 类别, 编码, 名称, 涉及评价数, 涉及评价人数, 集中时段数, 说明) from the heuristics in reports.suspicion."""
    qs = _five_star(actor, filters)
    rows = []
    for dim in ("window", "staff"):
        counts = (qs.exclude(evaluator_phone_index="").filter(**{f"{dim}__isnull": False})
                  .values_list(dim, "evaluator_phone_index").annotate(n=Count("pk"))
                  .filter(n__gte=suspicion.REPEAT_MIN))
        signs = suspicion.repeat_signs(counts)
        labels = names.names_for(dim, [s.target for s in signs])
        for s in signs:
            key, name = labels.get(s.target, (str(s.target), str(s.target)))
            rows.append(["同一评价人反复好评", _KIND_NAMES[dim], key, name, s.reviews, s.evaluators, None,
                         f"{s.evaluators}位评价人（按手机号盲索引区分）各给出{suspicion.REPEAT_MIN}条及以上五星好评，"
                         f"共{s.reviews}条，最多一人{s.most}条"])
    times = qs.filter(window__isnull=False).values_list("window", "created_at").iterator(chunk_size=5000)
    signs = suspicion.burst_signs(times)
    labels = names.names_for("window", [s.target for s in signs])
    tz = timezone.get_current_timezone()
    for s in signs:
        key, name = labels.get(s.target, (str(s.target), str(s.target)))
        first = s.first_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        rows.append(["短时集中好评", "窗口", key, name, s.reviews, None, s.bursts,
                     f"{s.bursts}次在{suspicion.BURST_MINUTES}分钟内出现{suspicion.BURST_MIN}条及以上五星好评，"
                     f"单次最多{s.largest}条，首次始于{first}"])
    return rows


def sections(actor, filters: metrics.StatsFilter, rankings: dict[str, metrics.Rankings],
             figures: dict[str, metrics.Stats]) -> list:
    complaints = {dim: metrics.complaint_counts(actor, filters, dim) for dim in rankings}
    fraud = {dim: metrics.fraud_counts(actor, filters, dim) for dim in rankings}
    accountable = accountability(rankings, figures, complaints, fraud)
    return [
        Section("表扬名单", "表扬名单（满意度高的单位和工作人员）",
                _cols(("类别", TEXT), ("编码", TEXT), ("名称", TEXT), ("排名", INT), ("有效评价数", INT),
                      ("好评率", RATE), ("好评率置信下限", RATE), ("理由", TEXT)),
                commendation(rankings, frozenset((row[0], row[1]) for row in accountable)),
                note=f"参与排名且排名前{COMMEND_TOP}、好评率置信下限不低于{COMMEND_MIN_SCORE:.0%}的单位和工作人员；"
                     "列入本报告问责名单的不列入表扬名单。"),
        Section("问责名单", "问责名单（差评、投诉集中的单位和工作人员）",
                _cols(("类别", TEXT), ("编码", TEXT), ("名称", TEXT), ("差评数", INT), ("有效评价数", INT),
                      ("差评率", RATE), ("排名", INT), ("投诉数", INT), ("理由", TEXT)),
                accountable,
                note=f"期间内差评不少于{ACCOUNT_MIN_BAD}条、被投诉不少于{ACCOUNT_MIN_COMPLAINTS}件，或参与排名的不少于"
                     f"{ACCOUNT_MIN_RANKED}个时排名位于末位{ACCOUNT_BOTTOM_SHARE:.0%}的单位和工作人员，以及期间内经核查确认"
                     "弄虚作假的单位和工作人员。"),
        Section("疑似刷好评", "疑似刷好评线索",
                _cols(("线索", TEXT), ("类别", TEXT), ("编码", TEXT), ("名称", TEXT), ("涉及评价数", INT),
                      ("涉及评价人数", INT), ("集中时段数", INT), ("说明", TEXT)),
                suspected(actor, filters),
                note="线索供核查，不是结论。同一评价人反复好评：同一手机号（以盲索引区分，不显示号码）期间内对同一窗口或"
                     f"工作人员给出{suspicion.REPEAT_MIN}条及以上五星好评；短时集中好评：同一窗口{suspicion.BURST_MINUTES}"
                     f"分钟内出现{suspicion.BURST_MIN}条及以上五星好评。"),
    ]
