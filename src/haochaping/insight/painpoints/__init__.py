"""Pain points (R5.1): the recurring problems in bad reviews, per item and unit, with examples and trend.

Two views of the same bad reviews (``Evaluation.objects.countable().filter(is_bad=True)`` in the actor's scope
and the period):

- problems: each comment's kind from the taxonomy (:mod:`.taxonomy`), assigned with a confidence by the worker
  (:mod:`.classify`, stored in :class:`.models.PainPointAssignment`); comments that fit no kind are grouped into
  emerging topics (:mod:`.topics`, named by jieba key phrases), only when a topic has ``MIN_EMERGING`` reviews;
- labels: counts of each bad-review label per item and per unit, which works when nobody wrote a comment.

The analysis (:func:`analyse`) is pure and deterministic: the same reviews, in any order, give the same result.
Only comments are read — never the evaluator's name or phone — and examples have contact details redacted.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from haochaping.core.scoping import scope, visibility_for

from . import taxonomy, text, topics
from .taxonomy import NEUTRAL_LEVEL

TOP_UNITS = 3  # items/units named per topic or label
MIN_EMERGING = 5  # reviews an emerging topic needs (no topics from tiny samples)
NEUTRAL_MIN_CONFIDENCE = 0.5  # a neutral review counts beside a problem only when its comment clearly is one
TOP_GROUPS = 15  # rows of the per-item and per-unit label tables
MAX_REVIEWS = 100_000  # newest bad reviews analysed at once; the page says when there were more
CACHE_SECONDS = 300
LABEL_CHUNK = 5000  # ids per label query (SQLite allows 32,766 parameters)


@dataclass(frozen=True)
class Review:
    """One bad review as the analysis sees it: no evaluator, only what was said and about what."""

    id: int
    comment: str
    labels: tuple[str, ...]
    item_id: int
    department_id: int
    month: str  # "2026-03", local time
    kind: str | None = ""  # pain-point kind code; "" unclassified; None not classified yet (the worker has not run)
    confidence: float = 0.0


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    def months(self) -> list[str]:
        out, year, month = [], self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    @classmethod
    def last_months(cls, n: int = 6, today: date | None = None) -> Period:
        """The current month and the ``n - 1`` before it."""
        today = today or timezone.localdate()
        year, month = today.year, today.month - (n - 1)
        while month < 1:
            year, month = year - 1, month + 12
        return cls(date(year, month, 1), today)

    def label(self) -> str:
        return f"{self.start.isoformat()}至{self.end.isoformat()}"


@dataclass(frozen=True)
class Named:
    key: object
    name: str
    count: int


@dataclass(frozen=True)
class MonthCount:
    month: str
    count: int


@dataclass(frozen=True)
class Names:
    items: dict[int, str] = field(default_factory=dict)
    units: dict[int, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Topic:
    number: int  # 1-based, largest first
    terms: tuple[str, ...]
    labels: tuple[Named, ...]
    size: int
    share: float  # of all the period's bad reviews (PainPoints.reviews)
    items: tuple[Named, ...]
    units: tuple[Named, ...]
    examples: tuple[str, ...]
    trend: tuple[MonthCount, ...]
    code: str = ""  # the kind's code; "" for an emerging topic
    title: str = ""  # the kind's name
    confidence: float = 0.0  # mean confidence of the assignments
    ids: tuple[int, ...] = ()  # the evaluations assigned to it
    neutral_ids: tuple[int, ...] = ()  # 基本满意 reviews whose comment reports the same problem (not in ``size``)
    neutral: int = 0  # how many (the page shows this; a snapshot read for the page leaves the ids out)

    @property
    def emerging(self) -> bool:
        return not self.code

    @property
    def suggested_code(self) -> str:
        """A code to start from when promoting an emerging topic (the supervisor may change it)."""
        return f"new-{self.number}"

    @property
    def name(self) -> str:
        return self.title or "、".join(self.terms[:3])

    @property
    def percent(self) -> str:
        return f"{self.share * 100:.1f}%"

    def summary(self, period: Period) -> str:
        """A starting text for the 集中问题 a supervisor may open from this topic (no comment is quoted)."""
        labels = "、".join(n.name for n in self.labels[:2])
        text_ = _("差评集中反映“%(terms)s”问题") % {"terms": self.title or "、".join(self.terms[:4])}
        if labels:
            text_ += _("（常选标签：%(labels)s）") % {"labels": labels}
        return text_ + _("，%(period)s共%(n)d条差评，请牵头整改。") % {"period": period.label(), "n": self.size}


@dataclass(frozen=True)
class LabelRow:
    code: str
    text: str
    count: int
    share: float  # of the bad reviews analysed
    trend: tuple[MonthCount, ...]
    items: tuple[Named, ...]
    units: tuple[Named, ...]

    @property
    def percent(self) -> str:
        return f"{self.share * 100:.1f}%"


@dataclass(frozen=True)
class GroupRow:
    """An item or a unit: its bad reviews and the labels chosen most."""

    key: int
    name: str
    count: int
    labels: tuple[Named, ...]
    trend: tuple[MonthCount, ...]


@dataclass(frozen=True)
class PainPoints:
    period: Period
    months: tuple[str, ...]
    reviews: int  # bad reviews analysed
    commented: int  # of which with a comment the analysis could use
    unlabelled: int  # of which without any label
    topics: tuple[Topic, ...]
    labels: tuple[LabelRow, ...]
    items: tuple[GroupRow, ...]
    units: tuple[GroupRow, ...]
    trend: tuple[MonthCount, ...]
    truncated: bool = False
    pending: int = 0  # bad reviews with a comment the worker has not classified yet
    unclassified: int = 0  # classified reviews that fit no kind

    @property
    def kinds(self) -> tuple[Topic, ...]:
        return tuple(t for t in self.topics if not t.emerging)

    @property
    def emerging(self) -> tuple[Topic, ...]:
        return tuple(t for t in self.topics if t.emerging)

    @property
    def trend_max(self) -> int:
        return max((m.count for m in self.trend), default=0)

    @property
    def topic_max(self) -> int:
        return max((m.count for t in self.topics for m in t.trend), default=0)


# --- the analysis (pure) -------------------------------------------------------------------------------------


def _top(counter: Counter, names: dict, n: int = TOP_UNITS) -> tuple[Named, ...]:
    # Ties broken by key, so equal counts always come out in the same order.
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return tuple(Named(key, names.get(key, str(key)), count) for key, count in ranked[:n])


def _trend(counter: Counter, months: list[str]) -> tuple[MonthCount, ...]:
    return tuple(MonthCount(m, counter.get(m, 0)) for m in months)


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def analyse(reviews: Iterable[Review], period: Period, names: Names | None = None, *, truncated: bool = False,
            kind_names: dict[str, str] | None = None) -> PainPoints:
    """Problems, emerging topics and label counts of ``reviews`` (bad reviews of ``period``)."""
    names = names or Names()
    kind_names = kind_names if kind_names is not None else taxonomy.names()
    reviews = sorted(reviews, key=lambda r: r.id)
    months = period.months()
    by_kind: dict[str, list[Review]] = defaultdict(list)
    unclassified: dict[str, list[Review]] = defaultdict(list)
    pending = 0
    for r in reviews:
        comment = " ".join((r.comment or "").split())
        if not comment:
            continue
        if r.kind is None:
            pending += 1
        elif r.kind in kind_names:
            by_kind[r.kind].append(r)
        else:
            unclassified[comment].append(r)
    rows = []
    for code, members in by_kind.items():
        best = sorted(members, key=lambda r: (-r.confidence, r.id))
        examples = tuple(dict.fromkeys(text.redact(" ".join(r.comment.split())) for r in best))[:topics.EXAMPLES]
        rows.append(_topic(members, (), names, len(reviews), months, examples, code=code, title=kind_names[code],
                           confidence=sum(r.confidence for r in members) / len(members)))
    rows.sort(key=lambda t: (-t.size, t.code))
    emerging = []
    for cl in topics.find(unclassified.keys(), {c: len(rs) for c, rs in unclassified.items()}, min_size=MIN_EMERGING):
        members = [r for c in cl.comments for r in unclassified[c]]
        if len(members) >= MIN_EMERGING and cl.terms:
            emerging.append(_topic(members, cl.terms, names, len(reviews), months,
                                   tuple(text.redact(c) for c in cl.examples)))
    emerging.sort(key=lambda t: (-t.size, t.terms))
    numbered = tuple(replace(t, number=i) for i, t in enumerate([*rows, *emerging], start=1))
    return PainPoints(
        period=period, months=tuple(months), reviews=len(reviews),
        commented=sum(len(v) for v in by_kind.values()) + sum(len(v) for v in unclassified.values()),
        unlabelled=sum(1 for r in reviews if not r.labels), topics=numbered,
        labels=_label_rows(reviews, months, names), items=_group_rows(reviews, "item_id", names.items, names, months),
        units=_group_rows(reviews, "department_id", names.units, names, months),
        trend=_trend(Counter(r.month for r in reviews), months), truncated=truncated, pending=pending,
        unclassified=sum(len(v) for v in unclassified.values()),
    )


def _topic(members: list[Review], terms: tuple[str, ...], names: Names, total: int, months: list[str],
           examples: tuple[str, ...], **kind) -> Topic:
    return Topic(
        number=0, terms=terms, labels=_top(Counter(code for r in members for code in r.labels), names.labels),
        size=len(members), share=_share(len(members), total),
        items=_top(Counter(r.item_id for r in members), names.items),
        units=_top(Counter(r.department_id for r in members), names.units),
        examples=examples, trend=_trend(Counter(r.month for r in members), months),
        ids=tuple(sorted(r.id for r in members)), **kind,
    )


def _label_rows(reviews: list[Review], months: list[str], names: Names) -> tuple[LabelRow, ...]:
    counts: Counter = Counter()
    per_month: dict[str, Counter] = defaultdict(Counter)
    per_item: dict[str, Counter] = defaultdict(Counter)
    per_unit: dict[str, Counter] = defaultdict(Counter)
    for r in reviews:
        for code in set(r.labels):
            counts[code] += 1
            per_month[code][r.month] += 1
            per_item[code][r.item_id] += 1
            per_unit[code][r.department_id] += 1
    rows = []
    for code, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        rows.append(LabelRow(
            code=code, text=names.labels.get(code, code), count=count, share=_share(count, len(reviews)),
            trend=_trend(per_month[code], months), items=_top(per_item[code], names.items),
            units=_top(per_unit[code], names.units),
        ))
    return tuple(rows)


def _group_rows(reviews: list[Review], attr: str, group_names: dict, names: Names, months: list[str]) -> tuple[GroupRow, ...]:
    counts: Counter = Counter()
    labels: dict[int, Counter] = defaultdict(Counter)
    per_month: dict[int, Counter] = defaultdict(Counter)
    for r in reviews:
        key = getattr(r, attr)
        counts[key] += 1
        labels[key].update(set(r.labels))
        per_month[key][r.month] += 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_GROUPS]
    return tuple(
        GroupRow(key, group_names.get(key, str(key)), n, _top(labels[key], names.labels), _trend(per_month[key], months))
        for key, n in ranked
    )


# --- loading from the database -------------------------------------------------------------------------------


def bad_reviews_queryset(actor, period: Period, *, item_id=None, department_id=None, region_code=None, filters=None,
                         neutral: bool = False):
    """The countable bad reviews ``actor`` may see in ``period`` (and of one item / unit / region, if given;
    ``filters``: an insight StatsFilter of the API's codes). ``neutral``: the 基本满意 reviews instead."""
    from haochaping.evaluation.models import Evaluation

    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(period.start, time.min), tz)
    end = timezone.make_aware(datetime.combine(period.end + timedelta(days=1), time.min), tz)
    which = {"level": NEUTRAL_LEVEL} if neutral else {"is_bad": True}
    qs = scope(Evaluation.objects.countable().filter(**which, created_at__gte=start, created_at__lt=end), actor)
    if item_id:
        qs = qs.filter(item_id=item_id)
    if department_id:
        qs = qs.filter(department_id=department_id)
    if region_code:
        from haochaping.org.rules import region_prefix

        qs = qs.filter(region__code__startswith=region_prefix(region_code))
    if filters is not None:
        qs = qs.filter(filters._units({"region": "region__code", "department": "department_id", "agency": "agency_id",
                                       "window": "window_id", "staff": "staff_id", "item": "item_id",
                                       "platform": "platform_id"}))
    return qs


