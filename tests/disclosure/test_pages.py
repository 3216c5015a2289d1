"""The portal's pages: every figure equals insight.metrics for the same region and period (同源发布), region
navigation, a region without data, bad query values answered in Chinese, and caching."""

from __future__ import annotations

import pytest
from django.utils import timezone

from haochaping.disclosure import rules
from haochaping.disclosure.rules import percent, score
from haochaping.insight import metrics
from haochaping.insight.metrics import PublicViewer, StatsFilter

from .pages import figure, links, row_keys

pytestmark = pytest.mark.django_db


def period():
    return rules.last_twelve_months(timezone.localdate())


def filt(code=None, department=None):
    p = period()
    return StatsFilter.from_codes(region_code=code, department=department, date_from=p.start, date_to=p.end)


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def test_region_page_figures_equal_metrics(client, world, settings):
    settings.HAOCHAPING_RANKING_MIN_SAMPLE = 3
    org = world.org
    text = page(client, f"/public/regions/{org.city.code}/")
    viewer = PublicViewer(org.city.code)
    f = filt(org.city.code)
    total = metrics.figures(viewer, f).total
    assert total.tally.valid == 7  # 4 good + 4 bad − 1 excluded by the upheld appeal
    assert figure(text, "evaluations") == str(total.tally.valid)
    assert figure(text, "satisfaction") == score(total.tally.satisfaction)
    assert figure(text, "good_rate") == percent(total.tally.good_rate)
    assert figure(text, "bad_rate") == percent(total.tally.bad_rate)
    assert figure(text, "participation_rate") == percent(total.participation_rate)
    assert figure(text, "excluded") == str(total.tally.excluded) == "1"
    assert figure(text, "system_default") == "0"

    # Sub-regions: every county listed, the one with data carrying its figures.
    assert row_keys(text, "regions") == [org.county.code, org.other_county.code]
    county = next(g for g in metrics.figures(viewer, f, group_by="region").groups if g.key == org.county.code)
    assert figure(text, "satisfaction", org.county.code) == score(county.tally.satisfaction)
    assert figure(text, "evaluations", org.other_county.code) == "0"

    department = metrics.figures(viewer, f, group_by="department").groups[0]
    assert figure(text, "bad_rate", department.key) == percent(department.tally.bad_rate)

    # The halls: a citizen finds how the hall they went to is rated (below a province only).
    halls = [h for h in metrics.figures(viewer, f, group_by="agency").groups if h.key]  # not the "no hall" group
    assert [str(h.key) for h in halls] == row_keys(text, "agencies") and org.agency.name in text
    assert "（未关联）" not in text.split('data-table="agencies"')[1].split("</table>")[0]
    for hall in halls:
        assert figure(text.split('data-table="agencies"')[1], "satisfaction", hall.key) == score(hall.tally.satisfaction)
    assert 'data-table="agencies"' not in page(client, f"/public/regions/{org.province.code}/")

    ranking = metrics.rankings(viewer, f, by="department")
    assert ranking.ranked and ranking.ranked[0].key == org.department.credit_code
    row = ranking.ranked[0]
    table = text.split('data-ranking="department"')[1]
    assert figure(table, "rank", row.key) == "1"
    assert figure(table, "score", row.key) == score(row.score, 3)

    cases = metrics.case_figures(viewer, f)[0]
    assert cases.cases == 6
    for name in ("cases", "overdue_now"):
        assert figure(text, name) == str(getattr(cases, name))
    for name in ("callback_rate", "rectify_rate", "on_time_rate", "real_name_rate", "upheld_rate"):
        assert figure(text, name) == percent(getattr(cases, name))


def test_units_below_the_minimum_sample_are_listed_apart_not_ranked(client, world):
    text = page(client, f"/public/regions/{world.org.county.code}/")
    # 7 valid evaluations < 30: no ranking table, the department listed apart with its figures.
    assert 'data-ranking="department"' not in text
    apart = text.split('data-ranking-apart="department"')[1]
    assert figure(apart, "evaluations", world.org.department.credit_code) == "7"
    assert "不参加排名" in text


def test_department_page_figures_equal_metrics(client, world):
    org = world.org
    text = page(client, f"/public/regions/{org.county.code}/departments/{org.department.credit_code}/")
    viewer = PublicViewer(org.county.code)
    f = filt(org.county.code, org.department.credit_code)
    total = metrics.figures(viewer, f).total
    assert figure(text, "satisfaction") == score(total.tally.satisfaction)
    month = metrics.figures(viewer, f, group_by="month").groups[0]
    assert figure(text, "evaluations", month.key) == str(month.tally.valid)
    item = metrics.figures(viewer, f, group_by="item").groups[0]
    assert figure(text, "good_rate", item.key) == percent(item.tally.good_rate)
    assert f"/items/{world.item.implementation_code}/" in links(text)  # the item's public guide
    cases = metrics.case_figures(viewer, f)[0]
    assert figure(text, "rectify_rate") == percent(cases.rectify_rate)


def test_navigation_from_the_province_down_to_a_department(client, world):
    """The portal opens at the deployment's own province (the one whose regions hold departments), not at 全国."""
    org = world.org
    text = page(client, "/public/")
    assert "山东省政务服务“好差评”结果公开" in text and "各省（自治区、直辖市）" not in text
    assert f"/public/regions/{org.city.code}/" in links(text)
    assert f"/public/regions/{org.province.code}/" not in links(text)
    text = page(client, f"/public/regions/{org.city.code}/")
    assert f"/public/regions/{org.county.code}/" in links(text)
    # Breadcrumbs lead back up to the portal's root, which is the home page.
    text = page(client, f"/public/regions/{org.county.code}/")
    assert f"/public/regions/{org.city.code}/" in links(text) and "/public/" in links(text)
    assert ">全国<" not in text
    assert f"/public/regions/{org.county.code}/departments/{org.department.credit_code}/" in links(text)


