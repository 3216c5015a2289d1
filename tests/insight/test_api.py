"""GET /api/v1/stats, /stats/rankings and /stats/coverage over real HTTP: figures equal the raw rows, the caller's
scope always applies, and bad input is a problem document naming the field."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from haochaping.accounts.models import Role, User
from haochaping.evaluation.models import Channel, Evaluation
from haochaping.records.models import ServiceRecord
from tests import factories
from tests.records.helpers import assert_problem

from .helpers import completed_record, exclude, import_default, rate

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def data(org, item):
    other_dept = factories.department(org.other_county, "市中区人社局")
    there = dict(item=factories.make_item(org, department=other_dept, region=org.other_county),
                 region=org.other_county, department=other_dept, agency=None, window=None, staff=None)
    for level in (5, 4, 4, 1):
        rate(completed_record(org, item), level, channel="kiosk")
    exclude(rate(completed_record(org, item), 2))
    import_default(completed_record(org, item))
    for level in (5, 2):
        rate(completed_record(org, **there), level, channel="mobile")
    completed_record(org, **there)
    return dict(other_dept=other_dept)


def client_for(live_server, *, key=None, user=None):
    if user is not None:
        c = Client()
        c.force_login(user)
        return httpx.Client(base_url=live_server.url, cookies={settings.SESSION_COOKIE_NAME: c.cookies[settings.SESSION_COOKIE_NAME].value}, timeout=30)
    return httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def test_totals_equal_the_raw_rows(http, data):
    r = http.get("/api/v1/stats")
    assert r.status_code == 200, r.text
    t = r.json()["total"]
    valid = Evaluation.objects.countable()
    assert t["evaluations"] == valid.count() == 6
    assert t["good"] == valid.filter(level__gte=4).count() and t["bad"] == valid.filter(level__lte=2).count()
    assert t["good_rate"] == pytest.approx(t["good"] / t["evaluations"])
    assert t["bad_rate"] == pytest.approx(2 / 6)
    assert (t["excluded"], t["system_default"], t["total"]) == (1, 1, Evaluation.objects.count())
    assert t["satisfaction"] == pytest.approx(sum((lv - 1) * 25 for lv in valid.values_list("level", flat=True)) / 6)
    assert t["completed"] == ServiceRecord.objects.filter(status=3).count() == 9
    assert t["rated"] == 7 and t["participation_rate"] == pytest.approx(7 / 9)
    assert r.json()["groups"] == []


def test_group_by_department_and_filters(http, data, org):
    r = http.get("/api/v1/stats", params={"group_by": "department"})
    groups = {g["key"]: g for g in r.json()["groups"]}
    assert groups[org.department.credit_code]["evaluations"] == 4
    assert groups[data["other_dept"].credit_code]["evaluations"] == 2
    assert groups[data["other_dept"].credit_code]["completed"] == 3
    r = http.get("/api/v1/stats", params={"channel": "mobile", "department": data["other_dept"].credit_code})
    assert r.json()["total"]["evaluations"] == 2
    today = timezone.localdate()
    r = http.get("/api/v1/stats", params={"from": str(today + timedelta(days=1)), "to": str(today + timedelta(days=2))})
    assert r.json()["total"]["total"] == 0


def test_a_scoped_key_never_sees_outside_its_region(live_server, data, org):
    _key, secret = factories.make_api_key(scopes=["stats:read"], region=org.other_county)
    with client_for(live_server, key=secret) as c:
        t = c.get("/api/v1/stats").json()["total"]
        assert t["evaluations"] == Evaluation.objects.countable().filter(region=org.other_county).count() == 2
        # A unit outside the scope gives empty figures, as if it did not exist.
        r = c.get("/api/v1/stats", params={"department": org.department.credit_code, "group_by": "department"})
        assert r.status_code == 200
        assert r.json()["total"]["total"] == 0 and r.json()["groups"] == []
        r = c.get("/api/v1/stats", params={"region_code": org.county.code})
        assert r.json()["total"]["total"] == 0


def test_a_signed_in_supervisor_sees_their_subtree(live_server, data, org):
    sup = User.objects.create(username="sup-x", role=Role.SUPERVISOR, region=org.county, is_staff=True)
    with client_for(live_server, user=sup) as c:
        r = c.get("/api/v1/stats", params={"group_by": "region"})
        assert r.status_code == 200, r.text
        assert [g["key"] for g in r.json()["groups"]] == [org.county.code]
        assert r.json()["total"]["evaluations"] == 4


def test_who_may_read(live_server, anon_http, data):
    assert_problem(anon_http.get("/api/v1/stats"), 401)
    _key, secret = factories.make_api_key(scopes=["records:read"])
    with client_for(live_server, key=secret) as c:
        assert c.get("/api/v1/stats").status_code == 403
    evaluator = User.objects.create(username="ev", role=Role.EVALUATOR)
    with client_for(live_server, user=evaluator) as c:
        assert c.get("/api/v1/stats").status_code == 403


@pytest.mark.parametrize("params,field", [
    ({"group_by": "colour"}, "group_by"),
    ({"channel": "fax"}, "channel"),
    ({"region_code": "37"}, "region_code"),
    ({"from": "2026-02-30"}, "from"),
    ({"from": "2026-03-02", "to": "2026-03-01"}, "from"),
])
def test_bad_input_names_the_field(http, db, params, field):
    problem = assert_problem(http.get("/api/v1/stats", params=params), 422, field)
    assert problem["title"] == "请求内容有误"


@pytest.mark.parametrize("value", ["2026-02-30", "abc", "2026-01-05T10:00"])
def test_a_date_that_is_not_one_says_what_a_date_looks_like(http, db, value):
    problem = assert_problem(http.get("/api/v1/stats", params={"from": value}), 422, "from")
    assert problem["errors"] == [{"field": "from", "message": "应为日期，格式如 2026-01-05"}]


def test_rankings_and_coverage(http, data, org, settings):
    r = http.get("/api/v1/stats/rankings", params={"by": "department"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["min_sample"] == 30 and body["ranked"] == []  # nobody has 30 valid evaluations here
    assert [(u["key"], u["evaluations"], u["rank"]) for u in body["apart"]] == [
        (org.department.credit_code, 4, None), (data["other_dept"].credit_code, 2, None)]
    assert_problem(http.get("/api/v1/stats/rankings", params={"by": "channel"}), 422, "by")
    r = http.get("/api/v1/stats/coverage", params={"of": "item"})
    assert r.status_code == 200, r.text
    assert (r.json()["active"], r.json()["evaluated"], r.json()["missing"]) == (2, 2, [])
    assert_problem(http.get("/api/v1/stats/coverage", params={"of": "region"}), 422, "of")


def test_system_default_channel_is_a_filter_value(http, data):
    t = http.get("/api/v1/stats", params={"channel": Channel.SYSTEM_DEFAULT}).json()["total"]
    assert (t["evaluations"], t["system_default"]) == (0, 1)
