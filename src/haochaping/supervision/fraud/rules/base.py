"""What every fraud detector shares: the patterns, the thresholds, the rows the detectors read (``Ev``) and the
signals they return. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time

from django.db.models.enums import TextChoices
from django.utils.translation import gettext_lazy as _


class Pattern(TextChoices):
    BURST = "burst", _("短时集中好评")
    PHONE_MANY = "phone_many", _("同一手机号评价多件办件")
    STAFF_PHONE = "staff_phone", _("评价人手机号为工作人员本人")
    OWN_CLIENT = "own_client", _("工作人员本人终端提交评价")
    TEMPLATE = "template", _("雷同评价内容")
    OUTLIER = "outlier", _("非常满意占比异常偏高")
    CLOSED_HOURS = "closed_hours", _("闭厅时段评价器评价")
    RETALIATION = "retaliation", _("实名差评后打击报复")


# Confirming these excludes the evaluations (弄虚作假). A confirmed retaliation finding puts the unit on the
# accountability list but excludes nothing: the 差评 it rests on was genuine.
EXCLUDING = frozenset(set(Pattern.values) - {Pattern.RETALIATION})

TOP = 5  # 非常满意/很好
LOOKBACK_DAYS = 30  # the period each scheduled run reads …
OUTLIER_LOOKBACK_DAYS = 180  # … except the outlier test, which needs a sample per unit and item

BURST_MIN = 5  # top ratings at one window (or one kiosk) …
BURST_MINUTES = 10  # … within this many minutes (a window serves one applicant at a time)
PHONE_MIN_RECORDS = 5  # distinct 办件 rated by one phone in the period …
PHONE_MIN_TOP_SHARE = 0.8  # … mostly with top ratings …
PHONE_MIN_SPREAD = 2  # … across at least this many windows/units or days
STAFF_PHONE_MIN = 1  # evaluations of their own unit from a staff member's own phone
OWN_DEVICE_MIN = 1  # evaluations of their own work from a device an insider of the unit signed in on
OWN_ADDRESS_MIN = 3  # evaluations of a staff member's work from the address they sign in from …
OWN_ADDRESS_SHARE = 0.5  # … that are at least half of that address's evaluations (a shared hall Wi-Fi is not)
TEMPLATE_MIN = 4  # near-identical comments at one unit …
TEMPLATE_MIN_CHARS = 8  # … of at least this many characters once normalised …
TEMPLATE_SIMILARITY = 0.6  # … (Jaccard of character trigrams to the cluster's first comment) …
TEMPLATE_P = 1e-6  # … far more often than the province's use of the same words predicts (binomial tail)
OUTLIER_MIN_N = 30  # countable evaluations of the item at a unit to be tested …
OUTLIER_MIN_PEERS = 3  # … against at least this many other units doing the same item …
OUTLIER_P = 1e-3  # … one-sided beta-binomial tail of its 非常满意 count …
OUTLIER_MIN_EXCESS = 0.05  # … and a share at least this much above its peers'
CLOSED_GRACE_MINUTES = 30  # a kiosk may still rate the last applicant this long after closing …
CLOSED_MIN = 2  # … ratings outside the hours at one window
DEFAULT_OPENS, DEFAULT_CLOSES = time(8, 30), time(18, 0)  # a hall without its own hours (HallHours)
RETALIATION_MIN_ADVERSE = 2  # later 办件 of the evaluator at the unit that went badly …
RETALIATION_P = 1e-3  # … more often than comparable 办件 (binomial tail at their rate)


@dataclass(frozen=True)
class Ev:
    """One evaluation as the detectors see it."""

    id: int
    at: datetime  # aware
    local: datetime  # naive, the hall's local time
    level: int
    channel: str
    region_id: str
    department_id: int
    agency_id: int | None = None
    window_id: int | None = None
    staff_id: int | None = None
    item_id: int | None = None
    record_id: int | None = None
    item_code: str = ""  # the item's 基本编码: the same item as each region implements it
    phone_index: str = ""
    applicant_phone_index: str = ""  # of the rated 办件
    comment: str = ""
    address_index: str = ""
    device_index: str = ""
    source: str = ""
    is_bad: bool = False


@dataclass(frozen=True)
class Target:
    """The unit a finding names (copied onto the finding)."""

    region_id: str
    department_id: int
    agency_id: int | None = None
    window_id: int | None = None
    staff_id: int | None = None
    item_id: int | None = None


@dataclass(frozen=True)
class Signal:
    pattern: str
    subject: str
    target: Target
    evaluation_ids: tuple[int, ...]
    statistic: float
    threshold: float
    summary: str
    evidence: dict = field(default_factory=dict)


def unit_key(ev: Ev) -> tuple[int, int | None]:
    """The handling unit: the department, in the hall where it serves (谁办理、谁负责)."""
    return (ev.department_id, ev.agency_id)


def _target(ev: Ev, *, window: bool = True, staff: bool = True, item: bool = False) -> Target:
    return Target(ev.region_id, ev.department_id, ev.agency_id, ev.window_id if window else None,
                  ev.staff_id if staff else None, ev.item_id if item else None)


def _span(evs: list[Ev]) -> dict:
    return {"first": min(e.at for e in evs).isoformat(), "last": max(e.at for e in evs).isoformat(),
            "evaluations": len(evs)}


def _ids(evs: Iterable[Ev]) -> tuple[int, ...]:
    return tuple(sorted({e.id for e in evs}))
