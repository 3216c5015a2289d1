"""The 差评痛点 pages with Django's test client: who may see them, what they show (and never show), and a
supervisor turning a topic into a 集中问题."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from haochaping.accounts.models import User
from haochaping.accounts.roles import Role
from haochaping.insight.painpoints import services
from haochaping.rectification.models import RectificationCase
from tests import factories

from .painpoints_fixtures import THEMES, bad_review

pytestmark = pytest.mark.django_db

URL = "/insight/painpoints/"
NAMES = ("欧阳娜娜", "司马相如", "诸葛孔明")
PHONES = ("13911112222", "13833334444", "13755556666")


@pytest.fixture(autouse=True)
def _no_cached_analysis():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def reviews(org, item):
    """Bad reviews on the org's department (three themes) and one on another department, all with evaluators'
    names and phones."""
    out = []
    for i, (theme, comments) in enumerate(THEMES.items()):
        for j, comment in enumerate(comments * 2):
            out.append(bad_review(org, item, comment=comment, labels=["109"] if theme == "queue" else [],
                                  name=NAMES[i], phone=PHONES[i], agency=org.agency if j % 2 else None))
    other = factories.department(org.county, "历下区人社局")
    out.append(bad_review(org, item, comment="社保卡补办要求开具奇怪的证明", department=other, name="上官婉儿",
                          phone="13600007777"))
    # A contact typed into the comment itself.
    out.append(bad_review(org, item, comment="工作人员态度差，有事请打13512340000", name="独孤求败"))
    services.assign_pending()  # the worker's periodic task
    return other, out


@pytest.fixture
def users(org):
    def make(name, role, **kw):
        return User.objects.create(username=name, role=role, region=org.county, **kw)

    return {
        "handler": make("handler-1", Role.HANDLER, department=org.department),
        "supervisor": make("sup-1", Role.SUPERVISOR),
        "far_supervisor": User.objects.create(username="sup-2", role=Role.SUPERVISOR, region=org.other_county),
        "staff": make("staff-1", Role.STAFF, staff=org.staff),
        "hotline": make("hotline-1", Role.HOTLINE),
    }


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_anonymous_visitors_are_sent_to_sign_in():
    response = Client().get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("role", ["staff", "hotline"])
def test_other_roles_may_not_use_it(users, reviews, role):
    response = client_for(users[role]).get(URL)
    assert response.status_code == 403
    assert "窗口排队" not in response.content.decode()


def test_a_supervisor_sees_topics_examples_labels_and_trend_without_personal_data(users, reviews):
    response = client_for(users["supervisor"]).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "差评痛点分析" in html and "集中反映的问题" in html
    assert "窗口排队时间太长" in html or "排队" in html
    assert "需提供办事指南之外的申报材料" in html  # the label table
    assert "问题趋势" in html and "<meter" in html
    assert html.count("列为集中问题</button>") >= 2
    for secret in (*NAMES, *PHONES, "上官婉儿", "13600007777", "独孤求败", "13512340000"):
        assert secret not in html, secret
    # Not even partly: no 11-digit run survives anywhere on the page.
    assert not re.search(r"1[3-9]\d{9}", html)


def test_a_handler_sees_only_their_units_comments_and_cannot_open_focus_issues(users, reviews):
    response = client_for(users["handler"]).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "社保卡补办" not in html and "历下区人社局" not in html
    assert "列为集中问题</button>" not in html
    refused = client_for(users["handler"]).post(reverse("insight:focus_issue"), {
        "t1-summary": "x", "t1-department": users["handler"].department_id, "t1-topic": 1})
    assert refused.status_code == 403
    assert not RectificationCase.objects.filter(kind="focus_issue").exists()


def test_a_far_supervisor_sees_none_of_it(users, reviews):
    html = client_for(users["far_supervisor"]).get(URL).content.decode()
    assert "窗口排队" not in html and "系统卡顿" not in html and "差评 <strong>0</strong> 条" in html


def test_filters_by_unit_and_rejects_a_backwards_period(users, reviews):
    other, _ = reviews
    html = client_for(users["supervisor"]).get(URL, {"unit": other.pk}).content.decode()
    assert "差评 <strong>1</strong> 条" in html
    html = client_for(users["supervisor"]).get(URL, {"start": "2026-05-01", "end": "2026-01-01"}).content.decode()
    assert "结束日期不能早于开始日期" in html


def test_same_named_items_are_told_apart_and_a_dashboards_dates_are_read(users, reviews, org, item):
    there = factories.department(org.other_county, "市中区市场监督管理局")
    twin = factories.make_item(org, name=item.name, region=org.other_county, department=there)
    bad_review(org, twin, comment="营业执照办了一个月", department=there)
    from haochaping.insight.rollups import rebuilding

    rebuilding.rebuild()  # the fixture writes evaluations by hand; whole-region choices come from the counters
    city = client_for(User.objects.create(username="sup-city", role=Role.SUPERVISOR, region=org.city))
    html = city.get(URL).content.decode()
    assert f">{item.name}（{org.county.name}）（" in html and f">{item.name}（{org.other_county.name}）（" in html
    # The dashboard's from/to (a link carrying its range) are this page's period, not silently ignored.
    backwards = city.get(URL, {"from": "2026-05-01", "to": "2026-01-01"}).content.decode()
    assert "结束日期不能早于开始日期" in backwards


def _topic_form(html: str) -> dict:
    """The first topic's form fields as the page pre-fills them."""
    summary = re.search(r'<textarea name="(t\d+)-summary"[^>]*>\s*([^<]*)</textarea>', html)
    prefix = summary.group(1)
    department = re.search(rf'<select name="{prefix}-department"[^>]*>.*?<option value="(\d+)" selected>', html, re.S)
    return {f"{prefix}-summary": summary.group(2).strip(), f"{prefix}-department": department.group(1),
            f"{prefix}-topic": prefix[1:]}