def test_the_configured_root_region_is_where_the_portal_opens(client, world, settings):
    from haochaping.org.models import Region

    settings.HAOCHAPING_ROOT_REGION = world.org.city.code
    text = page(client, "/public/")
    assert "济南市政务服务“好差评”结果公开" in text
    assert f"/public/regions/{world.org.county.code}/" in links(text)
    # A region outside the root is not this portal's: the same 404 as an unknown code.
    Region.objects.create(code="370200", name="青岛市", level=Region.Level.CITY, parent=world.org.province)
    assert client.get("/public/regions/370200/").status_code == 404
    assert client.get(f"/public/opendata/figures.csv?region={world.org.province.code}").status_code == 400


def test_with_departments_in_two_provinces_the_portal_opens_at_the_whole_country(client, world):
    from haochaping.org.models import Department, Region

    beijing = Region.objects.create(code="110000", name="北京市", level=Region.Level.PROVINCE)
    Department.objects.create(region=beijing, credit_code="11110000000000000X", name="北京市人社局")
    text = page(client, "/public/")
    assert "全国政务服务“好差评”结果公开" in text
    assert f"/public/regions/{world.org.province.code}/" in links(text)
    assert "/public/regions/110000/" in links(text)


def test_a_region_without_data_shows_dashes_not_zero_percent(client, world):
    text = page(client, f"/public/regions/{world.org.other_county.code}/")
    assert figure(text, "evaluations") == "0"
    for name in ("satisfaction", "good_rate", "bad_rate", "participation_rate", "rectify_rate"):
        assert figure(text, name) == "—"
    assert "本期间没有评价数据" in text
    assert "本期间没有差评整改案件" in text


def test_the_period_is_honoured(client, world):
    year = timezone.localdate().year
    text = page(client, f"/public/regions/{world.org.county.code}/?period={year - 3}")
    assert figure(text, "evaluations") == "0"
    text = page(client, f"/public/regions/{world.org.county.code}/?period={timezone.localdate():%Y-%m}")
    assert figure(text, "evaluations") == "7"


@pytest.mark.parametrize("value", ["abc", "2024-13", "1999", "2024-1", "9999", "2024-03-01", "'; drop"])
def test_bad_period_is_a_chinese_message_not_a_500(client, world, value):
    response = client.get(f"/public/regions/{world.org.county.code}/", {"period": value})
    assert response.status_code == 400
    text = response.content.decode()
    assert 'id="period-error"' in text and "已显示近12个月的数据" in text
    assert figure(text, "evaluations") == "7"  # the default period is shown meanwhile


@pytest.mark.parametrize("url", [
    "/public/regions/abc/", "/public/regions/999999/", "/public/regions/370102/departments/NOPE/",
    "/public/cases/?region=12", "/public/opendata/secrets.csv", "/public/opendata/figures.xml",
])
def test_unknown_things_are_a_chinese_404(client, world, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "没有" in response.content.decode()


def test_bad_page_number_is_a_chinese_message(client, world):
    response = client.get("/public/cases/", {"region": world.org.county.code, "page": "x"})
    assert response.status_code == 400
    assert "页码应为正整数" in response.content.decode()
    assert client.get("/public/cases/", {"region": world.org.county.code, "page": "99"}).status_code == 200


def test_case_list_is_the_set_behind_the_case_figures(client, world):
    org = world.org
    text = page(client, f"/public/cases/?region={org.county.code}")
    cases = metrics.case_figures(PublicViewer(org.county.code), filt(org.county.code))[0]
    assert figure(text, "cases") == str(cases.cases) == "6"
    assert text.count("<tr data-case=") == 6
    assert "申诉成立（不计入统计）" in text and "立行立改" in text and "限期整改" in text
    # Readers get the labels' words; the national codes stay in the open data (the CSV below).
    assert "无理由超过法定办理时间" in text and "110 无理由" not in text
    assert 'data-label="差评标签"' in text  # a phone shows each case as a card, each value after its name
    assert "110 无理由超过法定办理时间" in client.get(f"/public/opendata/cases.csv?region={org.county.code}").content.decode()


def test_pages_are_cacheable_for_five_minutes_and_need_no_login(client, world):
    for url in ("/public/", f"/public/regions/{world.org.county.code}/", "/public/opendata/"):
        response = client.get(url)
        assert response.status_code == 200
        assert "max-age=300" in response["Cache-Control"]
    response = client.get("/public/opendata/figures.csv")
    assert "public" in response["Cache-Control"] and "max-age=300" in response["Cache-Control"]


def test_public_viewer_sees_its_region_subtree_only(world):
    from haochaping.core.scoping import EVERYTHING, visibility_for

    assert visibility_for(PublicViewer(world.org.county.code)).region_prefix == "370102"
    assert visibility_for(PublicViewer(None)) == EVERYTHING
    other = metrics.figures(PublicViewer(world.org.other_county.code), StatsFilter()).total
    assert other.tally.valid == 0  # even without a region filter, nothing outside the viewer's region
