"""What the dashboard pages read (issue 14: flat at 10^7 evaluations): a region-wide page reads only the summary
counters — never the evaluations, their labels or the fine per-day counters — and the evaluations list counts its
rows from the counters instead of COUNT(*) over the evaluations. The charts fed by RegionDayMix show what the
evaluations themselves say."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from haochaping.accounts.roles import Role
from haochaping.insight import metrics, rollups
from haochaping.insight.models import RegionDayMix

from .test_dashboard import client_for, last_30_days, make, world  # noqa: F401 (world is a fixture)

pytestmark = pytest.mark.django_db

SCANS = re.compile(r'\b(FROM|JOIN)\s+"(evaluation_evaluation|evaluation_evaluation_labels|insight_dailycounter)"')


def _tables_read(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return [q["sql"] for q in ctx.captured_queries if SCANS.search(q["sql"])]


@pytest.mark.parametrize("url", [
    "/insight/?period=month", "/insight/?period=last_month", "/insight/?period=year",
    "/insight/?period=month&region=370102", "/insight/?period=year&department={dept}",
])
def test_region_wide_pages_read_no_evaluations_and_no_fine_counters(org, world, url):  # noqa: F811
    supervisor = make(Role.SUPERVISOR, region=org.province)
    url = url.format(dept=org.department.credit_code)
    assert _tables_read(client_for(supervisor), url) == []


def test_evaluations_list_counts_from_the_counters_not_the_evaluations(org, world):  # noqa: F811
    supervisor = make(Role.SUPERVISOR, region=org.province)
    with CaptureQueriesContext(connection) as ctx:
        response = client_for(supervisor).get("/insight/evaluations/?period=month")
    assert response.status_code == 200
    counts = [q["sql"] for q in ctx.captured_queries
              if re.search(r'COUNT\(', q["sql"]) and '"evaluation_evaluation"' in q["sql"].split("WHERE")[0]]
    assert counts == []
    stats = metrics.figures(supervisor, last_30_days())
    # The count shown is the number of evaluations in the list (13 in the fixture, every part).
    assert f"共 {stats.total.tally.total} 条" in response.content.decode()
    assert stats.total.tally.total == metrics.evaluations(supervisor, last_30_days()).count() == 13


def test_channel_and_label_charts_from_the_mix_equal_the_evaluations(org, world):  # noqa: F811
    supervisor = make(Role.SUPERVISOR, region=org.province)
    handler = make(Role.HANDLER, region=org.county, department=org.department)
    flt = last_30_days()
    # The supervisor's question is answered from RegionDayMix; a handler's from the fine counters and the 差评.
    assert metrics._mix(supervisor, flt, "label") is not None and metrics._mix(handler, flt, "label") is None
    flt_dept = metrics.StatsFilter(date_from=flt.date_from, date_to=flt.date_to, departments=frozenset({org.department.pk}))
    assert metrics.bad_review_labels(supervisor, flt_dept) == metrics.bad_review_labels(handler, flt)
    assert metrics.bad_review_labels(supervisor, flt_dept)  # the fixture's valid 差评 have labels
    by_channel = {g.key: g.tally.valid for g in metrics.figures(supervisor, flt, group_by="channel").groups if g.tally.valid}
    assert {r.code: r.count for r in metrics.channel_counts(supervisor, flt)} == by_channel


def test_rebuild_recreates_the_mix_and_finds_it_in_step(org, world):  # noqa: F811
    before = set(RegionDayMix.objects.exclude(count=0).values_list("day", "region", "department", "kind", "key", "count"))
    assert before and rollups.rebuild(apply=False).agrees
    RegionDayMix.objects.filter(kind="label").delete()
    assert rollups.rebuild(apply=False).wide_differing > 0
    rollups.rebuild()
    after = set(RegionDayMix.objects.exclude(count=0).values_list("day", "region", "department", "kind", "key", "count"))
    assert after == before


def test_the_check_sees_a_scan_when_there_is_one(org, world):  # noqa: F811
    # A handler's page (scoped to one department's halls) still reads the fine counters and the 差评: the check
    # above would see it.
    handler = make(Role.HANDLER, region=org.county, department=org.department)
    read = _tables_read(client_for(handler), "/insight/?period=month")
    assert any("insight_dailycounter" in sql for sql in read)
    assert any("evaluation_evaluation_labels" in sql for sql in read)


def test_pain_points_page_reads_only_its_snapshot_and_a_new_bad_review_shows_after_the_worker_runs(org, item, world):  # noqa: F811
    from haochaping.insight import tasks

    from .helpers import completed_record, rate

    def bad_reviews_shown(client) -> int:
        html = client.get("/insight/painpoints/").content.decode()
        return int(html.split("差评 <strong>", 1)[1].split("</strong>", 1)[0])

    supervisor = make(Role.SUPERVISOR, region=org.province)
    client = client_for(supervisor)
    before = bad_reviews_shown(client)  # no snapshot yet: analysed once, stored
    assert _tables_read(client, "/insight/painpoints/") == []
    rate(completed_record(org, item), 1, channel="pc")  # a new 差评: on the page after the worker's next run
    assert _tables_read(client, "/insight/painpoints/") == [] and bad_reviews_shown(client) == before
    tasks.build_pain_point_snapshots.call()
    assert _tables_read(client, "/insight/painpoints/") == [] and bad_reviews_shown(client) == before + 1