def load_reviews(qs, limit: int = MAX_REVIEWS) -> tuple[list[Review], Names, bool]:
    """The newest ``limit`` reviews of ``qs`` with their labels, and the names of their items, units and labels.
    Reads the comment and the targets only: personal data is never loaded."""
    from haochaping.catalog.models import ServiceItem
    from haochaping.evaluation.models import Evaluation, Label
    from haochaping.org.models import Department

    from .kinds import current_version, promoted_kinds
    from .models import PainPointAssignment

    version = current_version(promoted_kinds())
    rows = list(qs.order_by("-created_at", "-pk").values_list(
        "pk", "comment", "item_id", "department_id", "created_at")[:limit + 1])
    truncated = len(rows) > limit
    rows = rows[:limit]
    # The labels and the assignments of the loaded reviews only, by their ids in chunks: joining the label table with
    # qs itself made PostgreSQL loop over every label row of the period at 10^7 evaluations (issue 14), and the
    # planner's estimate of qs (one row, after the anti-join with the exclusions) must not pick a join for them.
    ids = [r[0] for r in rows]
    labels: dict[int, list[str]] = defaultdict(list)
    assigned: dict[int, tuple[str, float]] = {}
    through = Evaluation.labels.through.objects
    for start in range(0, len(ids), LABEL_CHUNK):
        chunk = ids[start:start + LABEL_CHUNK]
        for evaluation_id, code in through.filter(evaluation_id__in=chunk).values_list("evaluation_id", "label_id"):
            labels[evaluation_id].append(code)
        for evaluation_id, kind, confidence in PainPointAssignment.objects.filter(
                evaluation_id__in=chunk, version=version).values_list("evaluation_id", "kind", "confidence"):
            assigned[evaluation_id] = (kind, confidence or 0.0)
    tz = timezone.get_current_timezone()
    reviews = [
        Review(pk, comment, tuple(sorted(labels.get(pk, ()))), item_id, dept_id, created_at.astimezone(tz).strftime("%Y-%m"),
               *assigned.get(pk, (None, 0.0)))
        for pk, comment, item_id, dept_id, created_at in rows
    ]
    names = Names(
        items=dict(ServiceItem.objects.filter(pk__in={r.item_id for r in reviews}).values_list("pk", "name")),
        units=dict(Department.objects.filter(pk__in={r.department_id for r in reviews}).values_list("pk", "name")),
        labels=dict(Label.objects.values_list("code", "text")),
    )
    return reviews, names, truncated


