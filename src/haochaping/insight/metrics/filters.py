"""What to count: the dimensions and :class:`StatsFilter`, shared by insight.metrics and insight.metrics.cases
(and the rollups' day boundaries), so neither of those has to import the other for them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from haochaping.core.problems import invalid
from haochaping.evaluation.models import Channel
from haochaping.org.rules import region_prefix

from . import names

DIMENSIONS = ("region", "department", "agency", "window", "staff", "item", "platform", "channel", "day", "month", "level")
UNIT_DIMENSIONS = ("region", "department", "agency", "window", "staff", "item", "platform")
COVERAGE_OF = ("agency", "window", "staff", "item", "platform")

# Where each dimension lives on a counter and on a 办件 (None: a 办件 has no channel or level).
_COUNTER_COLUMN = {d: d for d in DIMENSIONS} | {"month": "day"}
_RECORD_COLUMN = {
    "region": "region_id", "department": "department_id", "agency": "agency_id", "window": "window_id",
    "staff": "staff_id", "item": "item_id", "platform": "platform_id", "day": "completed_day",
    "month": "completed_day", "channel": None, "level": None,
}



@dataclass(frozen=True)
class StatsFilter:
    """What to count, besides the scope. A set of ids narrows to those units; an empty set matches nothing (a
    code that does not exist, or lies outside the scope, gives empty figures, exactly like a list would)."""

    region_prefix: str | None = None
    region_code: str | None = None
    departments: frozenset[int] | None = None
    agencies: frozenset[int] | None = None
    windows: frozenset[int] | None = None
    staff: frozenset[int] | None = None
    items: frozenset[int] | None = None
    platforms: frozenset[int] | None = None
    channel: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def from_codes(cls, *, region_code=None, department=None, agency=None, window=None, staff_no=None, item=None,
                   platform=None, channel=None, date_from=None, date_to=None, sector=None) -> StatsFilter:
        """Filters given by the codes people and systems use (统一社会信用代码, 机构编码, 窗口编号, 工号, 实施编码, 平台编码);
        ``sector`` narrows to government departments or public-service enterprises (names.sector_departments)."""
        if date_from and date_to and date_from > date_to:
            raise invalid("起始日期不能晚于截止日期", "from")
        if channel is not None and channel not in Channel.values:
            raise invalid("未知的评价渠道", "channel")
        ids = names.ids_for_codes(department=department, agency=agency, window=window, staff_no=staff_no, item=item,
                                  platform=platform, sector=sector)
        return cls(
            region_prefix=region_prefix(region_code) if region_code else None, region_code=region_code or None,
            channel=channel, date_from=date_from, date_to=date_to, **ids,
        )

    def _units(self, columns: dict[str, str]) -> Q:
        q = Q()
        if self.region_prefix:
            q &= Q(**{f"{columns['region']}__startswith": self.region_prefix})
        for attr, dim in (("departments", "department"), ("agencies", "agency"), ("windows", "window"),
                          ("staff", "staff"), ("items", "item"), ("platforms", "platform")):
            ids = getattr(self, attr)
            if ids is not None:
                q &= Q(**{f"{columns[dim]}__in": ids})
        return q

    def counters(self, qs: QuerySet) -> QuerySet:
        """The counter rows (a counter table's queryset) under these filters."""
        qs = qs.filter(self._units({d: d for d in UNIT_DIMENSIONS}))
        if self.channel:
            qs = qs.filter(channel=self.channel)
        return qs.in_days(self.date_from, self.date_to)

    def participation(self, qs: QuerySet) -> QuerySet:
        """The 参评率 counters under these filters: with a channel, its rows (rated) and the "" rows (completed)."""
        qs = qs.filter(self._units({d: d for d in UNIT_DIMENSIONS}))
        if self.channel:
            qs = qs.filter(channel__in=("", self.channel))
        return qs.in_days(self.date_from, self.date_to)

    def _moments(self, qs: QuerySet, column: str) -> QuerySet:
        if self.date_from:
            qs = qs.filter(**{f"{column}__gte": day_start(self.date_from)})
        if self.date_to:
            qs = qs.filter(**{f"{column}__lt": day_start(self.date_to + timedelta(days=1))})
        return qs

    def records(self, qs: QuerySet) -> QuerySet:
        columns = {"region": "region__pk"} | {d: f"{d}_id" for d in UNIT_DIMENSIONS if d != "region"}
        return self._moments(qs.filter(self._units(columns)), "completed_at")

    def cases(self, qs: QuerySet) -> QuerySet:
        columns = {"region": "region__pk", "department": "department_id", "agency": "agency_id",
                   "platform": "platform_id", "window": "evaluation__window_id", "staff": "evaluation__staff_id",
                   "item": "evaluation__item_id"}
        qs = qs.filter(self._units(columns))
        if self.channel:
            qs = qs.filter(evaluation__channel=self.channel)
        return self._moments(qs, "opened_at")


def day_start(day: date) -> datetime:
    """The first moment of ``day`` in the current time zone (where a day's counting starts)."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())
