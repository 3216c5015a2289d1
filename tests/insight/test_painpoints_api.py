"""Pain points in the database and over real HTTP: the worker's assignments, GET /api/v1/stats/painpoints (each
problem with its evaluation ids, scoped), the page's region filter, promoting an emerging topic, and bad input
(a period with no comments, a region with a handful of reviews, a backwards period)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from haochaping.accounts.models import Role, User
from haochaping.core.models import AuditEntry
from haochaping.insight import tasks
from haochaping.insight.painpoints import Period, pain_points, services
from haochaping.insight.painpoints.models import PainPointAssignment, PainPointKind
from tests import factories
from tests.records.helpers import assert_problem

from .painpoints_fixtures import bad_review
from .test_api import client_for

pytestmark = pytest.mark.django_db

QUEUE = ["排队排了快三个钟头", "取了号前面还有九十多人", "等叫号等到中午也没轮到", "排长队，站得腿都酸了",
         "一上午都耗在排队上"]
HOTLINE = ["咨询热线怎么都打不通", "热线电话一直打不通", "打了二十次热线都打不通", "热线打不通，只能跑现场",
           "热线永远打不通", "热线电话根本打不通啊"]


@pytest.fixture(autouse=True)
def _no_cached_analysis():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def data(org, item):
    other = factories.department(org.other_county, "市中区人社局")
    there = factories.make_item(org, department=other, region=org.other_county)
    mine = [bad_review(org, item, comment=c, phone="13912345678", name="张三") for c in QUEUE]
    mine.append(bad_review(org, item, comment="", labels=["110"]))  # no comment: counted, never classified
    theirs = [bad_review(org, there, comment="工作人员态度很凶，问两句就不耐烦", department=other)]
    assert tasks.assign_pain_points.call() == 6  # the periodic task, run as the worker runs it
    assert tasks.assign_pain_points.call() == 0  # nothing left to do
    return {"mine": mine, "theirs": theirs, "other": other}


def test_the_worker_stores_one_assignment_per_commented_bad_review(data):
    rows = {a.evaluation_id: a for a in PainPointAssignment.objects.all()}
    assert set(rows) == {e.pk for e in data["mine"] if e.comment} | {data["theirs"][0].pk}
    assert {rows[e.pk].kind for e in data["mine"] if e.comment} == {"queue"}
    assert rows[data["theirs"][0].pk].kind == "attitude"
    assert all(0.2 <= a.confidence <= 1 and len(a.vector) == 384 * 2 for a in rows.values())


@pytest.mark.django_db(transaction=True)
def test_the_api_lists_each_problem_with_its_evaluation_ids_in_scope(live_server, org, data):
    supervisor = User.objects.create(username="s1", role=Role.SUPERVISOR, region=org.county)
    with client_for(live_server, user=supervisor) as http:
        body = http.get("/api/v1/stats/painpoints").json()
    assert body["reviews"] == 6 and body["pending"] == 0 and body["unclassified"] == 0
    (queue,) = body["problems"]
    assert (queue["code"], queue["name"], queue["emerging"], queue["count"]) == ("queue", "排队等候时间长", False, 5)
    assert queue["share"] == pytest.approx(5 / 6, abs=1e-4)
    assert queue["evaluation_ids"] == sorted(e.pk for e in data["mine"] if e.comment)
    assert queue["units"] == [{"id": org.department.pk, "name": org.department.name, "count": 5}]
    # Nothing of the other county, whose attitude review is assigned too.
    assert data["theirs"][0].pk not in {i for p in body["problems"] for i in p["evaluation_ids"]}
    # No personal data in the answer.
    assert "13912345678" not in str(body) and "张三" not in str(body)


@pytest.mark.django_db(transaction=True)
def test_bad_periods_are_problem_documents_naming_the_field(live_server, org, data):
    supervisor = User.objects.create(username="s1", role=Role.SUPERVISOR, region=org.county)
    today = timezone.localdate()
    with client_for(live_server, user=supervisor) as http:
        assert_problem(http.get("/api/v1/stats/painpoints", params={"from": today.isoformat(),
                                                                   "to": (today - timedelta(days=3)).isoformat()}),
                       422, "from")
        assert_problem(http.get("/api/v1/stats/painpoints", params={"from": (today - timedelta(days=900)).isoformat(),
                                                                   "to": today.isoformat()}), 422, "to")
        # A period with no reviews at all: an empty answer, not an error.
        empty = http.get("/api/v1/stats/painpoints", params={"from": "2020-01-01", "to": "2020-01-31"}).json()
        assert (empty["reviews"], empty["problems"]) == (0, [])


def test_a_handful_of_reviews_gives_its_kinds_but_no_emerging_topic(org, item):
    for c in HOTLINE[:2]:
        bad_review(org, item, comment=c)
    services.assign_pending()
    root = User.objects.create(username="root", is_superuser=True)
    result = pain_points(root, Period.last_months(1))
    assert result.reviews == 2 and result.emerging == ()
    assert sum(t.size for t in result.topics) + result.unclassified == 2


def test_unclassified_comments_form_an_emerging_topic_a_supervisor_promotes(org, item, monkeypatch):
    # Force the threshold up so these (hotline) comments fit no kind, as comments of a new problem would.
    from haochaping.insight.painpoints import classify

    monkeypatch.setattr(classify, "THRESHOLD", 1.01)
    for c in HOTLINE:
        bad_review(org, item, comment=c)
    services.assign_pending()
    supervisor = User.objects.create(username="s1", role=Role.SUPERVISOR, region=org.county)
    result = pain_points(supervisor, Period.last_months(1))
    (topic,) = result.emerging
    assert topic.size == 6 and topic.share == 1.0 and any("热线" in t or "打不通" in t for t in topic.terms)
    client = Client()
    client.force_login(supervisor)
    page = client.get(reverse("insight:painpoints")).content.decode()
    assert "新出现" in page and "新增为问题分类" in page
    r = client.post(reverse("insight:promote_kind"), {
        "code": "hotline", "name": "咨询电话打不通", "definition": "咨询、投诉电话长期无人接听。",
        "examples": "\n".join(HOTLINE[:3]),
    })
    assert r.status_code == 302
    kind = PainPointKind.objects.get(code="hotline")
    assert kind.created_by == supervisor.username
    assert AuditEntry.objects.filter(action="painpoints.kind.promote", object_id=str(kind.pk)).exists()
    # Everything is classified again, now with the new kind among the candidates.
    monkeypatch.setattr(classify, "THRESHOLD", 0.2)
    assert services.assign_pending() == 6
    cache.clear()
    after = pain_points(supervisor, Period.last_months(1))
    assert [(t.code, t.name) for t in after.kinds][0] == ("hotline", "咨询电话打不通")
    # A code or name taken, or too few examples: refused, nothing written.
    r = client.post(reverse("insight:promote_kind"), {"code": "queue", "name": "x", "examples": "a\nb"}, follow=True)
    assert "问题类型代码已存在" in r.content.decode() and PainPointKind.objects.count() == 1


def test_only_supervisors_promote(org, item):
    handler = User.objects.create(username="h1", role=Role.HANDLER, region=org.county, department=org.department)
    client = Client()
    client.force_login(handler)
    r = client.post(reverse("insight:promote_kind"), {"code": "hotline", "name": "n", "examples": "a\nb"})
    assert r.status_code in (403, 404) and not PainPointKind.objects.exists()


def test_the_page_filters_by_region_and_shows_the_taxonomy(org, item, data):
    supervisor = User.objects.create(username="s9", role=Role.SUPERVISOR, region=org.city)
    client = Client()
    client.force_login(supervisor)
    page = client.get(reverse("insight:painpoints")).content.decode()
    assert "排队等候时间长" in page and "服务态度差" in page and "<code>materials</code>" in page
    # The date boxes show the period analysed (the default six months), not empty boxes.
    default = Period.last_months(6)
    assert f'name="start" value="{default.start.isoformat()}"' in page
    assert f'name="end" value="{default.end.isoformat()}"' in page
    narrowed = client.get(reverse("insight:painpoints"), {"region": org.other_county.code}).content.decode()
    assert "服务态度差" in narrowed and "问题1：排队等候时间长" not in narrowed
    assert f'name="start" value="{default.start.isoformat()}"' in narrowed
    bad = client.get(reverse("insight:painpoints"), {"region": "12x"})
    assert bad.status_code == 200 and "地区代码应为6、9或12位数字" in bad.content.decode()
    assert "13912345678" not in page and "张三" not in page


def test_a_neutral_review_reporting_a_problem_is_shown_beside_it_not_counted_in_it(org, item):
    for c in QUEUE[:3]:
        bad_review(org, item, comment=c)
    neutral = bad_review(org, item, comment="总体还行，就是排队排了一个多小时", level=3)
    bad_review(org, item, comment="挺好的，谢谢", level=3)  # no complaint: shown nowhere
    bad_review(org, item, comment="排队排了两个小时", level=4)  # 满意: not read at all
    assert services.assign_pending() == 5
    root = User.objects.create(username="root", is_superuser=True)
    result = pain_points(root, Period.last_months(1))
    (queue,) = [t for t in result.kinds if t.code == "queue"]
    assert result.reviews == 3 and queue.size == 3 and queue.neutral_ids == (neutral.pk,)
    client = Client()
    client.force_login(User.objects.create(username="s1", role=Role.SUPERVISOR, region=org.county))
    assert "另有 1 条“基本满意”评价" in client.get(reverse("insight:painpoints")).content.decode()
