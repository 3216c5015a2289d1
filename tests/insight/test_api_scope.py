"""The aggregate routes (/api/v1/stats, /stats/rankings, /stats/coverage, /stats/painpoints) against the scope matrix's world: every
key and person sees figures of exactly the evaluations and 办件 in their scope; filters narrow, never widen.
(tests/scope/test_api_matrix.py lists these routes as aggregates scoped here.)"""

from __future__ import annotations

import pytest

from haochaping.insight import rollups
from tests.scope.test_api_matrix import AGGREGATE, EXPECTED, client_for, get_routes
from tests.scope.world import build_world

pytestmark = pytest.mark.django_db(transaction=True)

@pytest.fixture
def world(db):
    w = build_world()
    rollups.rebuild()  # the world writes its evaluations directly, bypassing the receivers
    return w


def test_the_matrix_leaves_exactly_the_stats_routes_to_this_file():
    assert {r for r in get_routes() if r.startswith("/api/v1/stats")} == AGGREGATE


def test_every_caller_gets_figures_of_exactly_their_scope(live_server, world, settings):
    settings.HAOCHAPING_RANKING_MIN_SAMPLE = 1
    for actor, expected in EXPECTED[type(world.a.evaluations[0])].items():
        visible = [(c, i) for c in "AB" for i in expected.get(c, ())]
        evaluations = [(world.a if c == "A" else world.b).evaluations[i] for c, i in visible]
        with client_for(world, live_server, actor) as http:
            total = http.get("/api/v1/stats").json()["total"]
            assert total["total"] == len(evaluations), actor
            assert total["completed"] == len(evaluations), actor  # one completed 办件 per evaluation here
            by_region = {g["key"]: g["total"] for g in http.get("/api/v1/stats", params={"group_by": "region"}).json()["groups"]}
            assert sum(by_region.values()) == len(evaluations), actor
            ranked = http.get("/api/v1/stats/rankings", params={"by": "staff"}).json()
            listed = {row["key"] for row in ranked["ranked"] + ranked["apart"]}
            assert listed == {ev.staff.staff_no for ev in evaluations if ev.staff_id}, actor
            cov = http.get("/api/v1/stats/coverage", params={"of": "item"}).json()
            assert cov["active"] == len({ev.item_id for ev in evaluations}), actor
            # Pain points: the bad reviews in scope, and only their ids.
            pains = http.get("/api/v1/stats/painpoints").json()
            bad = {ev.pk for ev in evaluations if ev.is_bad}
            assert pains["reviews"] == len(bad), actor
            assert {i for p in pains["problems"] for i in p["evaluation_ids"]} <= bad, actor


def test_filters_naming_another_county_give_nothing(live_server, world):
    b = world.b
    with client_for(world, live_server, "key_a") as http:
        for params in ({"region_code": b.region.code}, {"department": b.departments[0].credit_code},
                       {"staff_no": b.staff[0].staff_no}, {"item": b.items[0].implementation_code},
                       {"agency": b.agency.code}, {"platform": b.platform.code}):
            body = http.get("/api/v1/stats", params={**params, "group_by": "department"}).json()
            assert (body["total"]["total"], body["total"]["completed"], body["groups"]) == (0, 0, []), params
            assert http.get("/api/v1/stats/coverage", params={**params, "of": "window"}).json()["active"] == 0
            pains = http.get("/api/v1/stats/painpoints", params=params).json()
            assert (pains["reviews"], pains["problems"]) == (0, []), params
