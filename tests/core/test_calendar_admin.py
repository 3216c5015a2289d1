"""What an administrator sees and does in the calendar admin, and the read-only audit log (R4.6)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command
from django.utils import timezone

from haochaping.core import calendar, calendar_rules, services
from haochaping.core.models import AuditEntry, CalendarDay, CalendarYear

pytestmark = pytest.mark.django_db
DAYS = "/admin/core/calendarday/"
YEARS = "/admin/core/calendaryear/"


@pytest.fixture
def seeded(db):
    return services.seed_national_calendar(2019)


def test_both_lists_warn_about_years_without_a_notice(admin_client, seeded):
    this_year = timezone.localdate().year
    # Mark next year as entered: only the other unentered years may be named.
    CalendarYear.objects.get_or_create(year=this_year + 1, defaults={"note": "已录入（测试）"})
    missing = calendar_rules.unpublished_years(
        calendar_rules.years_to_watch(timezone.localdate()), CalendarYear.objects.values_list("year", flat=True)
    )
    assert missing, "this year + 2 is beyond any package, so something is always missing"
    for url in (DAYS, YEARS):
        page = admin_client.get(url).content.decode()
        shown = page.split('class="messagelist"')[1].split("</ul>")[0]
        assert calendar_rules.fallback_notice(missing) in shown
        assert "期限暂按周一至周五计算" in shown
        assert f"{this_year + 1}年" not in shown


def test_no_warning_once_every_year_around_now_is_entered(admin_client, seeded):
    for year in calendar_rules.years_to_watch(timezone.localdate()):
        CalendarYear.objects.get_or_create(year=year)
    assert "尚未录入国务院节假日安排" not in admin_client.get(DAYS).content.decode()


def test_the_day_list_filters_and_searches(admin_client, seeded):
    CalendarDay.objects.create(region_code="370102", date=date(2024, 5, 6), is_workday=False, name="区级假日（测试）")
    page = admin_client.get(DAYS, {"year": "2024", "is_workday__exact": "1"}).content.decode()
    assert "国庆节调休上班" in page and "2025" not in page.split("result_list")[1].split("</table>")[0]
    page = admin_client.get(DAYS, {"region": "370102"}).content.decode()
    assert "区级假日（测试）" in page and "国庆节" not in page.split("result_list")[1]
    page = admin_client.get(DAYS, {"region": "national", "q": "春节"}).content.decode()
    assert "春节" in page and "区级假日" not in page.split("result_list")[1]
    assert admin_client.get(DAYS, {"source__exact": "seed"}).status_code == 200
    assert "全国放假日数" in admin_client.get(YEARS).content.decode()


def test_adding_a_local_holiday_in_the_admin_is_audited_and_used_at_once(admin_client, seeded, org):
    assert calendar.add_working_days(date(2024, 3, 8), 1, "370102") == date(2024, 3, 11)
    response = admin_client.post(
        f"{DAYS}add/",
        {"date": "2024-03-11", "is_workday": "", "name": "地方假日", "region_code": "370102000000"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = CalendarDay.objects.get(name="地方假日")
    assert (row.region_code, row.source) == ("370102", "admin")
    assert AuditEntry.objects.filter(action="calendar.day.create", object_id=str(row.pk), actor="admin").exists()
    assert calendar.add_working_days(date(2024, 3, 8), 1, "370102") == date(2024, 3, 12)
    assert calendar.add_working_days(date(2024, 3, 8), 1) == date(2024, 3, 11)
    assert "历下区（370102）" in admin_client.get(DAYS, {"region": "370102"}).content.decode()


def test_a_bad_region_code_is_refused_in_chinese(admin_client, seeded):
    response = admin_client.post(f"{DAYS}add/", {"date": "2024-03-11", "name": "x", "region_code": "3701"})
    assert response.status_code == 200
    assert "行政区划代码应为6、9或12位数字" in response.content.decode()
    assert not CalendarDay.objects.filter(name="x").exists()


def test_deleting_from_the_admin_is_audited(admin_client, seeded):
    row = CalendarDay.objects.get(region_code="", date=date(2024, 10, 12))
    response = admin_client.post(
        DAYS, {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
    )
    assert response.status_code == 302
    assert not CalendarDay.objects.filter(pk=row.pk).exists()
    assert AuditEntry.objects.filter(action="calendar.day.delete", object_id=str(row.pk)).exists()
    assert calendar.add_working_days(date(2024, 10, 11), 1) == date(2024, 10, 14)


def test_entering_a_whole_year_through_the_form(admin_client, seeded):
    form = admin_client.get(f"{YEARS}enter/", {"year": "2027"})
    assert form.status_code == 200 and 'value="2027"' in form.content.decode()
    assert "录入全年安排" in admin_client.get(YEARS).content.decode()
    response = admin_client.post(
        f"{YEARS}enter/",
        {
            "year": "2027",
            "note": "国务院办公厅关于2027年部分节假日安排的通知",
            "holidays": "2027-01-01 至 2027-01-03 元旦\n2027-02-06 至 2027-02-12 春节",
            "workdays": "2027-02-13 春节调休上班",
        },
    )
    assert response.status_code == 302
    assert not calendar.is_fallback_year(2027)
    assert calendar.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert "2027年尚未录入" not in admin_client.get(YEARS).content.decode()


def test_the_year_form_names_the_bad_line(admin_client, seeded):
    response = admin_client.post(
        f"{YEARS}enter/",
        {"year": "2027", "note": "通知", "holidays": "2027-01-01 元旦\n2027-02-31 春节", "workdays": ""},
    )
    assert response.status_code == 200
    assert "第2行的日期不存在" in response.content.decode()
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_marking_a_year_in_the_admin_is_audited(admin_client, seeded):
    response = admin_client.post(f"{YEARS}add/", {"year": "2028", "note": "国务院办公厅通知"})
    assert response.status_code == 302
    assert CalendarYear.objects.get(year=2028).source == "admin"
    assert AuditEntry.objects.filter(action="calendar.year.create", object_id="2028").exists()
    assert not calendar.is_fallback_year(2028)


def test_the_audit_log_is_read_only(admin_client, db):
    entry = AuditEntry.objects.create(actor="tester", action="calendar.seed", object_type="core.CalendarDay", object_id="")
    assert admin_client.get("/admin/core/auditentry/").status_code == 200
    assert admin_client.get(f"/admin/core/auditentry/{entry.pk}/change/").status_code == 200
    assert admin_client.get("/admin/core/auditentry/add/").status_code == 403
    assert admin_client.post(f"/admin/core/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    admin_client.post(f"/admin/core/auditentry/{entry.pk}/change/", {"actor": "someone else"})
    entry.refresh_from_db()
    assert entry.actor == "tester"


def test_seed_calendar_command(db, capsys):
    call_command("seed_calendar", "--from-year", "2024")
    out = capsys.readouterr()
    assert "新增" in out.out and "2024–" in out.out
    assert "尚未录入国务院节假日安排" in out.err  # this year + 2 is always beyond the package
    count = CalendarDay.objects.count()
    assert count > 0 and not CalendarDay.objects.filter(date__year__lt=2024).exists()
    call_command("seed_calendar", "--from-year", "2024")
    assert "新增 0 天" in capsys.readouterr().out
    assert CalendarDay.objects.count() == count


def test_an_override_needs_an_existing_region(admin_client, seeded):
    response = admin_client.post(f"{DAYS}add/", {"date": "2024-03-11", "name": "y", "region_code": "659999"})
    assert response.status_code == 200
    assert "行政区划代码659999不存在" in response.content.decode()