def test_a_supervisor_turns_a_topic_into_a_focus_issue(users, reviews, org):
    client = client_for(users["supervisor"])
    html = client.get(URL).content.decode()
    data = _topic_form(html)
    assert data[next(k for k in data if k.endswith("-summary"))].startswith("差评集中反映")
    response = client.post(reverse("insight:focus_issue") + "?start=2026-01-01", data)
    assert response.status_code == 302 and response["Location"].endswith("#focus-issues")
    case = RectificationCase.objects.get(kind="focus_issue")
    assert case.department_id == int(next(v for k, v in data.items() if k.endswith("-department")))
    page = client.get(response["Location"]).content.decode()
    assert "已列为集中问题" in page and f"{case.pk:06d}" in page and "未办结的集中问题" in page
    assert case.rectify_due.isoformat() in page
    # Closed, it leaves the list.
    RectificationCase.objects.filter(pk=case.pk).update(state="closed")
    assert f"{case.pk:06d}" not in client.get(URL).content.decode()


def test_refused_focus_issues_show_the_error_next_to_the_field(users, reviews, org):
    client = client_for(users["supervisor"])
    data = _topic_form(client.get(URL).content.decode())
    prefix = next(iter(data)).split("-")[0]
    empty = client.post(reverse("insight:focus_issue"), {**data, f"{prefix}-summary": "  "})
    assert empty.status_code == 422 and "请填写问题概述" in empty.content.decode()
    far_department = factories.department(org.other_county, "市中区市场监管局")
    outside = client.post(reverse("insight:focus_issue"), {**data, f"{prefix}-department": far_department.pk})
    assert outside.status_code == 422
    assert "选择一个有效的选项" in outside.content.decode() or "监督范围" in outside.content.decode()
    assert not RectificationCase.objects.filter(kind="focus_issue").exists()


def test_the_page_works_with_labels_only(users, org, item):
    bad_review(org, item, comment="", labels=["110"])
    html = client_for(users["supervisor"]).get(URL).content.decode()
    assert "本期间没有可归纳的文字评价" in html and "无理由超过法定办理时间" in html
