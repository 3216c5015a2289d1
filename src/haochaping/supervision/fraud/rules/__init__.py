"""The fraud detectors, pure: each takes plain rows (``Ev``, loaded by fraud.services) and returns ``Signal``s,
with its threshold as a constant here. docs/fraud-detection.md states each rule and why its threshold is where
it is. A signal is a lead for a supervisor, never a decision: nothing is excluded until a supervisor confirms.

Phones, addresses and devices appear only as HMAC-SM3 blind indexes; a signal's evidence carries counts, times
and ids, never a blind index, a phone or comment text beyond a short excerpt of a template.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from hashlib import sha256

from .base import *  # noqa: F403 - one entry point: rules.Pattern, rules.BURST_MIN, rules.Ev …
from .base import (
    BURST_MIN,
    BURST_MINUTES,
    CLOSED_GRACE_MINUTES,
    CLOSED_MIN,
    DEFAULT_CLOSES,
    DEFAULT_OPENS,
    OWN_ADDRESS_MIN,
    OWN_ADDRESS_SHARE,
    OWN_DEVICE_MIN,
    PHONE_MIN_RECORDS,
    PHONE_MIN_SPREAD,
    PHONE_MIN_TOP_SHARE,
    RETALIATION_MIN_ADVERSE,
    RETALIATION_P,
    STAFF_PHONE_MIN,
    TOP,
    Ev,
    Pattern,
    Signal,
    _ids,
    _span,
    _target,
    unit_key,
)

# The statistical detectors (5. templates, 6. outliers) are in rules/statistical.py; one entry point here.
from .statistical import clusters, jaccard, normalise, outliers, templates, trigrams  # noqa: F401
from .stats import binomial_sf

# ---- 1. bursts of top ratings at one window or kiosk -----------------------------------------------------

def runs(times: list[datetime], minimum: int, span: timedelta) -> list[tuple[int, int]]:
    """(start index, size) of greedy runs in sorted ``times``: a run takes every time within ``span`` of its
    first; one of ``minimum`` or more is a burst and the scan goes on after it, else the scan moves one on."""
    out, i, j, n = [], 0, 0, len(times)
    while i < n:
        j = max(j, i)
        while j + 1 < n and times[j + 1] - times[i] <= span:
            j += 1
        if j - i + 1 >= minimum:
            out.append((i, j - i + 1))
            i = j + 1
        else:
            i += 1
    return out


def bursts(evs: Iterable[Ev], minimum: int = BURST_MIN, minutes: int = BURST_MINUTES) -> list[Signal]:
    """Windows (a kiosk is bound to one) where ``minimum`` or more top ratings fall within ``minutes``."""
    by_window: dict[int, list[Ev]] = defaultdict(list)
    for e in evs:
        if e.level == TOP and e.window_id:
            by_window[e.window_id].append(e)
    signals = []
    for window, rows in by_window.items():
        rows.sort(key=lambda e: (e.at, e.id))
        found = runs([e.at for e in rows], minimum, timedelta(minutes=minutes))
        if not found:
            continue
        hit = [e for start, size in found for e in rows[start:start + size]]
        largest = max(size for _s, size in found)
        kiosks = sorted({e.source.split(":", 1)[1] for e in hit if e.source.startswith("kiosk:")})
        signals.append(Signal(
            Pattern.BURST, f"window:{window}", _target(hit[0], staff=False), _ids(hit), largest, minimum,
            f"{len(found)}次在{minutes}分钟内出现{minimum}条及以上非常满意，单次最多{largest}条",
            {**_span(hit), "bursts": len(found), "largest": largest, "kiosks": kiosks},
        ))
    return signals


# ---- 2. one phone rating many 办件 across windows or days --------------------------------------------------

def phone_many(evs: Iterable[Ev], min_records: int = PHONE_MIN_RECORDS, min_top: float = PHONE_MIN_TOP_SHARE,
               min_spread: int = PHONE_MIN_SPREAD) -> list[Signal]:
    """One phone (blind index) that rated ``min_records`` or more distinct 办件, mostly top, across at least
    ``min_spread`` windows/units or days. Named after the unit it rated most."""
    by_phone: dict[str, list[Ev]] = defaultdict(list)
    for e in evs:
        if e.phone_index:
            by_phone[e.phone_index].append(e)
    signals = []
    for phone, rows in by_phone.items():
        records = {e.record_id for e in rows}
        if len(records) < min_records:
            continue
        top = sum(1 for e in rows if e.level == TOP) / len(rows)
        places = {(e.window_id,) + unit_key(e) for e in rows}
        days = {e.local.date() for e in rows}
        if top < min_top or max(len(places), len(days)) < min_spread:
            continue
        main = Counter(unit_key(e) for e in rows).most_common(1)[0][0]
        anchor = next(e for e in rows if unit_key(e) == main)
        not_own = sum(1 for e in rows if e.applicant_phone_index and e.applicant_phone_index != phone)
        signals.append(Signal(
            # The subject de-duplicates runs; a digest of the blind index, so not even that is stored in it.
            Pattern.PHONE_MANY, f"phone:{sha256(phone.encode()).hexdigest()[:24]}", _target(anchor, window=False, staff=False), _ids(rows),
            len(records), min_records,
            f"同一手机号（盲索引）评价了{len(records)}件办件，非常满意占{top:.0%}，涉及{len(places)}个窗口/单位、"
            f"{len(days)}天；其中{not_own}件的申请人手机号与评价人不同",
            {**_span(rows), "records": len(records), "places": len(places), "days": len(days),
             "top_share": round(top, 3), "not_applicant": not_own},
        ))
    return signals


# ---- 3. evaluator phones that are staff's own --------------------------------------------------------------

@dataclass(frozen=True)
class Insider:
    """An insider (staff member or unit user) as the detectors compare with: whose work counts as theirs."""

    staff_id: int | None
    department_id: int | None
    agency_id: int | None

    def owns(self, ev: Ev) -> bool:
        """The evaluation rates this insider's own work or their own unit's."""
        if self.staff_id is not None and ev.staff_id == self.staff_id:
            return True
        if self.agency_id is not None and self.agency_id == ev.agency_id:
            return self.department_id is None or self.department_id == ev.department_id
        return self.department_id is not None and self.agency_id is None and self.department_id == ev.department_id


def staff_phones(evs: Iterable[Ev], phones: dict[str, list[Insider]], minimum: int = STAFF_PHONE_MIN) -> list[Signal]:
    """Evaluations of a unit's work from the phone of a staff member of that unit (their own blind index)."""
    hits: dict[tuple, list[Ev]] = defaultdict(list)
    for e in evs:
        for insider in phones.get(e.phone_index, ()) if e.phone_index else ():
            if insider.owns(e):
                hits[(insider.staff_id, unit_key(e))].append(e)
                break
    signals = []
    for (staff, _unit), rows in hits.items():
        if len(rows) < minimum:
            continue
        signals.append(Signal(
            Pattern.STAFF_PHONE, f"staff-phone:{staff}@{rows[0].department_id}:{rows[0].agency_id}",
            _target(rows[0], window=False, staff=False), _ids(rows), len(rows), minimum,
            f"{len(rows)}条评价的评价人手机号是本单位工作人员本人登记的手机号（按盲索引比对）",
            {**_span(rows), "staff_id": staff},
        ))
    return signals


