"""A pushed 办件 names only units inside the pushing key's region and on the 办件's own branch of the region tree
(R2.4, R7), over real HTTP against both counties of the scope world: a county-A key that names county B's
department, agency, window, staff, platform or item is refused naming the field, and nothing is written, so no
差评 on it can open a case that county B's handlers would see."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from haochaping.org.models import Platform, Window
from haochaping.records.models import ServiceRecord
from haochaping.rectification.models import RectificationCase

pytestmark = pytest.mark.django_db(transaction=True)


def body(world, **refs) -> dict:
    """A valid push of a county-A 办件 at county A's hall, with ``refs`` replacing its references."""
    a = world.a
    accepted = timezone.now() - timedelta(hours=2)
    doc = {
        "project_no": f"P-{uuid.uuid4().hex[:12]}", "implementation_code": a.items[0].implementation_code,
        "region_code": a.region.code, "department_credit_code": a.departments[0].credit_code,
        "agency_code": a.agency.code, "window_code": a.windows[0].code, "staff_no": a.staff[0].staff_no,
        "applicant": {"type": 1}, "record_type": "promised", "promised_days": 5, "status": 3,
        "accepted_at": accepted.isoformat(), "completed_at": (accepted + timedelta(hours=1)).isoformat(),
    }
    doc.update(refs)
    return doc


def push(live_server, world, key: str, doc: dict) -> httpx.Response:
    _key, secret = world.keys[key]
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30) as c:
        return c.post("/api/v1/records", json=doc)


def b_refs(world) -> dict:
    b = world.b
    foreign_window = Window.objects.create(agency=world.a.agency, code="X09", name="借用窗口", department=b.departments[0])
    return {
        "department_credit_code": {"department_credit_code": b.departments[0].credit_code},
        "agency_code": {"agency_code": b.agency.code, "window_code": b.windows[0].code, "staff_no": None},
        "window_code": {"window_code": foreign_window.code, "staff_no": None},
        "staff_no": {"staff_no": b.staff[0].staff_no},
        "platform_code": {"platform_code": b.platform.code},
        "implementation_code": {"implementation_code": b.items[0].implementation_code},
    }


# Units that answer for the 办件 outside the key's region: 403; a platform or item on another branch: 422.
EXPECTED_FOR_KEY_A = {
    "department_credit_code": 403, "agency_code": 403, "window_code": 403, "staff_no": 403,
    "platform_code": 422, "implementation_code": 422,
}


@pytest.mark.parametrize("field", sorted(EXPECTED_FOR_KEY_A))
def test_a_county_key_cannot_name_another_countys_unit(live_server, world, field):
    cases_before = RectificationCase.objects.count()
    r = push(live_server, world, "key_a", body(world, **b_refs(world)[field]))
    assert r.status_code == EXPECTED_FOR_KEY_A[field], r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == field and "区划" in r.json()["detail"]
    assert not ServiceRecord.objects.filter(project_no__startswith="P-").exists()
    assert RectificationCase.objects.count() == cases_before


@pytest.mark.parametrize("field", sorted(EXPECTED_FOR_KEY_A))
def test_even_a_province_wide_key_cannot_mix_branches(live_server, world, field):
    r = push(live_server, world, "key_all", body(world, **b_refs(world)[field]))
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field and "region_code" in r.json()["detail"]
    assert not ServiceRecord.objects.filter(project_no__startswith="P-").exists()


def test_a_platform_above_the_countys_region_serves_it(live_server, world):
    # 爱山东-style: one platform for the whole city carries its counties' 办件; the county key may name it.
    Platform.objects.create(code="PF-CITY", name="市级网上办事大厅", kind="mobile", region=world.city, operator=None)
    r = push(live_server, world, "key_a", body(world, platform_code="PF-CITY", agency_code=None, window_code=None,
                                                staff_no=None))
    assert r.status_code == 201, r.text


def test_the_own_countys_units_are_accepted(live_server, world):
    r = push(live_server, world, "key_a", body(world))
    assert r.status_code == 201, r.text
    assert ServiceRecord.objects.get(project_no=r.json()["project_no"]).region_id == world.a.region.code
