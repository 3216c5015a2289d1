"""Test data builders. Each returns saved rows with valid codes; pass overrides for what a test is about."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from haochaping.accounts.models import Scope
from haochaping.accounts.services import create_api_key
from haochaping.catalog.models import ServiceGuide, ServiceItem
from haochaping.org.models import Department, ManagementAgency, Platform, Region, ServiceAgency, Staff, Window
from haochaping.org.rules import make_credit_code
from haochaping.records.models import ServiceRecord

SHANGHAI = ZoneInfo("Asia/Shanghai")
_seq = itertools.count(1)


def seq() -> int:
    return next(_seq)


@dataclass
class Org:
    province: Region
    city: Region
    county: Region
    other_county: Region
    management_agency: ManagementAgency
    department: Department
    agency: ServiceAgency
    window: Window
    staff: Staff
    platform: Platform


def region(code: str, name: str, parent: Region | None = None) -> Region:
    from haochaping.org.rules import region_level

    obj, _ = Region.objects.get_or_create(code=code, defaults={"name": name, "level": region_level(code), "parent": parent})
    return obj


def credit_code(region_code: str = "370102") -> str:
    n = seq()
    # 1 (机关) 1 (机关类别), 6-digit region, 9-character organisation code, check character.
    return make_credit_code(f"11{region_code}{n:08d}X"[:17])


def department(region_obj: Region, name: str = "演示市场监督管理局", **kw) -> Department:
    return Department.objects.create(credit_code=credit_code(region_obj.code[:6]), name=name, region=region_obj, **kw)


def make_org() -> Org:
    province = region("370000", "山东省")
    city = region("370100", "济南市", province)
    county = region("370102", "历下区", city)
    other = region("370103", "市中区", city)
    ma = ManagementAgency.objects.create(region=county, name="历下区政务服务管理办公室（演示）")
    dept = department(county)
    agency = ServiceAgency.objects.create(code=f"HALL{seq()}", name="历下区政务服务中心（演示）", kind="center", region=county)
    window = Window.objects.create(agency=agency, code="A01", name="综合受理1号窗口", department=dept)
    staff = Staff.objects.create(staff_no=f"S{seq():05d}", name="李明", agency=agency, department=dept, window=window)
    platform = Platform.objects.create(code=f"PF{seq()}", name="爱山东（演示）", kind="mobile", region=province, operator=dept)
    return Org(province, city, county, other, ma, dept, agency, window, staff, platform)


def make_item(org: Org, **kw) -> ServiceItem:
    n = seq()
    defaults = dict(
        implementation_code=f"11370102MB{n:06d}XK00001",
        basic_code=f"00001{n:05d}",
        name="食品经营许可证核发",
        basis="《中华人民共和国食品安全法》第三十五条",
        item_type="01",
        department=org.department,
        region=org.county,
    )
    defaults.update(kw)
    return ServiceItem.objects.create(**defaults)


def guide_elements(**kw) -> dict:
    elements = dict(
        accepting_unit="历下区行政审批服务局",
        channels="窗口办理；网上办理（爱山东）",
        conditions="申请人应当取得营业执照等合法主体资格",
        materials="1. 食品经营许可申请书\n2. 营业执照复印件",
        procedure="申请—受理—审查—决定—送达",
        time_limit="法定20个工作日，承诺5个工作日",
        fees="不收费",
        evaluation_channels="窗口评价器、二维码、短信、爱山东App、12345热线",
    )
    elements.update(kw)
    return elements


def make_guide(item: ServiceItem, **kw) -> ServiceGuide:
    from haochaping.catalog.services import publish_guide

    return publish_guide(item, actor="test", **guide_elements(**kw))


def earlier_today(hours: float, *, before: datetime | None = None) -> datetime:
    """``hours`` before ``before`` (default: now), but never before this local (Beijing) day began: a 办件 made by a
    test and rated at once must fall on the same statistics day at 00:30 as at 15:00 (`make test` runs on the real
    clock, whatever the hour)."""
    before = before or timezone.now()
    day_start = timezone.localtime(before).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(before - timedelta(hours=hours), day_start)


def make_record(org: Org, item: ServiceItem, *, completed: bool = True, accepted_at: datetime | None = None, **kw) -> ServiceRecord:
    if accepted_at is None:
        # Accepted two hours ago and completed one hour ago, both earlier today.
        completed_at = earlier_today(1)
        accepted_at = earlier_today(1, before=completed_at)
    else:
        completed_at = accepted_at + timedelta(hours=1)
    defaults = dict(
        project_no=f"P{seq():010d}",
        item=item,
        region=org.county,
        department=org.department,
        agency=org.agency,
        window=org.window,
        staff=org.staff,
        applicant_type=1,
        applicant_name="王小二",
        applicant_phone="13912345678",
        record_type="promised",
        promised_days=5,
        status=3 if completed else 2,
        accepted_at=accepted_at,
        completed_at=completed_at if completed else None,
    )
    defaults.update(kw)
    return ServiceRecord.objects.create(**defaults)


def make_api_key(scopes=None, region=None):
    return create_api_key(name=f"测试平台{seq()}", scopes=scopes or list(Scope.values), region=region)
