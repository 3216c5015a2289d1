"""Supervisors' pages: the case list with filters and CSV, the figures, the notices; complaints opened by hand;
evidence downloads kept in scope."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.db.models import F
from django.utils import timezone

from haochaping.accounts.models import Role, User
from haochaping.rectification import services
from haochaping.rectification.models import CaseAttachment, CaseNotice, RectificationCase
from haochaping.rectification.rules import State
from tests import factories

from .test_pages import case_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def numbers(page: str, cases) -> list[bool]:
    return [f">{c.pk:06d}<" in page for c in cases]


def test_the_supervisor_sees_every_case_in_the_subtree_and_no_other(as_user, people, org, item):
    here = case_for(org, item)
    far_dept = factories.department(org.other_county, "市中区人社局")
    far_record = factories.make_record(org, item, region=org.other_county, department=far_dept, agency=None,
                                       window=None, staff=None)
    from .conftest import submit

    far = RectificationCase.objects.get(evaluation=submit(far_record).evaluation)
    page = as_user(people["supervisor"]).get("/work/supervision/").content.decode()
    assert numbers(page, [here, far]) == [True, False]
    page = as_user(people["far_supervisor"]).get("/work/supervision/").content.decode()
    assert numbers(page, [here, far]) == [False, True]


def test_handlers_do_not_get_the_supervision_pages(as_user, people):
    client = as_user(people["handler"])
    for url in ("/work/supervision/", "/work/supervision/cases.csv", "/work/supervision/figures/",
                "/work/supervision/notices/"):
        assert client.get(url).status_code == 403


def test_filters_overdue_state_real_name_and_reported(as_user, people, org, item):
    overdue = case_for(org, item)
    RectificationCase.objects.filter(pk=overdue.pk).update(callback_due=timezone.localdate() - timedelta(days=5),
                                                           escalated_at=timezone.now())
    real = case_for(org, item, evaluator_name="张三", evaluator_phone="13912345678")
    answered = case_for(org, item)
    RectificationCase.objects.filter(pk=answered.pk).update(state=State.ANSWERED)
    client = as_user(people["supervisor"])
    cases = [overdue, real, answered]

    def shown(query):
        return numbers(client.get(f"/work/supervision/?{query}").content.decode(), cases)

    assert shown("") == [True, True, True]
    assert shown("overdue=1") == [True, False, False]
    assert shown("overdue=0") == [False, True, True]
    assert shown("state=answered") == [False, False, True]
    assert shown("real_name=1") == [False, True, False]
    assert shown("reported=1") == [True, False, False]
    assert shown(f"department={org.department.pk}&outcome=none") == [True, True, True]
    assert shown("outcome=fixed_now") == [False, False, False]
    # A filter value that makes no sense is ignored, not an error.
    assert client.get("/work/supervision/?state=nonsense").status_code == 200
    services.add_supervision_note(answered.pk, actor=people["supervisor"], note="请加快办理")
    assert shown("supervised=1") == [False, False, True] and shown("supervised=0") == [True, True, False]
    # A case found by its number (as staff quote it, or without the zeros), and the count said above the list.
    assert shown(f"number={overdue.pk:06d}") == [True, False, False] == shown(f"number={overdue.pk}")
    assert "符合条件的案件共 <strong>1</strong> 件" in client.get(f"/work/supervision/?number={real.pk}").content.decode()
    # By the cases' own 立案 days (北京时间), not today's: just after midnight they were opened "yesterday".
    days = sorted(timezone.localtime(c.opened_at).date() for c in RectificationCase.objects.filter(
        pk__in=[c.pk for c in cases]))
    assert shown(f"opened_from={days[0]}&opened_to={days[-1]}") == [True, True, True]
    assert shown(f"opened_to={days[0] - timedelta(days=1)}") == [False, False, False]
    assert shown(f"opened_from={days[-1] + timedelta(days=1)}") == [False, False, False]
    # A city's supervisor narrows to one county, named with its city (counties share names across cities).
    from haochaping.accounts.models import User
    from haochaping.accounts.roles import Role

    city = as_user(User.objects.create(username="sup-city", role=Role.SUPERVISOR, region=org.city))
    page = city.get("/work/supervision/").content.decode()
    assert f"{org.city.name}{org.county.name}</option>" in page and f"{org.city.name}{org.other_county.name}</option>" in page
    assert numbers(city.get(f"/work/supervision/?region={org.county.code}").content.decode(), cases) == [True] * 3
    assert numbers(city.get(f"/work/supervision/?region={org.other_county.code}").content.decode(), cases) == [False] * 3


def test_the_list_is_sorted_by_due_date_and_paginated(as_user, people, org, item, monkeypatch):
    from haochaping.rectification.views import supervision as views_supervision

    monkeypatch.setattr(views_supervision, "PAGE_SIZE", 2)
    first, second, third = (case_for(org, item) for _ in range(3))
    today = timezone.localdate()
    for case, days in ((first, 9), (second, 3), (third, 6)):
        RectificationCase.objects.filter(pk=case.pk).update(callback_due=today + timedelta(days=days))
    client = as_user(people["supervisor"])
    page1 = client.get("/work/supervision/?sort=due").content.decode()
    assert numbers(page1, [second, third, first]) == [True, True, False]
    assert page1.index(f"{second.pk:06d}") < page1.index(f"{third.pk:06d}")
    assert "page=2" in page1 and "sort=due" in page1
    page2 = client.get("/work/supervision/?sort=due&page=2").content.decode()
    assert numbers(page2, [second, third, first]) == [False, False, True]
    backwards = client.get("/work/supervision/?sort=-due").content.decode()
    assert backwards.index(f"{first.pk:06d}") < backwards.index(f"{third.pk:06d}")


def test_the_supervision_list_keeps_a_flat_number_of_queries(as_user, people, org, item,
                                                             django_assert_max_num_queries):
    client = as_user(people["supervisor"])
    case_for(org, item)
    client.get("/work/supervision/")
    with django_assert_max_num_queries(14) as one:
        client.get("/work/supervision/")
    for _ in range(19):
        case_for(org, item)
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get("/work/supervision/")


def test_the_csv_has_the_filtered_cases_and_no_personal_data(as_user, people, org, item):
    real = case_for(org, item, evaluator_name="张三", evaluator_phone="13912345678",
                    comment="=HYPERLINK(\"http://x\") 我的电话13912345678")
    other = case_for(org, item)
    response = as_user(people["supervisor"]).get("/work/supervision/cases.csv?real_name=1")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = response.content.decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert lines[0].startswith("案件编号,")
    assert len(lines) == 2 and lines[1].startswith(f"{real.pk:06d},") and f"{other.pk:06d}" not in body
    assert "13912345678" not in body and "张三" not in body and "HYPERLINK" not in body
    # Readable without a code table: the level's words and each label's code with its text.
    assert ",非常不满意," in lines[1] or ",不满意," in lines[1]


def test_the_figures_page_shows_rates_per_unit_and_dashes_without_denominator(as_user, people, org, item):
    case_for(org, item)
    client = as_user(people["supervisor"])
    page = client.get("/work/supervision/figures/").content.decode()
    assert "<caption>" in page and org.department.name in page
    assert "回访率" in page and "实名差评回访整改率" in page and "目标100%" in page
    # One anonymous case, nothing called back: 回访率 0.0 %, the real-name rate has no denominator.
    assert "0.0%" in page and "—" in page
    empty = client.get("/work/supervision/figures/?start=2000-01-01&end=2000-01-31").content.decode()
    assert "所选期间没有整改案件" in empty
    bad = client.get("/work/supervision/figures/?start=2026-02-01&end=2026-01-01")
    assert bad.status_code == 422 and "结束日期不能早于开始日期" in bad.content.decode()


def test_the_notices_page_lists_the_subtrees_notices(as_user, people, org, item):
    case = case_for(org, item)
    CaseNotice.objects.create(case=case, kind=CaseNotice.Kind.ESCALATION, deadline="callback",
                              due=case.callback_due, agency=org.management_agency, created_at=timezone.now())
    page = as_user(people["supervisor"]).get("/work/supervision/notices/").content.decode()
    assert "逾期上报" in page and f"{case.pk:06d}" in page and org.management_agency.name in page
    assert f"{case.pk:06d}" not in as_user(people["far_supervisor"]).get("/work/supervision/notices/").content.decode()
    reminders = as_user(people["supervisor"]).get("/work/supervision/notices/?kind=reminder").content.decode()
    assert f"{case.pk:06d}" not in reminders


# --- complaints ------------------------------------------------------------------------------------------


def test_a_supervisor_opens_a_complaint_about_a_record(as_user, people, org, item):
    record = factories.make_record(org, item)
    response = as_user(people["supervisor"]).post("/work/complaints/new/", {
        "project_no": record.project_no, "summary": "窗口人员态度生硬", "is_real_name": "on"})
    case = RectificationCase.objects.get(record=record, kind="complaint")
    assert response.status_code == 302 and response["Location"] == f"/work/cases/{case.pk}/"
    assert case.department == org.department and case.is_real_name and case.state == State.OPEN


def test_handlers_do_not_open_complaints(as_user, people):
    assert as_user(people["handler"]).get("/work/complaints/new/").status_code == 403


def test_a_complaint_about_an_unknown_record_is_refused_next_to_the_field(as_user, people):
    response = as_user(people["supervisor"]).post("/work/complaints/new/", {"project_no": "NOPE", "summary": "态度差"})
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="id_project_no_error"' in page and "没有找到这个办件编号" in page
    assert not RectificationCase.objects.exists()


def test_a_complaint_needs_a_record_or_department(as_user, people):
    response = as_user(people["supervisor"]).post("/work/complaints/new/", {"summary": "态度差"})
    assert response.status_code == 422
    assert "投诉须指明办件或被投诉部门" in response.content.decode()


def test_a_hotline_operator_opens_a_complaint_about_a_department(as_user, org):
    operator = User.objects.create(username="op1", role=Role.HOTLINE, region=org.county)
    client = as_user(operator)
    assert client.get("/work/complaints/new/").status_code == 200
    response = client.post("/work/complaints/new/", {"department": org.department.pk, "summary": "电话无人接听"})
    assert response.status_code == 302 and response["Location"] == "/work/complaints/new/"
    assert RectificationCase.objects.filter(department=org.department, kind="complaint").count() == 1
    assert client.get("/work/").status_code == 403


# --- attachments -------------------------------------------------------------------------------------------


def test_an_attachment_downloads_in_scope_and_is_404_out_of_scope(as_user, people, org, item, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = case_for(org, item)
    attachment = CaseAttachment(case=case, purpose="ledger", original_name="整改照片.pdf", size=9,
                                uploaded_at=timezone.now())
    attachment.file.save("x.pdf", ContentFile(b"%PDF-1.4\n"), save=True)
    response = as_user(people["handler"]).get(f"/work/cases/{case.pk}/files/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == b"%PDF-1.4\n"
    assert as_user(people["other_handler"]).get(f"/work/cases/{case.pk}/files/{attachment.pk}/").status_code == 404
    other = case_for(org, item)
    assert as_user(people["handler"]).get(f"/work/cases/{other.pk}/files/{attachment.pk}/").status_code == 404


@pytest.mark.parametrize("sort", ["due", "-due"])
@pytest.mark.parametrize("at", [datetime(2026, 12, 5, 10, 0), datetime(2026, 10, 5, 10, 0), datetime(2026, 12, 31, 23, 30)],
                         ids=["saturday", "national-day-week", "new-years-eve"])
def test_every_page_of_a_due_date_order_holds_the_cases_one_query_would_give(as_user, people, org, item, monkeypatch,
                                                                           sort, at):
    # The list reads the cases with a deadline and the rest apart (views.supervision.DueFirst): pages that straddle
    # the two, and each state's deadline column, must come out as ORDER BY current_due … NULLS LAST, 立案时间 would.
    from haochaping.rectification.views import supervision as views_supervision
    from haochaping.rectification.views.common import visible_cases, with_current_due

    monkeypatch.setattr(views_supervision, "PAGE_SIZE", 3)
    with time_machine.travel(at.replace(tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        today = timezone.localdate()
        cases = [case_for(org, item) for _ in range(8)]
        states = [State.OPEN, State.ANSWERED, State.CALLED_BACK, State.CLOSED, State.RECTIFYING, State.OPEN,
                  State.CLOSED, State.RECTIFYING]
        for n, (case, state) in enumerate(zip(cases, states, strict=True)):
            RectificationCase.objects.filter(pk=case.pk).update(
                state=state, callback_due=today + timedelta(days=8 - n), fix_now_due=today + timedelta(days=n + 1),
                rectify_due=today + timedelta(days=3 * n), opened_at=timezone.now() - timedelta(hours=5 * n % 7))
        # Ties broken by 立案时间 against the ids' order: the 立行立改 deadline of case 2 is case 5's callback deadline, and
        # cases 3 and 6 (no deadline) were opened in the other order than their ids.
        due = F("current_due").desc(nulls_last=True) if sort == "-due" else F("current_due").asc(nulls_last=True)
        then = ("-opened_at", "-pk") if sort == "-due" else ("opened_at", "pk")
        expected = [f"{pk:06d}" for pk in with_current_due(visible_cases(people["supervisor"])).order_by(due, *then)
                    .values_list("pk", flat=True)]
        assert len(expected) == 8
        client = as_user(people["supervisor"])
        shown = []
        for page in (1, 2, 3):
            html = client.get(f"/work/supervision/?sort={sort}&page={page}").content.decode()
            shown += sorted((n for n in expected if f">{n}<" in html), key=lambda n: html.index(f">{n}<"))
        assert shown == expected
