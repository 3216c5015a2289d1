"""Builds the demo data set (``haochaping demo``).

What it builds: the real regions 山东省 370000 → 济南市 370100 / 青岛市 370200 → five of their districts, a
management agency per region, departments, halls, stations, windows, staff and platforms (all named …（演示）),
265 service items with a published 办事指南 each, and a year of 办件 with their evaluations.

Deterministic: one fixed seed drives everything, and every time is relative to the *anchor*, the start of
today in Asia/Shanghai. The same command on the same day therefore writes the same content (办件编号,
receipt codes, idempotency keys, levels, labels, comments, times, personal data) into any database.
Not part of that content: row ids, the timestamps Django sets on insert (published_at of guides, audit
times) and the SM4-GCM ciphertexts, whose nonces are random by design; the clear text behind them and the
blind indexes are identical. 办件 created_at/updated_at are their push and last-change times, so they are
content too. On another day the twelve-month window moves with the anchor. Receipt codes derived from a
public seed are guessable: fine for a demo, never for real data.

Speed: 办件 and evaluations go in through one prepared INSERT run with ``executemany`` (:class:`Inserter`);
values still pass through each field's database conversion, so PersonalDataField SM4-encrypts personal
data as on ``save()``. The demo rows are written in one transaction (after the regions and the calendar,
which their own services load), so a failed run leaves no demo rows behind and the next run starts over.
Evaluations are written exactly as ``evaluation.services.submit_evaluation`` writes them (same derived
fields, same canonical bytes for the leaf hash) and checked with the same rules.
"""

from __future__ import annotations

import bisect
import itertools
import random
import time as clock
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.db import transaction

from haochaping.catalog.models import ServiceItem
from haochaping.catalog.services import publish_guide
from haochaping.core import calendar, crypto
from haochaping.core.bulk import Inserter
from haochaping.core.models import CalendarDay, CalendarYear
from haochaping.evaluation import rules as ev_rules
from haochaping.evaluation.models import Channel, Evaluation, EvaluationType, Label
from haochaping.evaluation.services import RECEIPT_ALPHABET, EvaluationInput, canonical_bytes
from haochaping.evaluation.services import request_hash as evaluation_request_hash
from haochaping.org import policy
from haochaping.org.models import (
    Department,
    ManagementAgency,
    Platform,
    Region,
    RegionPolicy,
    ServiceAgency,
    Staff,
    Window,
)
from haochaping.org.rules import make_credit_code, region_level
from haochaping.records.models import RecordStatus, RecordType, ServiceRecord, Stage
from haochaping.records.services import RecordInput
from haochaping.records.services import payload_hash as record_payload_hash

from . import data

SEED = 20190051  # 国办发〔2019〕51号
SOURCE = "演示数据"
MARKER_PLATFORM = "DEMO-370000-PC"  # its presence means the demo data is loaded
DEFAULT_RECORDS = 100_000
DAYS = 365
CHUNK = 5000
SHANGHAI = ZoneInfo("Asia/Shanghai")

# How 办件 are handled, from Guangdong's July 2023 evaluation mix (web 5.74 M, hall 5.13 M, app 2.50 M,
# hotline 0.27 M, kiosk/self-service 0.08 M of 13.88 M): hall records are rated at the window (评价器,
# 二维码, paper) or later by phone (12345 callback) or SMS link.
MODES = ("hall", "pc", "mobile", "terminal")
MODE_WEIGHTS_WORKDAY = (40, 41, 18, 1)
MODE_WEIGHTS_RESTDAY = (0, 66, 33, 1)  # halls are closed; online services are not
HALL_CHANNELS = (Channel.KIOSK, Channel.QR, Channel.PAPER, Channel.PHONE, Channel.SMS)
HALL_CHANNEL_WEIGHTS = (55, 33, 4, 5, 3)
ONLINE_CHANNEL = {"pc": Channel.PC, "mobile": Channel.MOBILE, "terminal": Channel.TERMINAL}
ON_SITE = frozenset({Channel.KIOSK, Channel.QR, Channel.PAPER, Channel.TERMINAL})
LATER = frozenset({Channel.PHONE, Channel.SMS})  # always after the day of service (补充评价)
# Share of evaluators who give their phone (实名); the rest are anonymous.
REAL_NAME_SHARE = {Channel.PC: 0.15, Channel.MOBILE: 0.30, Channel.KIOSK: 0.04, Channel.QR: 0.06,
                   Channel.PAPER: 0.10, Channel.TERMINAL: 0.05}

P_EVALUATE_COMPLETE = {"hall": 0.86, "pc": 0.80, "mobile": 0.82, "terminal": 0.75}
P_EVALUATE_ACCEPT = 0.18
P_OVERDUE = 0.04
P_EXPLAINED = 0.8
# Base probability of a 差评 (levels 1–2); late records are rated far worse.
P_BAD = {"hall": 0.012, "online": 0.015, "accept": 0.006, "late": 0.30}
P_FOLLOWUP = {True: 0.35, False: 0.01}  # after a bad / another active evaluation
# A live system always has fresh 差评 in hand. A small demo (the tests load 6,000 records) would otherwise have
# none in the last fortnight on some dates, so its workbench would show no open, answered or reopened case:
# the 差评 share of the last FRESH_DAYS is raised to give about FRESH_BAD of them. At the default size the
# base rates already give more, and nothing changes.
FRESH_DAYS = 14
FRESH_BAD = 8


