"""Pain-point snapshots (issue 14): the worker analyses the page's default view of each whole-region scope and the
page reads that row instead of the 差评. The snapshot must be the live analysis, the page must not read the
evaluations for it, it must move on when the worker runs again, and a supervisor must only ever get their own
scope's snapshot."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from haochaping.accounts.models import User
from haochaping.accounts.roles import Role
from haochaping.insight import rollups, tasks
from haochaping.insight.painpoints import (
    analysis,
    pain_points,
    services,
    snapshots,
)
from haochaping.insight.painpoints.choices import filter_choices, region_choices
from haochaping.insight.painpoints.models import PainPointSnapshot
from tests import factories

from .painpoints_fixtures import THEMES, bad_review, ensure_labels

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 7, 15, 10, 0, tzinfo=SH)  # the default period: 2026-02-01 … 2026-07-15
URL = "/insight/painpoints/"


@pytest.fixture(autouse=True)
def _frozen():
    cache.clear()
    with time_machine.travel(NOW, tick=False):
        yield
    cache.clear()


@pytest.fixture
def data(org, item):
    """Bad reviews of three themes in the county (over three months), one in the other county, a 差评 outside the
    default period; classified by the worker and counted by the counters, as in production."""
    ensure_labels()
    far_dept = factories.department(org.other_county, "市中区人社局")
    for i, (theme, comments) in enumerate(THEMES.items()):
        for j, comment in enumerate(comments * 2):
            bad_review(org, item, comment=comment, labels=["109"] if theme == "queue" else [],
                       when=datetime(2026, 5 + (i + j) % 3, 3 + j, 9, 0, tzinfo=SH))
    bad_review(org, item, comment="市中区的公积金提取要求开具奇怪的证明", department=far_dept,
               when=datetime(2026, 6, 2, 9, 0, tzinfo=SH))
    bad_review(org, item, comment="去年的排队问题", when=datetime(2025, 12, 20, 9, 0, tzinfo=SH))
    for day in (4, 5):  # 基本满意, but the comment reports a problem: shown beside it, not counted
        bad_review(org, item, comment="总体还行，就是排队等了一个多小时", level=3,
                   when=datetime(2026, 6, day, 9, 0, tzinfo=SH))
    services.assign_pending()
    rollups.rebuild()
    return far_dept


@pytest.fixture
def users(org):
    return {
        "province": User.objects.create(username="sup-p", role=Role.SUPERVISOR, region=org.province),
        "county": User.objects.create(username="sup-c", role=Role.SUPERVISOR, region=org.county),
        "far": User.objects.create(username="sup-f", role=Role.SUPERVISOR, region=org.other_county),
        "handler": User.objects.create(username="handler", role=Role.HANDLER, region=org.county,
                                       department=org.department),
    }


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def summary_count(html: str) -> int:
    head = html.split("差评 <strong>", 1)[1]
    return int(head.split("</strong>", 1)[0])


def test_the_snapshot_is_the_live_analysis(data, users):
    assert tasks.build_pain_point_snapshots.call() == 4  # everything + the three supervisors' regions
    period = snapshots.default_period()
    for user in (users["province"], users["county"], users["far"]):
        snap = snapshots.read(user, period, with_ids=True)
        assert snap is not None
        assert snap.result == analysis(user, period) == pain_points(user, period)
        # What the page reads: the same without the topics' evaluation ids (it shows how many).
        page = snapshots.read(user, period).result
        assert page == replace(snap.result, topics=tuple(replace(t, ids=(), neutral_ids=()) for t in snap.result.topics))
        assert (snap.items, snap.units) == filter_choices(user, period)
        assert snap.regions == region_choices(user, period)
    county = snapshots.read(users["county"], period).result
    assert county.reviews == 30 and {t.code for t in county.kinds} >= {"queue"} and county.labels[0].code == "109"
    queue = next(t for t in county.kinds if t.code == "queue")
    assert queue.neutral == 2 and queue.ids == ()


def test_the_page_serves_the_snapshot_without_reading_the_evaluations(data, users):
    services.build_snapshots()
    client = client_for(users["county"])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert summary_count(html) == 30 and "排队等候时间长" in html
    assert "分析时间：2026-07-15 10:00，每15分钟更新" in html
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in sql if "evaluation_evaluation" in s or "insight_painpointassignment" in s], sql
    snapshot_reads = [s for s in sql if "insight_painpointsnapshot" in s]
    assert len(snapshot_reads) == 1 and '"insight_painpointsnapshot"."ids"' not in snapshot_reads[0]
    assert "另有 2 条“基本满意”评价" in html


def test_without_a_snapshot_the_page_analyses_once_and_stores_it(data, users):
    assert not PainPointSnapshot.objects.exists()
    first = client_for(users["county"]).get(URL).content.decode()
    assert PainPointSnapshot.objects.filter(scope="370102").count() == 1
    with CaptureQueriesContext(connection) as queries:
        second = client_for(users["county"]).get(URL).content.decode()
    assert summary_count(first) == summary_count(second) == 30
    assert not [q for q in queries.captured_queries if "evaluation_evaluation" in q["sql"]]


def test_a_new_bad_review_appears_after_the_worker_runs_again(org, item, data, users):
    services.build_snapshots()
    client = client_for(users["county"])
    assert summary_count(client.get(URL).content.decode()) == 30
    with time_machine.travel(datetime(2026, 7, 15, 10, 5, tzinfo=SH), tick=False):
        bad_review(org, item, comment="大厅空调坏了，热得受不了")
        services.assign_pending()
        rollups.rebuild()
        # Minutes old: until the worker runs, the page shows the snapshot (and says when it was computed).
        html = client.get(URL).content.decode()
        assert summary_count(html) == 30 and "分析时间：2026-07-15 10:00" in html
    with time_machine.travel(datetime(2026, 7, 15, 10, 15, tzinfo=SH), tick=False):
        tasks.build_pain_point_snapshots.call()
        html = client.get(URL).content.decode()
    assert summary_count(html) == 31 and "分析时间：2026-07-15 10:15" in html
    assert PainPointSnapshot.objects.filter(scope="370102").count() == 1  # replaced, not added


def test_a_county_supervisor_never_sees_another_countys_snapshot(data, users):
    services.build_snapshots()
    far = client_for(users["far"]).get(URL).content.decode()
    assert summary_count(far) == 1 and "公积金提取" in far
    county = client_for(users["county"]).get(URL).content.decode()
    comments = {c for theme in THEMES.values() for c in theme}
    assert not [c for c in comments if c in far]
    assert summary_count(county) == 30 and "公积金提取" not in county and [c for c in comments if c in county]
    province = client_for(users["province"]).get(URL).content.decode()
    assert summary_count(province) == 31
    # The other county's row is never read for this one, whatever is stored.
    assert snapshots.read(users["far"], snapshots.default_period()).result.reviews == 1


def test_narrow_scopes_and_filters_stay_live(data, users, org):
    services.build_snapshots()
    stored = PainPointSnapshot.objects.count()
    handler = client_for(users["handler"]).get(URL)
    assert handler.status_code == 200 and "分析时间" not in handler.content.decode()
    assert snapshots.scope_of(users["handler"]) is None and PainPointSnapshot.objects.count() == stored
    # An explicit filter is analysed live (the snapshot is the unfiltered view).
    html = client_for(users["province"]).get(URL, {"region": org.other_county.pk}).content.decode()
    assert summary_count(html) == 1 and "分析时间" not in html


def test_a_new_day_or_a_promoted_kind_is_never_served_an_older_snapshot(data, users):
    services.build_snapshots()
    with time_machine.travel(datetime(2026, 7, 16, 8, 0, tzinfo=SH), tick=False):
        assert snapshots.read(users["county"], snapshots.default_period()) is None
        html = client_for(users["county"]).get(URL).content.decode()
        assert "分析时间：2026-07-16 08:00" in html
        services.build_snapshots()  # and the worker drops the older periods
        assert set(PainPointSnapshot.objects.values_list("period_end", flat=True)) == {datetime(2026, 7, 16).date()}
    services.promote_topic(code="aircon", name="空调故障", definition="", examples=["空调坏了", "大厅太热"],
                           actor=users["province"])
    assert snapshots.read(users["county"], snapshots.default_period()) is None