def pain_points(actor, period: Period, *, item_id=None, department_id=None, region_code=None, filters=None) -> PainPoints:
    """The pain points ``actor`` may see. Cached for a few minutes per scope and filter; any new, excluded or
    newly classified bad review changes the key (:func:`fingerprint`)."""
    qs = bad_reviews_queryset(actor, period, item_id=item_id, department_id=department_id, region_code=region_code,
                              filters=filters)
    neutral_qs = _neutral(bad_reviews_queryset(actor, period, item_id=item_id, department_id=department_id,
                                               region_code=region_code, filters=filters, neutral=True))
    v = visibility_for(actor)
    raw = repr((v.everything, v.region_prefix, v.department_id, v.agency_id, v.staff_id, period, item_id,
                department_id, region_code, filters,
                fingerprint(actor, period, qs, item_id=item_id, department_id=department_id,
                            narrowed=bool(region_code or filters)),
                topics.VERSION))
    key = "insight:painpoints:" + hashlib.sha256(raw.encode()).hexdigest()
    result = cache.get(key)
    if result is None:
        result = _analysis(qs, neutral_qs, period)
        cache.set(key, result, CACHE_SECONDS)
    return result


def analysis(actor, period: Period) -> PainPoints:
    """The pain points of everything ``actor`` may see in ``period``, computed now (no cache): what the worker
    stores as a snapshot (:mod:`.snapshots`) and what :func:`pain_points` gives without filters."""
    return _analysis(bad_reviews_queryset(actor, period), _neutral(bad_reviews_queryset(actor, period, neutral=True)),
                     period)