@dataclass
class Summary:
    regions: int = 0
    departments: int = 0
    agencies: int = 0
    windows: int = 0
    staff: int = 0
    platforms: int = 0
    items: int = 0
    guides: int = 0
    records: int = 0
    status: Counter = field(default_factory=Counter)
    overdue: int = 0
    evaluations: int = 0
    followups: int = 0
    bad: int = 0
    real_name: int = 0
    supplementary: int = 0
    channels: Counter = field(default_factory=Counter)
    evaluated_completed: int = 0
    seconds: float = 0.0
    start: date | None = None
    end: date | None = None

    @property
    def completed(self) -> int:
        return self.status[RecordStatus.COMPLETED]

    @property
    def participation_rate(self) -> float:
        return self.evaluated_completed / self.completed if self.completed else 0.0

    @property
    def bad_rate(self) -> float:
        return self.bad / self.evaluations if self.evaluations else 0.0


def is_loaded() -> bool:
    """Whether ``haochaping demo`` has already run against this database."""
    return Platform.objects.filter(code=MARKER_PLATFORM).exists()


# ---- reference data: regions and the holiday calendar --------------------------------------------------

def load_reference_data(today: date) -> None:
    """Regions (GB/T 2260) and the working-day calendar, through the apps' own loaders when they exist."""
    try:
        from haochaping.org.services import load_regions
    except ImportError:  # FALLBACK until org.services.load_regions exists: only the demo regions below
        load_regions = None
    if load_regions is not None:
        load_regions()
    _ensure_demo_regions()

    from haochaping.core import services as core_services

    # The calendar helper's service; the name it ships under has varied, so take either.
    seed_calendar = getattr(core_services, "seed_calendar", None) or getattr(core_services, "seed_national_calendar", None)
    if seed_calendar is not None:
        seed_calendar()
    else:
        _seed_calendar_fallback({today.year - 1, today.year})
    calendar.invalidate()


def _ensure_demo_regions() -> None:
    rows = [(*data.PROVINCE, None)] + [(c, n, data.PROVINCE[0]) for c, n in data.CITIES] + list(data.COUNTIES)
    for code, name, parent in rows:
        Region.objects.get_or_create(code=code, defaults={"name": name, "level": region_level(code), "parent_id": parent})


def _seed_calendar_fallback(years: set[int]) -> None:
    """National holidays and 调休 workdays from chinese-calendar, only where they differ from Mon–Fri."""
    from chinese_calendar import constants

    known_years = {d.year for d in constants.holidays} | {d.year for d in constants.workdays}
    days = [
        CalendarDay(region_code="", date=d, is_workday=False, name=str(n), source=CalendarDay.Source.SEED)
        for d, n in constants.holidays.items() if d.year in years and d.weekday() < 5
    ] + [
        CalendarDay(region_code="", date=d, is_workday=True, name=str(n), source=CalendarDay.Source.SEED)
        for d, n in constants.workdays.items() if d.year in years and d.weekday() >= 5
    ]
    CalendarDay.objects.bulk_create(days, ignore_conflicts=True)
    CalendarYear.objects.bulk_create(
        [CalendarYear(year=y, source=CalendarDay.Source.SEED) for y in sorted(years & known_years)], ignore_conflicts=True
    )


# ---- small deterministic helpers -----------------------------------------------------------------------