# ---- 4. evaluations from the staff member's own device or address ------------------------------------------

def own_client(evs: Iterable[Ev], devices: dict[str, list[Insider]], addresses: dict[str, list[Insider]],
               device_min: int = OWN_DEVICE_MIN, address_min: int = OWN_ADDRESS_MIN,
               address_share: float = OWN_ADDRESS_SHARE) -> list[Signal]:
    """Evaluations submitted from a device (cookie) an insider of the rated unit signed in on, or — many and
    making up most of that address's evaluations — from the address the rated staff member signs in from."""
    evs = list(evs)
    by_unit: dict[tuple, list[tuple[Ev, str]]] = defaultdict(list)
    for e in evs:
        if e.device_index and any(i.owns(e) for i in devices.get(e.device_index, ())):
            by_unit[unit_key(e)].append((e, "device"))
    per_address = Counter(e.address_index for e in evs if e.address_index)
    own_address: dict[tuple[str, int], list[Ev]] = defaultdict(list)
    for e in evs:
        if e.address_index and e.staff_id and any(i.staff_id == e.staff_id for i in addresses.get(e.address_index, ())):
            own_address[(e.address_index, e.staff_id)].append(e)
    for (address, _staff), rows in own_address.items():
        if len(rows) >= address_min and len(rows) / per_address[address] >= address_share:
            by_unit[unit_key(rows[0])] += [(e, "address") for e in rows]
    signals = []
    for unit, pairs in by_unit.items():
        device_rows = [e for e, how in pairs if how == "device"]
        address_rows = [e for e, how in pairs if how == "address"]
        if len(device_rows) < device_min and not address_rows:
            continue
        rows = [e for e, _how in pairs]
        signals.append(Signal(
            Pattern.OWN_CLIENT, f"own-client:{unit[0]}:{unit[1]}", _target(rows[0], window=False, staff=False),
            _ids(rows), len({e.id for e in rows}), device_min,
            f"{len({e.id for e in device_rows})}条评价来自本单位工作人员登录过的设备，"
            f"{len({e.id for e in address_rows})}条来自被评工作人员本人的登录地址",
            {**_span(rows), "device": len({e.id for e in device_rows}), "address": len({e.id for e in address_rows})},
        ))
    return signals


# ---- 7. kiosk ratings at hours the hall is closed -----------------------------------------------------------