def _neutral(qs):
    return qs.filter(pain_point__confidence__gte=NEUTRAL_MIN_CONFIDENCE).exclude(pain_point__kind="").exclude(comment="")


def _analysis(qs, neutral_qs, period: Period) -> PainPoints:
    from .kinds import promoted_kinds

    reviews, names, truncated = load_reviews(qs)
    extra = promoted_kinds()
    result = analyse(reviews, period, names, truncated=truncated, kind_names=taxonomy.names(extra))
    return _with_neutral(result, neutral_qs, services_version(extra))


def fingerprint(actor, period: Period, qs, *, item_id=None, department_id=None, narrowed: bool = False) -> tuple:
    """What changes whenever a bad review of ``qs`` is written, excluded or (re)classified. For callers who see whole
    regions, from the counters (issue 14: no request reads the 差评 to find out): (valid 差评, excluded 差评) of the
    period — a new 差评 raises the first, an exclusion moves one to the second, and neither is ever undone. Others
    (their scope may include evaluations routed to them, which the counters count elsewhere) and filters the counters
    do not have: count and last id of qs. Either way the newest classification anywhere (one indexed read), since
    the worker classifies after the write and a promoted kind reclassifies everything."""
    from .. import metrics
    from .models import PainPointAssignment

    classified = PainPointAssignment.objects.aggregate(last=Max("assigned_at"))["last"]
    v = visibility_for(actor)
    if (v.everything or v.region_prefix) and not narrowed:
        flt = metrics.StatsFilter(
            date_from=period.start, date_to=period.end, items=frozenset({int(item_id)}) if item_id else None,
            departments=frozenset({int(department_id)}) if department_id else None)
        tally = metrics.figures(actor, flt).total.tally
        return ("counters", tally.bad, tally.excluded_bad, classified)
    found = qs.aggregate(n=Count("pk"), last=Max("pk"))
    return ("rows", found["n"], found["last"], classified)


def services_version(extra) -> str:
    from .kinds import current_version

    return current_version(extra)


def _with_neutral(result: PainPoints, neutral_qs, version: str) -> PainPoints:
    """``result`` with, beside each problem, the 基本满意 reviews whose comment reports it (not counted in it)."""
    per_kind: dict[str, list[int]] = defaultdict(list)
    rows = neutral_qs.filter(pain_point__version=version).order_by("pk").values_list("pk", "pain_point__kind")
    for pk, kind in rows[:MAX_REVIEWS]:
        per_kind[kind].append(pk)
    if not per_kind:
        return result
    topics_ = tuple(replace(t, neutral_ids=tuple(per_kind.get(t.code, ())), neutral=len(per_kind.get(t.code, ())))
                    if t.code else t for t in result.topics)
    return replace(result, topics=topics_)