class Fake:
    """Generated (never real) names, phones and ID numbers from the demo's random stream."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def person(self) -> str:
        r = self.rng
        given = r.choice(data.GIVEN_CHARS) + (r.choice(data.GIVEN_CHARS) if r.random() < 0.7 else "")
        return r.choice(data.SURNAMES) + given

    def company(self, city: str) -> str:
        r = self.rng
        return f"{city[:-1]}{r.choice(data.COMPANY_BRANDS)}{r.choice(data.COMPANY_TRADES)}有限公司"

    def phone(self) -> str:
        return self.rng.choice(data.PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def id_number(self) -> str:
        r = self.rng
        born = date(1950, 1, 1) + timedelta(days=r.randrange(20000))
        body = f"{r.choice(data.ID_REGIONS)}{born:%Y%m%d}{r.randrange(1000):03d}"
        # GB 11643 check character (ISO 7064 MOD 11-2).
        total = sum(int(c) * (2 ** (17 - i) % 11) for i, c in enumerate(body))
        return body + "10X98765432"[total % 11]

    def org_code(self) -> str:
        """A 9-character organisation code (GB 11714) with its check character."""
        digits = f"{self.rng.randrange(10**7, 10**8)}"
        total = sum(int(c) * w for c, w in zip(digits, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
        check = 11 - total % 11
        return digits + {10: "X", 11: "0"}.get(check, str(check))


def receipt_codes(rng: random.Random):
    """Unique 12-character receipt codes (60 bits from the seed's stream, in the receipt alphabet)."""
    seen: set[str] = set()
    while True:
        n = rng.getrandbits(60)
        code = "".join(RECEIPT_ALPHABET[(n >> (5 * i)) & 31] for i in range(12))
        if code not in seen:
            seen.add(code)
            yield code


def at(day: date, seconds: float) -> datetime:
    """A moment on ``day`` in Shanghai, ``seconds`` after midnight (whole seconds)."""
    return datetime.combine(day, time(), SHANGHAI) + timedelta(seconds=int(seconds))


def local_day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def end_of(day: date) -> datetime:
    return at(day, 86399)


class WorkingDays:
    """Memoised calls to the one calendar service (core.calendar), per region."""

    def __init__(self):
        self._memo: dict[tuple, date] = {}

    def add(self, start: date, n: int, region: str) -> date:
        key = (start, n, region)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = calendar.add_working_days(start, n, region)
        return found


# ---- organisation and catalog ------------------------------------------------------------------------

@dataclass
class ItemInfo:
    item: ServiceItem
    spec: data.ItemSpec
    dept: Department
    dept_key: str
    region: str
    city: str  # the city whose hall / terminals serve it ("" for province items)
    scope: str  # county / city / province


@dataclass
class Org:
    depts: dict[tuple[str, str], Department] = field(default_factory=dict)  # (region, key)
    centers: dict[str, ServiceAgency] = field(default_factory=dict)  # county or city → center / hall
    stations: dict[str, list[ServiceAgency]] = field(default_factory=dict)
    windows: dict[int, dict[str | None, list[Window]]] = field(default_factory=dict)  # agency id → dept key → windows
    staff: dict[int, list[Staff]] = field(default_factory=dict)  # window id → staff
    platforms: dict[str, Platform] = field(default_factory=dict)  # code → platform
    items: list[ItemInfo] = field(default_factory=list)


def _region_names() -> dict[str, str]:
    names = {data.PROVINCE[0]: data.PROVINCE[1]}
    names.update(dict(data.CITIES))
    names.update({c: n for c, n, _p in data.COUNTIES})
    return names


def build_org(rng: random.Random, summary: Summary) -> Org:
    fake = Fake(rng)
    org = Org()
    names = _region_names()
    credit_codes: set[str] = set()

    def credit(category: str, region: str) -> str:
        while True:
            code = make_credit_code(f"{category}{region}{fake.org_code()}")
            if code not in credit_codes and not Department.objects.filter(credit_code=code).exists():
                credit_codes.add(code)
                return code

    for code, name in names.items():
        ManagementAgency.objects.get_or_create(
            region_id=code, defaults={"name": f"{name}政务服务管理办公室{data.DEMO}", "credit_code": credit("11", code)}
        )
    RegionPolicy.objects.get_or_create(region_id=data.PROVINCE[0], defaults={"supplementary_days": 5})

    city_of = {c: p for c, _n, p in data.COUNTIES}
    levels = [(data.PROVINCE[0], data.PROVINCE_DEPARTMENTS)] + [(c, data.CITY_DEPARTMENTS) for c, _n in data.CITIES]
    levels += [(c, data.COUNTY_DEPARTMENTS) for c, _n, _p in data.COUNTIES]
    depts = []
    for region, specs in levels:
        city = city_of.get(region, region)
        fmt = {"province": data.PROVINCE[1], "city": names.get(city, ""), "county": names[region]}
        for spec in specs:
            dept = Department(credit_code=credit(spec.category, region), name=spec.template.format(**fmt) + data.DEMO,
                              region_id=region, is_vertical=spec.is_vertical)
            depts.append(dept)
            org.depts[(region, spec.key)] = dept
    Department.objects.bulk_create(depts)
    summary.departments = len(depts)

    # Halls: a 政务服务中心 per county, a 政务服务大厅 per city, two 便民服务站点 per county.
    agencies: list[tuple[ServiceAgency, tuple[data.WindowSpec, ...], str]] = []
    for county, cname, _city in data.COUNTIES:
        center = ServiceAgency(code=f"DEMO-{county}-ZX", name=f"{cname}政务服务中心{data.DEMO}", kind="center",
                               region_id=county, address=data.CENTER_ADDRESSES[county])
        org.centers[county] = center
        agencies.append((center, data.CENTER_WINDOWS, county))
        org.stations[county] = []
        for n, street in enumerate(data.STREETS[county], 1):
            station = ServiceAgency(code=f"DEMO-{county}-ZD{n}", name=f"{cname}{street}便民服务中心{data.DEMO}",
                                    kind="station", region_id=county, address=f"{names[city_of[county]]}{cname}{street}（演示地址）")
            org.stations[county].append(station)
            agencies.append((station, data.STATION_WINDOWS, county))
    for city, cname in data.CITIES:
        hall = ServiceAgency(code=f"DEMO-{city}-DT", name=f"{cname}政务服务大厅{data.DEMO}", kind="hall",
                             region_id=city, address=data.CENTER_ADDRESSES[city])
        org.centers[city] = hall
        agencies.append((hall, data.CITY_HALL_WINDOWS, city))
    ServiceAgency.objects.bulk_create([a for a, _w, _r in agencies])
    summary.agencies = len(agencies)

    windows: list[tuple[Window, data.WindowSpec, ServiceAgency, str]] = []
    for agency, specs, region in agencies:
        org.windows[agency.pk] = {}
        for spec in specs:
            dept = org.depts.get((region, spec.dept)) if spec.dept else None
            w = Window(agency=agency, code=spec.code, name=spec.name + data.DEMO, department=dept)
            windows.append((w, spec, agency, region))
            org.windows[agency.pk].setdefault(spec.dept, []).append(w)
    Window.objects.bulk_create([w for w, _s, _a, _r in windows])
    summary.windows = len(windows)

    staff = []
    seq = itertools.count(1)
    for w, spec, agency, region in windows:
        org.staff[w.pk] = []
        for _ in range(spec.staff):
            s = Staff(staff_no=f"YS{region}{next(seq):04d}", name=fake.person() + data.DEMO, agency=agency,
                      department=w.department, window=w)
            staff.append(s)
            org.staff[w.pk].append(s)
    Staff.objects.bulk_create(staff)
    summary.staff = len(staff)

    platforms = []
    for spec in data.PROVINCE_PLATFORMS:
        platforms.append(Platform(code=f"DEMO-{data.PROVINCE[0]}-{spec.suffix}", name=spec.name + data.DEMO, kind=spec.kind,
                                  region_id=data.PROVINCE[0], operator=org.depts[(data.PROVINCE[0], "bigdata")]))
    for city, cname in data.CITIES:
        for spec in data.CITY_PLATFORMS:
            platforms.append(Platform(code=f"DEMO-{city}-{spec.suffix}", name=spec.name.format(city=cname) + data.DEMO,
                                      kind=spec.kind, region_id=city, operator=org.depts[(city, "bigdata")]))
    Platform.objects.bulk_create(platforms)
    org.platforms = {p.code: p for p in platforms}
    summary.platforms = len(platforms)

    _build_items(org, summary, city_of)
    return org


SCOPE_DIGIT = {"province": 1, "city": 2, "county": 3}


def _build_items(org: Org, summary: Summary, city_of: dict[str, str]) -> None:
    scopes = [(data.PROVINCE[0], "province", data.PROVINCE_ITEMS)]
    scopes += [(c, "city", data.CITY_ITEMS) for c, _n in data.CITIES]
    scopes += [(c, "county", data.COUNTY_ITEMS) for c, _n, _p in data.COUNTIES]
    infos = []
    for region, scope, table in scopes:
        for k, (key, specs) in enumerate(table.items(), 1):
            dept = org.depts[(region, key)]
            for j, spec in enumerate(specs, 1):
                basic = f"{spec.item_type}{k:03d}{j:03d}{SCOPE_DIGIT[scope]}000"
                item = ServiceItem(implementation_code=f"{dept.credit_code}{basic[:8]}", basic_code=basic, name=spec.name,
                                   basis=spec.basis, item_type=spec.item_type, department=dept, region_id=region)
                city = city_of.get(region, region if scope == "city" else "")
                infos.append(ItemInfo(item, spec, dept, key, region, city, scope))
    ServiceItem.objects.bulk_create([i.item for i in infos])
    supplementary = policy.supplementary_days(data.PROVINCE[0])
    for info in infos:
        publish_guide(info.item, actor=SOURCE, **_guide(org, info, supplementary))
    org.items = infos
    summary.items = summary.guides = len(infos)


def _guide(org: Org, info: ItemInfo, supplementary: int) -> dict[str, str]:
    spec = info.spec
    online = "山东省政务服务网（演示）、爱山东App（演示）"
    if info.scope == "province":
        accepting = f"{info.dept.name}（网上受理）"
        channels = f"网上办理：{online}，全程网办，证照免费邮寄送达"
    else:
        hall = org.centers[info.region if info.scope == "county" else info.city]
        windows = org.windows[hall.pk].get(info.dept_key) or org.windows[hall.pk].get("approval") or []
        place = "、".join(w.name for w in windows[:2])
        accepting = f"{info.dept.name}（受理地点：{hall.name}{place}）"
        lines = [f"1. 窗口办理：{hall.name}，{hall.address}，工作日9:00—12:00、13:30—17:00", f"2. 网上办理：{online}"]
        if spec.promised_days == 0:
            lines.append("3. 自助办理：各区政务服务自助终端（演示），24小时可办")
        if info.dept_key in data.STATION_DEPTS:
            lines.append(f"{len(lines) + 1}. 就近办理：各街道便民服务中心（演示）")
        channels = "\n".join(lines)
    materials = "\n".join(f"{n}. {m}" for n, m in enumerate(spec.materials, 1))
    materials += "\n以上材料各1份；可通过数据共享获取的材料免于提交。"
    if spec.promised_days == 0:
        procedure = ("1. 申请：通过窗口、网上或自助终端提交申请\n2. 受理与审查：当场核验材料\n"
                     "3. 办结：符合条件的当场办结并出具结果\n4. 评价：对本次服务进行“好差评”")
    else:
        procedure = ("1. 申请：通过窗口或网上提交申请材料\n"
                     "2. 受理：材料齐全、符合法定形式的当场受理并出具受理通知书；材料不全的一次性告知需补正的全部内容\n"
                     "3. 审查：对申请材料进行审查，需要现场核查的组织核查\n4. 决定：在承诺时限内作出决定\n"
                     "5. 送达：窗口领取或免费邮寄送达\n6. 评价：受理和办结环节均可进行“好差评”")
    if spec.promised_days == 0 and spec.legal_days == 0:
        time_limit = "即办件：材料齐全、符合法定形式的当场办结"
    elif spec.promised_days == 0:
        time_limit = f"法定办结时限：{spec.legal_days}个工作日；承诺办结时限：即办（材料齐全当场办结）"
    else:
        time_limit = f"法定办结时限：{spec.legal_days}个工作日；承诺办结时限：{spec.promised_days}个工作日"
    evaluation = (f"现场：窗口评价器、窗口二维码、书面评价表；网上：{online}“好差评”页面；"
                  f"短信：办结后发送评价链接，{supplementary}个工作日内可补充评价；电话：12345热线")
    return dict(accepting_unit=accepting, channels=channels, conditions=spec.conditions, materials=materials,
                procedure=procedure, time_limit=time_limit, fees=spec.fee, evaluation_channels=evaluation)


# ---- 办件 and evaluations --------------------------------------------------------------------------------

class Weighted:
    """Deterministic weighted choice over a fixed list."""

    def __init__(self, options: list, weights: list[float]):
        self.options = options
        self.cum = list(itertools.accumulate(weights))

    def pick(self, rng: random.Random):
        return self.options[bisect.bisect_right(self.cum, rng.random() * self.cum[-1])]


class RecordFactory:
    def __init__(self, org: Org, rng: random.Random, receipts, today: date, summary: Summary):
        self.org = org
        self.rng = rng
        self.fake = Fake(rng)
        self.receipts = receipts
        self.today = today
        self.anchor = at(today, 0)
        self.fresh_since = self.anchor - timedelta(days=FRESH_DAYS)
        self.fresh_p_bad = 0.0  # set by build() from the number of records in the fresh days
        self.summary = summary
        self.wd = WorkingDays()
        self.seq = itertools.count(1)
        labels = Label.objects.filter(is_active=True).order_by("code").values_list("code", "level")
        self.labels: dict[int, list[str]] = {}
        for code, level in labels:
            if ev_rules.label_level(code) == level:  # the dictionary's rule: first digit is the level
                self.labels.setdefault(level, []).append(code)
        self.supplementary = {r: policy.supplementary_days(r) for r in {i.region for i in org.items}}
        county_w = data.COUNTY_WEIGHTS
        city_w = {c: sum(w for k, w in county_w.items() if k.startswith(c[:4])) for c, _n in data.CITIES}

        def weight(info: ItemInfo) -> float:
            share = {"county": county_w.get(info.region, 0), "city": city_w.get(info.region, 0) / 2, "province": 40}
            return info.spec.popularity * share[info.scope]

        hall_items = [i for i in org.items if i.scope != "province"]
        self.hall_items = Weighted(hall_items, [weight(i) for i in hall_items])
        self.online_items = Weighted(org.items, [weight(i) for i in org.items])
        terminal_items = [i for i in org.items if i.spec.promised_days == 0 and i.scope != "province"]
        self.terminal_items = Weighted(terminal_items, [weight(i) for i in terminal_items])
        self.modes_workday = Weighted(list(MODES), list(MODE_WEIGHTS_WORKDAY))
        self.modes_restday = Weighted(list(MODES), list(MODE_WEIGHTS_RESTDAY))
        self.hall_channels = Weighted(list(HALL_CHANNELS), list(HALL_CHANNEL_WEIGHTS))
        self.names = _region_names()

    # -- one 办件 ------------------------------------------------------------------------------------------
    def record(self, day: date, workday: bool, days_ago: int):
        rng = self.rng
        mode = (self.modes_workday if workday else self.modes_restday).pick(rng)
        picker = {"hall": self.hall_items, "terminal": self.terminal_items}.get(mode, self.online_items)
        info: ItemInfo = picker.pick(rng)
        spec = info.spec
        agency = window = staff = platform = None
        if mode == "hall":
            agency = self.org.centers[info.region if info.scope == "county" else info.city]
            if info.scope == "county" and info.dept_key in data.STATION_DEPTS and rng.random() < 0.25:
                agency = rng.choice(self.org.stations[info.region])
            by_dept = self.org.windows[agency.pk]
            window = rng.choice(by_dept.get(info.dept_key) or by_dept.get("approval") or [w for ws in by_dept.values() for w in ws])
            staff = rng.choice(self.org.staff[window.pk])
            accepted = at(day, rng.randint(9 * 3600, 11 * 3600 + 2700) if rng.random() < 0.55 else rng.randint(13 * 3600 + 1800, 17 * 3600))
        else:
            if mode == "terminal":
                platform = self.org.platforms[f"DEMO-{info.city}-ZZ"]
            else:
                platform = self.org.platforms[f"DEMO-{data.PROVINCE[0]}-{'PC' if mode == 'pc' else 'APP'}"]
            accepted = at(day, rng.triangular(7 * 3600, 23.5 * 3600, 15 * 3600))

        applicant_type = self._applicant_type(spec.applicant)
        if applicant_type == 1:
            name, id_number = self.fake.person(), self.fake.id_number()
        else:
            name = self.fake.company(self.names.get(info.city or "370100", "济南市"))
            id_number = make_credit_code(f"91{info.region}{self.fake.org_code()}")
        phone = self.fake.phone()

        region = info.region
        record_type = RecordType.IMMEDIATE if spec.promised_days == 0 else RecordType.PROMISED
        late = False
        if record_type == RecordType.IMMEDIATE:
            completed = min(accepted + timedelta(seconds=rng.randint(300, 2400)), end_of(day))
            due = day
        else:
            due = self.wd.add(day, spec.promised_days, region)
            late = rng.random() < P_OVERDUE
            if late:
                k = spec.promised_days + rng.randint(1, max(2, spec.promised_days // 2 + 1))
            else:
                k = round(spec.promised_days * rng.random() ** 1.5)
            if k == 0:
                completed = min(accepted + timedelta(seconds=rng.randint(1800, 4 * 3600)), end_of(day))
            else:
                completed = at(self.wd.add(day, k, region), rng.randint(9 * 3600, 17 * 3600))
        status = RecordStatus.COMPLETED
        if completed >= self.anchor:
            status, completed = RecordStatus.IN_PROGRESS, None
        submitted = accepted
        if mode != "hall" and days_ago <= 2 and rng.random() < 0.1:
            status, accepted, completed, due, late = RecordStatus.WAITING, None, None, None, False
        overdue = due is not None and (local_day(completed) > due if completed else self.today > due)
        explanation = rng.choice(data.OVERDUE_EXPLANATIONS) if overdue and rng.random() < P_EXPLAINED else ""

        project_no = f"{region}{day:%Y%m%d}{next(self.seq):07d}"
        push = RecordInput(
            project_no=project_no, implementation_code=info.item.implementation_code, region_code=region,
            department_credit_code=info.dept.credit_code, applicant_type=applicant_type, record_type=record_type,
            status=status, promised_days=spec.promised_days, agency_code=agency.code if agency else None,
            window_code=window.code if window else None, staff_no=staff.staff_no if staff else None,
            platform_code=platform.code if platform else None, applicant_name=name, applicant_id_number=id_number,
            applicant_phone=phone, accepted_at=accepted, completed_at=completed,
        )
        rec = SimpleNamespace(
            project_no=project_no, item_id=info.item.pk, region_id=region, department_id=info.dept.pk,
            agency_id=agency.pk if agency else None, window_id=window.pk if window else None,
            staff_id=staff.pk if staff else None, platform_id=platform.pk if platform else None,
            applicant_type=applicant_type, applicant_name=name, applicant_id_number=id_number,
            applicant_id_index=crypto.blind_index(id_number, kind="id_number"),
            applicant_phone=phone, applicant_phone_index=crypto.blind_index(phone, kind="phone"),
            record_type=record_type, promised_days=spec.promised_days, status=status, accepted_at=accepted,
            completed_at=completed, due_date=due, overdue_explanation=explanation,
            push_hash=record_payload_hash(push), source=SOURCE,
            # When the platform pushed it and last changed it (deterministic, unlike an insert timestamp).
            created_at=submitted, updated_at=completed or accepted or submitted,
        )
        self.summary.records += 1
        self.summary.status[status] += 1
        self.summary.overdue += overdue
        person = (name if applicant_type == 1 else "", phone)
        evaluations = self._evaluations(rec, mode, late and completed is not None, person)
        if status == RecordStatus.COMPLETED and evaluations:
            self.summary.evaluated_completed += 1
        return rec, evaluations

    def _applicant_type(self, kind: str) -> int:
        r = self.rng.random()
        if kind == "person" or (kind == "both" and r < 0.6):
            return 1
        r = self.rng.random()
        return 2 if r < 0.8 else 5 if r < 0.92 else 3 if r < 0.97 else 4

    # -- its evaluations ---------------------------------------------------------------------------------
    def _evaluations(self, rec: SimpleNamespace, mode: str, late: bool, person: tuple[str, str]):
        rng = self.rng
        out = []
        if rec.record_type == RecordType.PROMISED and rec.accepted_at and rng.random() < P_EVALUATE_ACCEPT:
            channel = (Channel.KIOSK if rng.random() < 0.7 else Channel.QR) if mode == "hall" else ONLINE_CHANNEL[mode]
            out += self._stage(rec, Stage.ACCEPT, rec.accepted_at, channel, P_BAD["accept"], False, person)
        if rec.completed_at and rng.random() < P_EVALUATE_COMPLETE[mode]:
            channel = self.hall_channels.pick(rng) if mode == "hall" else ONLINE_CHANNEL[mode]
            p_bad = P_BAD["late"] if late else P_BAD["hall" if mode == "hall" else "online"]
            out += self._stage(rec, Stage.COMPLETE, rec.completed_at, channel, p_bad, late, person)
        return out

    def _stage(self, rec, stage, stage_time, channel, p_bad, late, person):
        rng = self.rng
        stage_day = local_day(stage_time)
        last_day = ev_rules.period_end(stage_day, self.supplementary[rec.region_id], lambda d, n: self.wd.add(d, n, rec.region_id))
        if channel in ON_SITE or (channel not in LATER and rng.random() < 0.75):
            when = min(stage_time + timedelta(seconds=rng.randint(30, 900)), end_of(stage_day))
        else:
            span = (last_day - stage_day).days
            when = at(stage_day + timedelta(days=rng.randint(1, max(1, span))), rng.randint(8 * 3600, 21 * 3600))
        if when >= self.anchor or local_day(when) > last_day:
            return []  # would be in the future: this evaluator has not rated (yet)
        real = channel in LATER or rng.random() < REAL_NAME_SHARE[channel]
        evaluator = (person[0] if real and rng.random() < 0.5 else "", person[1] if real else "")
        level = self._level(max(p_bad, self.fresh_p_bad) if when >= self.fresh_since else p_bad)
        labels, comment = self._reason(level, late, channel)
        active = self._evaluation(rec, stage, EvaluationType.ACTIVE, channel, level, labels, comment, when, stage_day,
                                  last_day, evaluator)
        out = [active]
        if rng.random() < P_FOLLOWUP[level <= 2]:
            later = self._followup_time(when, last_day)
            if later is not None:
                if level <= 2:
                    f_level, f_comment = rng.choice((3, 4, 4, 5)), rng.choice(data.FOLLOWUP_AFTER_BAD)
                else:
                    f_level, f_comment = max(level, 4), rng.choice(data.FOLLOWUP_OTHER)
                f_channel = channel if channel not in ON_SITE else Channel.SMS
                # An SMS link goes to the applicant's phone, so that follow-up is real-name.
                f_evaluator = (evaluator[0], person[1]) if f_channel in LATER else evaluator
                out.append(self._evaluation(rec, stage, EvaluationType.FOLLOWUP, f_channel, f_level, [], f_comment, later,
                                            stage_day, last_day, f_evaluator))
        return out

    def _followup_time(self, after: datetime, last_day: date) -> datetime | None:
        rng = self.rng
        first = local_day(after)
        span = (last_day - first).days
        if span > 0:
            when = at(first + timedelta(days=rng.randint(1, span)), rng.randint(8 * 3600, 21 * 3600))
        else:
            when = after + timedelta(seconds=rng.randint(600, 4 * 3600))
            if local_day(when) != first:
                return None
        return when if when < self.anchor else None

    def _level(self, p_bad: float) -> int:
        r = self.rng.random()
        if r < p_bad:
            return 1 if self.rng.random() < 0.4 else 2
        if r < p_bad + 0.03:
            return 3
        if r < p_bad + 0.13:
            return 4
        return 5

    def _reason(self, level: int, late: bool, channel: str) -> tuple[list[str], str]:
        rng = self.rng
        candidates = self.labels.get(level, [])
        if level <= 2:
            fitting = [c for c in candidates if (c in data.OVERDUE_LABELS) == late] or (candidates if late else [])
            labels = []
            if fitting and rng.random() < 0.7:
                labels = [rng.choice(fitting)]
                others = [c for c in fitting if c not in labels]
                if others and rng.random() < 0.1:
                    labels.append(rng.choice(others))
            if labels and data.LABEL_THEMES.get(labels[0]):
                theme = data.LABEL_THEMES[labels[0]]
            elif late:
                theme = "overdue"
            else:
                theme = "online" if channel in (Channel.PC, Channel.MOBILE) else "attitude"
            comment = rng.choice(data.BAD_COMMENTS[theme]) if not labels or rng.random() < 0.75 else ""
            return sorted(labels), comment
        labels = [rng.choice(candidates)] if candidates and rng.random() < (0.15 if level == 5 else 0.05) else []
        if level == 3:
            return labels, rng.choice(data.MID_COMMENTS) if rng.random() < 0.35 else ""
        return labels, rng.choice(data.GOOD_COMMENTS) if rng.random() < (0.08 if level == 5 else 0.05) else ""

    def _questionnaire(self, level: int, channel: str) -> dict:
        rng = self.rng
        if channel not in (Channel.PC, Channel.MOBILE) or rng.random() >= 0.12:
            return {}
        yes = 0.92 if level >= 4 else 0.6 if level == 3 else 0.25
        answers = {k: rng.random() < yes for k in ("guide_clear", "process_convenient", "materials_simplified", "interface_friendly")}
        if level <= 3 and rng.random() < 0.5:
            answers["suggestions"] = rng.choice(("希望进一步精简申请材料。", "希望网上办理页面再简洁一些。", "希望增加办理进度提醒。"))
        return answers

    def _evaluation(self, rec, stage, type_, channel, level, labels, comment, when, stage_day, last_day, evaluator):
        questionnaire = self._questionnaire(level, channel)
        today = local_day(when)
        # The same rules submit_evaluation applies; a violation here is a bug in this generator.
        for problem in (
            ev_rules.reason_problem(level, labels, comment),
            ev_rules.questionnaire_problem(questionnaire),
            ev_rules.phone_problem(evaluator[1]),
            ev_rules.timing_problem(stage_day=stage_day, today=today, last_day=last_day, type_=type_, has_active=True),
        ):
            if problem:
                raise AssertionError(f"demo evaluation breaks a rule: {problem}")
        name, phone = evaluator
        key = f"demo-{SEED}-{rec.project_no}-{stage}-{type_}"
        request = EvaluationInput(idempotency_key=key, project_no=rec.project_no, stage=stage, channel=channel, level=level,
                                  type=type_, labels=labels, comment=comment, questionnaire=questionnaire,
                                  evaluator_name=name, evaluator_phone=phone)
        ev = SimpleNamespace(
            record=rec, record_id=None, stage=stage, type=type_, channel=channel, level=level, is_bad=ev_rules.is_bad(level),
            is_supplementary=ev_rules.is_supplementary(stage_day, today), comment=comment, questionnaire=questionnaire,
            evaluator_name=name, evaluator_phone=phone,
            evaluator_phone_index=crypto.blind_index(phone, kind="phone") if phone else "",
            is_real_name=bool(phone), item_id=rec.item_id, region_id=rec.region_id, department_id=rec.department_id,
            agency_id=rec.agency_id, window_id=rec.window_id, staff_id=rec.staff_id, platform_id=rec.platform_id,
            idempotency_key=key, request_hash=evaluation_request_hash(request), receipt_code=next(self.receipts),
            source=SOURCE, created_at=when.astimezone(UTC),
        )
        ev.leaf_hash = crypto.sm3_hex(canonical_bytes(ev, labels))
        s = self.summary
        s.evaluations += 1
        s.followups += type_ == EvaluationType.FOLLOWUP
        s.bad += ev.is_bad
        s.real_name += ev.is_real_name
        s.supplementary += ev.is_supplementary
        s.channels[channel] += 1
        return ev, labels


def _day_counts(records: int, days: list[tuple[date, bool]]) -> list[int]:
    """Spread ``records`` over the days: working days busy, rest days light, slowly growing over the year."""
    n = len(days)
    weights = [(1.0 if workday else 0.12) * (0.85 + 0.3 * i / n) for i, (_d, workday) in enumerate(days)]
    total = sum(weights)
    exact = [records * w / total for w in weights]
    counts = [int(x) for x in exact]
    # Largest remainders get the leftovers; ties break by day order, so the split is deterministic.
    for i in sorted(range(n), key=lambda i: (counts[i] - exact[i], i))[: records - sum(counts)]:
        counts[i] += 1
    return counts


def _flush(inserters: dict, records: list[SimpleNamespace], evaluations: list[tuple[SimpleNamespace, list[str]]]) -> None:
    if not records:
        return
    inserters[ServiceRecord].insert(records)
    ids = dict(ServiceRecord.objects.filter(project_no__in=[r.project_no for r in records]).values_list("project_no", "id"))
    for ev, _labels in evaluations:
        ev.record_id = ids[ev.record.project_no]
    inserters[Evaluation].insert([ev for ev, _labels in evaluations])
    labelled = {ev.idempotency_key: codes for ev, codes in evaluations if codes}
    if labelled:
        ev_ids = Evaluation.objects.filter(idempotency_key__in=list(labelled)).values_list("idempotency_key", "id")
        through = Evaluation.labels.through
        through.objects.bulk_create(
            [through(evaluation_id=pk, label_id=code) for key, pk in sorted(ev_ids) for code in labelled[key]]
        )


def build(records: int = DEFAULT_RECORDS, *, today: date | None = None, progress=None) -> Summary:
    """Load the demo data set once; see the module docstring for what "deterministic" covers.

    ``today`` fixes the anchor (default: today in Asia/Shanghai); ``progress`` receives short Chinese
    status lines.
    """
    started = clock.perf_counter()
    say = progress or (lambda _msg: None)
    today = today or datetime.now(SHANGHAI).date()
    summary = Summary()
    say("正在载入行政区划和节假日…")
    load_reference_data(today)
    rng = random.Random(SEED)
    receipts = receipt_codes(random.Random(f"{SEED}:receipts"))
    with transaction.atomic():
        say("正在建立演示机构、窗口、人员、平台和事项…")
        org = build_org(random.Random(f"{SEED}:org"), summary)
        summary.regions = Region.objects.subtree(data.PROVINCE[0]).filter(code__in=list(_region_names())).count()
        factory = RecordFactory(org, rng, receipts, today, summary)
        days = [(today - timedelta(days=d), calendar.is_workday(today - timedelta(days=d), data.PROVINCE[0]))
                for d in range(DAYS, 0, -1)]
        summary.start, summary.end = days[0][0], days[-1][0]
        counts = _day_counts(records, days)
        # Most records are rated (P_EVALUATE_COMPLETE), so this is close to FRESH_BAD fresh 差评 in all.
        fresh_records = sum(counts[-FRESH_DAYS:])
        factory.fresh_p_bad = min(0.25, FRESH_BAD / (0.8 * fresh_records)) if fresh_records else 0.0
        say(f"正在生成{records}件办件及其评价…")
        inserters = {ServiceRecord: Inserter(ServiceRecord), Evaluation: Inserter(Evaluation)}
        batch_records: list[SimpleNamespace] = []
        batch_evals: list[tuple[SimpleNamespace, list[str]]] = []
        for (day, workday), count in zip(days, counts, strict=True):
            days_ago = (today - day).days
            for _ in range(count):
                rec, evs = factory.record(day, workday, days_ago)
                batch_records.append(rec)
                batch_evals.extend(evs)
            if len(batch_records) >= CHUNK:
                _flush(inserters, batch_records, batch_evals)
                batch_records, batch_evals = [], []
        _flush(inserters, batch_records, batch_evals)
    summary.seconds = clock.perf_counter() - started
    return summary