@dataclass(frozen=True)
class Hours:
    opens: time = DEFAULT_OPENS
    closes: time = DEFAULT_CLOSES
    open_on_rest_days: bool = False


def is_open(local: datetime, hours: Hours, workday: bool, grace: int = CLOSED_GRACE_MINUTES) -> bool:
    """Whether the hall is open at ``local`` (naive local time), closing time plus ``grace`` minutes included."""
    if not workday and not hours.open_on_rest_days:
        return False
    closes = (datetime.combine(local.date(), hours.closes) + timedelta(minutes=grace)).time()
    if closes < hours.closes:  # the grace ran past midnight
        return local.time() >= hours.opens
    return hours.opens <= local.time() <= closes


def closed_hours(evs: Iterable[Ev], hours: dict[int, Hours], is_workday: Callable[[date, str], bool],
                 minimum: int = CLOSED_MIN, grace: int = CLOSED_GRACE_MINUTES) -> list[Signal]:
    """Windows whose 评价器 rated ``minimum`` or more times while the hall was closed."""
    by_window: dict[int, list[Ev]] = defaultdict(list)
    for e in evs:
        if e.channel != "kiosk" or not e.window_id:
            continue
        h = hours.get(e.agency_id, Hours()) if e.agency_id else Hours()
        if not is_open(e.local, h, is_workday(e.local.date(), e.region_id), grace):
            by_window[e.window_id].append(e)
    signals = []
    for window, rows in by_window.items():
        if len(rows) < minimum:
            continue
        signals.append(Signal(
            Pattern.CLOSED_HOURS, f"closed:{window}", _target(rows[0], staff=False), _ids(rows), len(rows), minimum,
            f"评价器在大厅闭厅时段提交了{len(rows)}条评价（首条{min(e.local for e in rows):%Y-%m-%d %H:%M}）",
            {**_span(rows), "local_times": sorted(e.local.strftime("%Y-%m-%d %H:%M") for e in rows)[:20]},
        ))
    return signals


# ---- 9. retaliation after a real-name 差评 ----------------------------------------------------------------

@dataclass(frozen=True)
class LaterRecord:
    """A 办件 accepted after the 差评, at the same department, by anyone."""

    id: int
    phone_index: str
    department_id: int
    item_id: int
    accepted_at: datetime
    adverse: bool  # refused, returned or overdue (what the records app knows: overdue)


def retaliation(bad: Iterable[Ev], later: Iterable[LaterRecord], min_adverse: int = RETALIATION_MIN_ADVERSE,
                p_max: float = RETALIATION_P) -> list[Signal]:
    """After a real-name 差评 (a phone given), that evaluator's later 办件 at the same department went badly
    ``min_adverse`` or more times, improbably often at the rate of the department's other 办件 of the same items
    accepted in the same time (binomial tail below ``p_max``; rate add-one smoothed)."""
    later = list(later)
    base: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for r in later:
        cell = base[(r.department_id, r.item_id)]
        cell[0] += r.adverse
        cell[1] += 1
    mine: dict[tuple[str, int], list[LaterRecord]] = defaultdict(list)
    for r in later:
        if r.phone_index:
            mine[(r.phone_index, r.department_id)].append(r)
    signals = []
    seen: set[tuple[str, int]] = set()
    for e in sorted(bad, key=lambda e: e.at):
        key = (e.phone_index, e.department_id)
        if not e.is_bad or not e.phone_index or key in seen:
            continue
        own = [r for r in mine.get(key, ()) if r.accepted_at > e.at]
        k = sum(r.adverse for r in own)
        if k < min_adverse:
            continue
        # The comparison: everyone else's 办件 of the same items at the department (the evaluator's own left out).
        own_cells: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
        for r in mine.get(key, ()):
            own_cells[(r.department_id, r.item_id)][0] += r.adverse
            own_cells[(r.department_id, r.item_id)][1] += 1
        rates = []
        for r in own:
            cell = (r.department_id, r.item_id)
            adverse, n = base[cell][0] - own_cells[cell][0], base[cell][1] - own_cells[cell][1]
            rates.append((adverse + 1) / (n + 2))
        p = sum(rates) / len(rates)
        tail = binomial_sf(k, len(own), p)
        if tail >= p_max:
            continue
        seen.add(key)
        signals.append(Signal(
            Pattern.RETALIATION, f"retaliation:{e.id}", _target(e, window=False), (e.id,), tail, p_max,
            f"实名差评后，该评价人在本部门又办理{len(own)}件，其中{k}件超期或未获受理，"
            f"同期同事项办件的比例为{p:.1%}（二项分布尾概率{tail:.1e}，阈值{p_max:.0e}）",
            {"first": e.at.isoformat(), "last": max(r.accepted_at for r in own).isoformat(), "later_records": len(own),
             "adverse": k, "comparable_rate": round(p, 4), "tail": tail, "record_ids": [r.id for r in own]},
        ))
    return signals
