"""Every GET route of the API, over real HTTP, against keys and signed-in people of both counties: lists, totals
and details show exactly what the caller's scope holds, and a row out of scope answers the same 404 as a row that
does not exist.

The routes are enumerated from the API itself, so a route added later fails here until it is in the matrix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest
from django.conf import settings
from django.test import Client

from haochaping.api import api
from haochaping.evaluation.models import Evaluation
from haochaping.records.models import ServiceRecord
from haochaping.rectification.models import Appeal, CaseAttachment, RectificationCase
from haochaping.supervision.models import Appraisal, Assessment, CallbackItem, Commission, Survey

pytestmark = pytest.mark.django_db(transaction=True)

# Public by design, and why: the label dictionary and level names are published national standards; a receipt is
# looked up by its unguessable code, which only the evaluator holds (R8.1).
# The health endpoint says whether the database answers and how far reporting upward lags (numbers, no rows).
PUBLIC = {"/api/v1/labels", "/api/v1/levels", "/api/v1/evaluations/receipt/{code}", "/api/v1/health",
          # The verifiable log is public by design: leaves carry no personal data (docs/verifiable-log.md).
          "/api/v1/log/checkpoints", "/api/v1/log/checkpoints/latest", "/api/v1/log/checkpoints/{tree_size}",
          "/api/v1/log/inclusion-proofs/{leaf_index}", "/api/v1/log/consistency-proofs", "/api/v1/log/leaves"}
# An upper node's answers to its lower nodes: only a key registered as a lower node gets them, and only for its own
# region (tests/exchange/test_upper_node.py: counts and reports of another region are not served).
NODE_ONLY = {"/api/v1/exchange/counts", "/api/v1/exchange/reports", "/api/v1/exchange/reports/{report_id}/pdf"}
# Figures over many rows (no row identifiers to list or look up): scoped per caller in tests/insight/test_api_scope.py.
AGGREGATE = {"/api/v1/stats", "/api/v1/stats/rankings", "/api/v1/stats/coverage", "/api/v1/stats/painpoints"}


@dataclass(frozen=True)
class Route:
    model: type
    kind: str  # "list", "detail", "figures" (counts of the rows in scope), "file" (a download), "rows" (one
    # unpaged answer: items and total), "unit-figures" (callback figures per unit: sampled adds up to the rows)
    key: str  # the row's identifier in the response / the path
    missing: str  # an identifier no row has
    params: tuple = ()  # query parameters the route needs
    keys: bool = True  # False: signed-in people only, a key is not authenticated (401)
    expect: str | None = None  # the EXPECTED entry when it is not the model's


JANUARY = (("from", "2026-01-01"), ("to", "2026-01-31"))


ROUTES = {
    "/api/v1/records": Route(ServiceRecord, "list", "project_no", ""),
    "/api/v1/records/{project_no}": Route(ServiceRecord, "detail", "project_no", "P9999999999"),
    "/api/v1/evaluations": Route(Evaluation, "list", "id", ""),
    "/api/v1/evaluations/{evaluation_id}": Route(Evaluation, "detail", "id", "987654321"),
    "/api/v1/cases": Route(RectificationCase, "list", "id", ""),
    "/api/v1/cases/{case_id}": Route(RectificationCase, "detail", "id", "987654321"),
    "/api/v1/cases/figures": Route(RectificationCase, "figures", "id", ""),
    "/api/v1/appeals": Route(Appeal, "list", "id", ""),
    "/api/v1/appeals/{appeal_id}": Route(Appeal, "detail", "id", "987654321"),
    "/api/v1/cases/{case_id}/files/{file_id}": Route(CaseAttachment, "file", "id", "987654321"),
    "/api/v1/surveys": Route(Survey, "list", "id", ""),
    "/api/v1/surveys/{survey_id}/results": Route(Survey, "detail", "id", "987654321"),
    "/api/v1/callbacks": Route(CallbackItem, "list", "id", "", keys=False),
    "/api/v1/callbacks/{item_id}": Route(CallbackItem, "detail", "id", "987654321", keys=False),
    "/api/v1/callbacks/figures": Route(CallbackItem, "unit-figures", "id", "", params=JANUARY, expect="callback-figures"),
    "/api/v1/assessments/commissions": Route(Commission, "list", "id", "", keys=False),
    "/api/v1/assessments": Route(Assessment, "list", "id", "", keys=False),
    "/api/v1/assessments/{assessment_id}": Route(Assessment, "detail", "id", "987654321", keys=False),
    "/api/v1/appraisal": Route(Appraisal, "rows", "id", "", params=JANUARY),
}

# Which of each county's three 办件 (and their evaluations) an actor sees: rec 0 is department 1 at the hall,
# rec 1 department 2 at the hall, rec 2 department 1 online. None: the actor may not read the route at all (403).
ALL = {"A": {0, 1, 2}, "B": {0, 1, 2}}
ONLY_A = {"A": {0, 1, 2}, "B": set()}
EXPECTED = {
    ServiceRecord: {
        "key_a": ONLY_A, "sup_a": ONLY_A, "admin_a": ONLY_A,
        "handler_dept": {"A": {0, 2}, "B": set()}, "handler_agency": {"A": {0, 1}, "B": set()}, "staff_a": None,
        "sup_city": ALL, "key_all": ALL, "superuser": ALL,
    },
    Evaluation: {
        "key_a": ONLY_A, "sup_a": ONLY_A, "admin_a": ONLY_A,
        "handler_dept": {"A": {0, 2}, "B": set()}, "handler_agency": {"A": {0, 1}, "B": set()},
        "staff_a": {"A": {0}, "B": set()},
        "sup_city": ALL, "key_all": ALL, "superuser": ALL,
    },
    # Each county's two cases (world.py): 0 is department 1's at window 1, 1 department 2's at window 2, both in
    # the hall. Administrators and staff have no business with cases (403).
    # Case 2 is the county's 综合点评 complaint about department 0 (world._supervision_rows): no hall.
    RectificationCase: {
        "key_a": {"A": {0, 1, 2}, "B": set()}, "sup_a": {"A": {0, 1, 2}, "B": set()}, "admin_a": None,
        "handler_dept": {"A": {0, 2}, "B": set()}, "handler_agency": {"A": {0, 1}, "B": set()}, "staff_a": None,
        "sup_city": {"A": {0, 1, 2}, "B": {0, 1, 2}}, "key_all": {"A": {0, 1, 2}, "B": {0, 1, 2}},
        "superuser": {"A": {0, 1, 2}, "B": {0, 1, 2}},
    },
    # Each county's one appeal, on case 0 (staff 1's 差评).
    Appeal: {
        "key_a": {"A": {0}, "B": set()}, "sup_a": {"A": {0}, "B": set()}, "admin_a": None,
        "handler_dept": {"A": {0}, "B": set()}, "handler_agency": {"A": {0}, "B": set()},
        # staff_a is the rated staff member of case 0: they read their own appeal.
        "staff_a": {"A": {0}, "B": set()},
        "sup_city": {"A": {0}, "B": {0}}, "key_all": {"A": {0}, "B": {0}}, "superuser": {"A": {0}, "B": {0}},
    },
    # Each county's one evidence file (the appeal's, on case 0): whoever reads case 0 downloads it; the rated
    # staff member reads their appeal but not the case, so not through the cases API either.
    CaseAttachment: {
        "key_a": {"A": {0}, "B": set()}, "sup_a": {"A": {0}, "B": set()}, "admin_a": None,
        "handler_dept": {"A": {0}, "B": set()}, "handler_agency": {"A": {0}, "B": set()}, "staff_a": None,
        "sup_city": {"A": {0}, "B": {0}}, "key_all": {"A": {0}, "B": {0}}, "superuser": {"A": {0}, "B": {0}},
    },
    # Supervision's read API (world._supervision_work_rows). Surveys: the supervisors' (a key with stats:read too).
    Survey: {
        "key_a": {"A": {0}, "B": set()}, "sup_a": {"A": {0}, "B": set()}, "admin_a": None, "handler_dept": None,
        "handler_agency": None, "staff_a": None, "sup_city": {"A": {0}, "B": {0}}, "key_all": {"A": {0}, "B": {0}},
        "superuser": {"A": {0}, "B": {0}},
    },
    # The callback list: people who record callbacks (supervisors, 12345 operators), never keys; item k is
    # evaluation k's.
    CallbackItem: {
        "sup_a": ONLY_A, "admin_a": None, "handler_dept": None, "handler_agency": None, "staff_a": None,
        "sup_city": ALL, "superuser": ALL,
    },
    # The per-unit callback figures: supervisors and keys with stats:read.
    "callback-figures": {
        "key_a": ONLY_A, "sup_a": ONLY_A, "admin_a": None, "handler_dept": None, "handler_agency": None,
        "staff_a": None, "sup_city": ALL, "key_all": ALL, "superuser": ALL,
    },
    # Third-party assessment: supervisors (and the commissioned assessors), never keys.
    Commission: {
        "sup_a": {"A": {0}, "B": set()}, "admin_a": None, "handler_dept": None, "handler_agency": None,
        "staff_a": None, "sup_city": {"A": {0}, "B": {0}}, "superuser": {"A": {0}, "B": {0}},
    },
    Assessment: {
        "sup_a": {"A": {0}, "B": set()}, "admin_a": None, "handler_dept": None, "handler_agency": None,
        "staff_a": None, "sup_city": {"A": {0}, "B": {0}}, "superuser": {"A": {0}, "B": {0}},
    },
    # Appraisal results (result k is department k's): supervisors, handlers (their own unit), keys with stats:read.
    Appraisal: {
        "key_a": {"A": {0, 1}, "B": set()}, "sup_a": {"A": {0, 1}, "B": set()}, "admin_a": None,
        "handler_dept": {"A": {0}, "B": set()}, "handler_agency": {"A": set(), "B": set()}, "staff_a": None,
        "sup_city": {"A": {0, 1}, "B": {0, 1}}, "key_all": {"A": {0, 1}, "B": {0, 1}},
        "superuser": {"A": {0, 1}, "B": {0, 1}},
    },
}



def get_routes() -> set[str]:
    """Every GET route the API serves (read from its routers, so routes hidden from the schema count too)."""
    routes = set()
    for prefix, router in api._routers:
        for path, view in router.path_operations.items():
            if any("GET" in op.methods for op in view.operations):
                full = "/".join(p.strip("/") for p in ("api/v1", prefix, path) if p.strip("/"))
                routes.add("/" + re.sub(r"\{\w+:", "{", full))  # "{int:evaluation_id}" → "{evaluation_id}"
    return routes


def test_every_get_route_is_public_by_design_or_in_the_matrix():
    assert PUBLIC <= get_routes()
    assert get_routes() - PUBLIC - AGGREGATE - NODE_ONLY == set(ROUTES), "a new GET route must be added to the scope matrix"


def client_for(world, live_server, actor: str) -> httpx.Client:
    if actor.startswith("key_"):
        _key, secret = world.keys[actor]
        return httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30)
    django_client = Client()
    django_client.force_login(world.users[actor])
    session = django_client.cookies[settings.SESSION_COOKIE_NAME].value
    return httpx.Client(base_url=live_server.url, cookies={settings.SESSION_COOKIE_NAME: session}, timeout=30)


def key_of(route: Route, obj) -> str:
    return str(getattr(obj, route.key) if route.key != "id" else obj.pk)


def rows(world, model, county: str) -> list:
    c = world.a if county == "A" else world.b
    if model is ServiceRecord:
        return c.records
    return c.evaluations if model is Evaluation else world.in_county(model, county)


def detail_url(path: str, value: str) -> str:
    return re.sub(r"\{\w+\}", value, path)


def file_url(file_id: str) -> str:
    attachment = CaseAttachment.objects.filter(pk=file_id).first()
    return f"/api/v1/cases/{attachment.case_id if attachment else file_id}/files/{file_id}"


@pytest.mark.parametrize("path", sorted(ROUTES))
def test_route_shows_exactly_the_callers_scope(live_server, world, path, settings, tmp_path):
    route = ROUTES[path]
    settings.MEDIA_ROOT = tmp_path
    for attachment in CaseAttachment.objects.all():
        (tmp_path / attachment.file.name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / attachment.file.name).write_bytes(f"%PDF-1.4 {attachment.pk}".encode())
    expectations = EXPECTED[route.expect or route.model]
    actors = expectations if route.keys else {**expectations, "key_a": None, "key_all": None}
    for actor, expected in actors.items():
        with client_for(world, live_server, actor) as http:
            visible = {key_of(route, rows(world, route.model, c)[i]) for c in "AB" for i in (expected or {}).get(c, ())}
            hidden = {key_of(route, o) for c in "AB" for o in rows(world, route.model, c)} - visible
            if actor.startswith("key_") and not route.keys:
                for value in ("987654321", *visible, *hidden):
                    r = http.get(detail_url(path, value), params=dict(route.params))
                    assert (r.status_code, r.json()["title"]) == (401, "未认证"), (actor, r.text)
                continue
            if route.kind in ("rows", "unit-figures"):
                r = http.get(path, params=dict(route.params))
                if expected is None:
                    assert r.status_code == 403, (actor, r.text)
                    assert r.json()["title"] == "权限不足"
                    continue
                assert r.status_code == 200, (actor, r.text)
                if route.kind == "rows":
                    assert {str(item[route.key]) for item in r.json()["items"]} == visible, actor
                    assert r.json()["total"] == len(visible)
                else:
                    items = CallbackItem.objects.filter(pk__in=[int(v) for v in visible])
                    assert sum(row["sampled"] for row in r.json()) == len(visible), actor
                    assert {row["department_id"] for row in r.json()} == {i.sample.department_id for i in items}
                continue
            if route.kind == "file":
                none = http.get(file_url(route.missing))
                if expected is None:
                    assert none.status_code == 403, (actor, none.text)
                    assert all(http.get(file_url(v)).status_code == 403 for v in visible | hidden), actor
                    continue
                assert none.status_code == 404, (actor, none.text)
                for value in visible:
                    r = http.get(file_url(value))
                    assert (r.status_code, r.content) == (200, f"%PDF-1.4 {value}".encode()), (actor, value)
                for value in hidden:
                    r = http.get(file_url(value))
                    assert (r.status_code, r.json()) == (404, none.json()), (actor, value)
                continue
            if route.kind == "figures":
                r = http.get(path)
                if expected is None:
                    assert r.status_code == 403, (actor, r.text)
                    continue
                assert r.status_code == 200, (actor, r.text)
                assert r.json()[0]["cases"] == len(visible), actor
                by_region = {row["key"]: row["cases"] for row in http.get(path, params={"by": "region"}).json()}
                assert by_region == {c: len(e) for c, e in (("370102", expected["A"]), ("370103", expected["B"])) if e}
                continue
            if route.kind == "list":
                r = http.get(path, params={"limit": 200, **dict(route.params)})
                if expected is None:
                    assert r.status_code == 403, (actor, r.text)
                    assert r.json()["title"] == "权限不足"
                    continue
                assert r.status_code == 200, (actor, r.text)
                body = r.json()
                listed = {str(item[route.key]) for item in body["items"]}
                assert listed == visible, actor
                assert body["total"] == len(visible), actor
                assert body["next_cursor"] is None
                # The masked forms only: no clear phone number or evaluator name ever leaves.
                assert "13912345678" not in r.text and "13800001111" not in r.text and "赵大" not in r.text
            else:
                none = http.get(detail_url(path, route.missing))
                if expected is None:
                    assert none.status_code == 403, actor
                    for value in visible | hidden:
                        assert http.get(detail_url(path, value)).status_code == 403, actor
                    continue
                assert none.status_code == 404, (actor, none.text)
                for value in visible:
                    r = http.get(detail_url(path, value))
                    assert r.status_code == 200, (actor, value, r.text)
                    assert str(r.json()[route.key]) == value
                for value in hidden:
                    r = http.get(detail_url(path, value))
                    # Indistinguishable from a row that does not exist: same status, same problem document.
                    assert (r.status_code, r.headers["content-type"], r.json()) == (
                        404, none.headers["content-type"], none.json()
                    ), (actor, value)


def test_cursor_pages_are_stable_and_complete(live_server, world):
    with client_for(world, live_server, "sup_city") as http:
        seen, cursor, totals = [], None, set()
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            body = http.get("/api/v1/evaluations", params=params).json()
            seen += [item["id"] for item in body["items"]]
            totals.add(body["total"])
            cursor = body["next_cursor"]
            if cursor is None:
                break
        every = list(Evaluation.objects.order_by("created_at", "pk").values_list("pk", flat=True))
        assert seen == every and totals == {6}
        assert http.get("/api/v1/evaluations", params={"limit": 201}).status_code == 422
        bad = http.get("/api/v1/evaluations", params={"cursor": "not-a-cursor"})
        assert bad.status_code == 422 and bad.json()["field"] == "cursor"
        assert "翻页游标无效" in bad.json()["detail"]


def test_filters_narrow_but_never_widen_the_scope(live_server, world):
    a, b = world.a, world.b
    with client_for(world, live_server, "key_a") as http:
        other = http.get("/api/v1/evaluations", params={"region_code": "370103"}).json()
        assert (other["items"], other["total"]) == ([], 0)
        guessed = http.get("/api/v1/records", params={"department": b.departments[0].credit_code}).json()
        assert (guessed["items"], guessed["total"]) == ([], 0)
        dept = http.get("/api/v1/evaluations", params={"department": a.departments[0].credit_code}).json()
        assert {i["id"] for i in dept["items"]} == {a.evaluations[0].pk, a.evaluations[2].pk}
        bad = http.get("/api/v1/evaluations", params={"is_bad": "true"}).json()
        assert {i["id"] for i in bad["items"]} == {ev.pk for ev in a.evaluations if ev.is_bad}
        staff = http.get("/api/v1/evaluations", params={"staff_no": a.staff[1].staff_no}).json()
        assert [i["id"] for i in staff["items"]] == [a.evaluations[1].pk]
        window = http.get("/api/v1/records", params={"agency": a.agency.code, "window": "A01"}).json()
        assert [i["project_no"] for i in window["items"]] == [a.records[0].project_no]
        day = a.evaluations[0].created_at.astimezone().date().isoformat()
        dated = http.get("/api/v1/evaluations", params={"from": day, "to": day}).json()
        assert a.evaluations[0].pk in {i["id"] for i in dated["items"]}
        reversed_ = http.get("/api/v1/evaluations", params={"from": "2026-02-01", "to": "2026-01-01"})
        assert reversed_.status_code == 422 and reversed_.json()["field"] == "from"
        wrong = http.get("/api/v1/evaluations", params={"region_code": "3701"})
        assert wrong.status_code == 422 and wrong.json()["field"] == "region_code"


def test_reading_needs_the_read_scope_or_the_view_permission(live_server, world):
    from haochaping.accounts.models import Scope
    from haochaping.accounts.services import create_api_key

    _key, secret = create_api_key(name="只写", scopes=[Scope.EVALUATIONS_WRITE, Scope.RECORDS_WRITE], region=world.a.region)
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30) as http:
        for path in ("/api/v1/evaluations", "/api/v1/records"):
            r = http.get(path)
            assert r.status_code == 403 and "读取" not in r.json()["title"] and "权限" in r.json()["detail"]
    with httpx.Client(base_url=live_server.url, timeout=30) as anonymous:
        r = anonymous.get("/api/v1/evaluations")
        assert r.status_code == 401 and r.json()["title"] == "未认证"
