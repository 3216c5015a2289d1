"""The demo's organisation and catalog: management agencies, departments, halls, stations, windows, staff,
platforms and 265 service items with a published 办事指南 each."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field

from haochaping.catalog.models import ServiceItem
from haochaping.catalog.services import publish_guide
from haochaping.org import policy
from haochaping.org.models import (
    Department,
    ManagementAgency,
    Platform,
    RegionPolicy,
    ServiceAgency,
    Staff,
    Window,
)
from haochaping.org.rules import make_credit_code

from . import data
from .common import SOURCE, Fake, Summary

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


def region_names() -> dict[str, str]:
    names = {data.PROVINCE[0]: data.PROVINCE[1]}
    names.update(dict(data.CITIES))
    names.update({c: n for c, n, _p in data.COUNTIES})
    return names


def build_org(rng: random.Random, summary: Summary) -> Org:
    fake = Fake(rng)
    org = Org()
    names = region_names()
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
