"""The supervision read API over real HTTP (issue 13's proof: each flow through the API): surveys and their
results (the same tallies as the results page), the callback list with masked phones and a call's outcome recorded
through it, the per-unit mismatch figures, third-party assessments with their scores, and a period's appraisal
results with the breakdown. Refusals are RFC 9457 problem details naming the field; out of scope reads as absent.
The scope matrix (tests/scope/test_api_matrix.py) checks every route against every kind of caller."""

from __future__ import annotations

import httpx
import pytest
from django.conf import settings
from django.test import Client
from django.utils.crypto import get_random_string

from haochaping.accounts.models import Role, Scope, User
from haochaping.core.models import AuditEntry
from haochaping.supervision.appraisal import services as appraisal
from haochaping.supervision.assessments import services as assessments
from haochaping.supervision.assessments.rules import ScoreInput
from haochaping.supervision.sampling import services as sampling
from haochaping.supervision.sampling.models import CallbackCall, CallStatus
from haochaping.supervision.surveys import results
from tests import factories

from .appraisal_helpers import assessment_media, cast, commission, pdf, png, this_period  # noqa: F401
from .sampling_world import last_month, month_of, rate
from .test_survey_services import _answered, sms_file  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def indicators(db):
    # The live server needs a transactional database, which is flushed between tests: the national indicators the
    # migration seeds are put back as the migration puts them.
    appraisal.ensure_national_indicators()


def person(live_server, user) -> httpx.Client:
    """``user`` signed in, as a browser calls the API: session cookie, and the CSRF cookie echoed in a header."""
    django_client = Client()
    django_client.force_login(user)
    token = get_random_string(32)
    cookies = {settings.SESSION_COOKIE_NAME: django_client.cookies[settings.SESSION_COOKIE_NAME].value,
               settings.CSRF_COOKIE_NAME: token}
    return httpx.Client(base_url=live_server.url, cookies=cookies, headers={"X-CSRFToken": token}, timeout=30)


def keyed(live_server, scopes, region=None) -> httpx.Client:
    _key, secret = factories.make_api_key(scopes=scopes, region=region)
    return httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30)


def problem(r: httpx.Response, status: int, field: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"]), body
    if field is not None:
        assert body.get("field") == field, body
    return body


# ---- surveys ---------------------------------------------------------------------------------------------------

@pytest.fixture
def supervisor(org):
    return User.objects.create(username="sup-1", role=Role.SUPERVISOR, region=org.county)


def test_a_surveys_results_are_the_results_pages_tallies(live_server, supervisor, org, item, sms_file):  # noqa: F811
    survey = _answered(supervisor, org, item)
    with person(live_server, supervisor) as http:
        listed = http.get("/api/v1/surveys").json()
        assert [s["id"] for s in listed["items"]] == [survey.pk] and listed["total"] == 1
        assert listed["items"][0]["responses"] == 3 and listed["items"][0]["status"] == "launched"
        body = http.get(f"/api/v1/surveys/{survey.pk}/results").json()
        total, rows = results.summary(survey)
        assert body["counted"] == total == 3 and body["id"] == survey.pk
        got = body["questions"]
        assert [(o["label"], o["count"]) for o in got[0]["options"]] == rows[0].options == [
            ("了解", 2), ("听说过", 0), ("不了解", 1)]
        assert [(o["label"], o["count"]) for o in got[1]["distribution"]] == rows[1].distribution
        assert got[1]["mean"] == pytest.approx(11 / 3) and got[1]["score"] == pytest.approx((11 / 3 - 1) * 25)
        assert [(o["label"], o["count"]) for o in got[2]["options"]] == [("预约", 2), ("受理", 1), ("取件", 0)]
        assert got[3]["texts"] == ["排队太久"]
        # Filters: the same ones as the page.
        qr = http.get(f"/api/v1/surveys/{survey.pk}/results", params={"channel": "qr"}).json()
        assert qr["counted"] == 1 and qr["questions"][0]["options"][0] == {"label": "了解", "count": 1}
        assert qr["responses"] == 3  # all responses, beside the filtered count
        far = http.get(f"/api/v1/surveys/{survey.pk}/results", params={"region_code": org.other_county.code}).json()
        assert far["counted"] == 0
        by_item = http.get(f"/api/v1/surveys/{survey.pk}/results", params={"item": item.pk}).json()
        assert by_item["counted"] == results.summary(survey, results.Filters(item=item.pk))[0]
        # Bad filters name the field.
        problem(http.get(f"/api/v1/surveys/{survey.pk}/results", params={"channel": "fax"}), 422, "channel")
        problem(http.get(f"/api/v1/surveys/{survey.pk}/results", params={"from": "2026-02-01", "to": "2026-01-01"}),
                422, "from")
        problem(http.get("/api/v1/surveys/987654/results"), 404, "survey_id")
    # Keys read with stats:read, within their region; without it they are refused.
    with keyed(live_server, [Scope.STATS_READ], region=org.county) as http:
        assert http.get(f"/api/v1/surveys/{survey.pk}/results").json()["counted"] == 3
    with keyed(live_server, [Scope.STATS_READ], region=org.other_county) as http:
        assert http.get("/api/v1/surveys").json()["total"] == 0
        problem(http.get(f"/api/v1/surveys/{survey.pk}/results"), 404, "survey_id")
    with keyed(live_server, [Scope.CASES_READ]) as http:
        problem(http.get("/api/v1/surveys"), 403)
    handler = User.objects.create(username="handler-1", role=Role.HANDLER, region=org.county, department=org.department)
    with person(live_server, handler) as http:
        problem(http.get("/api/v1/surveys"), 403)
    assert httpx.get(f"{live_server.url}/api/v1/surveys").status_code == 401


# ---- callback sampling -----------------------------------------------------------------------------------------

def test_the_callback_list_masks_phones_and_a_call_recorded_through_the_api_flags_a_mismatch(live_server, org, item):
    month_of(org, item, {1: 1, 5: 3})
    rate(org, item, 2, phone="13912340000", evaluator_phone="13700009999")
    start, end = last_month()
    sample = sampling.draw_sample(org.department.pk, start, end).sample
    operator = User.objects.create(username="hotline-1", role=Role.HOTLINE, region=org.city)
    with person(live_server, operator) as http:
        listed = http.get("/api/v1/callbacks", params={"limit": 2})
        assert listed.status_code == 200, listed.text
        first = listed.json()
        assert first["total"] == sample.items.count() and len(first["items"]) == 2 and first["next_cursor"]
        rest = http.get("/api/v1/callbacks", params={"limit": 200, "cursor": first["next_cursor"]}).json()
        every = first["items"] + rest["items"]
        assert sorted(i["id"] for i in every) == sorted(sample.items.values_list("pk", flat=True))
        # Phones masked only, never in clear: 139****0000 style.
        for row in every:
            assert "****" in row["phone"] and row["status"] == "pending"
        assert "13912340000" not in listed.text + str(rest) and "13700009999" not in str(rest) + listed.text
        item_id = every[0]["id"]
        # A reached call needs the answers: each missing one named.
        r = http.post(f"/api/v1/callbacks/{item_id}/calls", json={"reached": True, "pressured": "no",
                                                                   "satisfaction_now": 4})
        problem(r, 422, "gave_rating")
        problem(http.post(f"/api/v1/callbacks/{item_id}/calls", json={"reached": False, "satisfaction_now": 3}),
                422, "reached")
        problem(http.post(f"/api/v1/callbacks/{item_id}/calls", json={"reached": True, "gave_rating": "maybe",
                                                                      "pressured": "no", "satisfaction_now": 4}),
                422, "gave_rating")
        assert CallbackCall.objects.count() == 0
        # Not reached: kept open for another attempt.
        r = http.post(f"/api/v1/callbacks/{item_id}/calls", json={"reached": False, "notes": "无人接听"})
        assert r.status_code == 200 and r.json()["status"] == CallStatus.UNREACHED and r.json()["attempts"] == 1
        # Reached: the evaluator never gave the rating → flagged.
        r = http.post(f"/api/v1/callbacks/{item_id}/calls", json={"reached": True, "gave_rating": "no",
                                                                   "pressured": "no", "satisfaction_now": 2})
        assert r.status_code == 200, r.text
        done = r.json()
        assert done["status"] == "done" and done["mismatch"] and done["mismatch_reasons"] and done["attempts"] == 2
        assert AuditEntry.objects.filter(action="callback.call", object_id=str(item_id)).count() == 2
        problem(http.post(f"/api/v1/callbacks/{item_id}/calls", json={"reached": False}), 409, "item")
        assert http.get(f"/api/v1/callbacks/{item_id}").json()["mismatch"] is True
        assert http.get("/api/v1/callbacks", params={"mismatch": "true"}).json()["total"] == 1
        problem(http.get("/api/v1/callbacks/987654"), 404, "item_id")
        # The operator is no supervisor: the figures are not theirs.
        problem(http.get("/api/v1/callbacks/figures", params={"from": start.isoformat(), "to": end.isoformat()}), 403)
    # Without the CSRF header a signed-in POST is refused, and nothing is written.
    django_client = Client()
    django_client.force_login(operator)
    with httpx.Client(base_url=live_server.url, timeout=30,
                      cookies={settings.SESSION_COOKIE_NAME: django_client.cookies[settings.SESSION_COOKIE_NAME].value}
                      ) as bare:
        other = every[1]["id"]
        assert bare.post(f"/api/v1/callbacks/{other}/calls", json={"reached": False}).status_code in (401, 403)
    assert CallbackCall.objects.filter(item_id=other).count() == 0
    # The supervisor's per-unit figures (and a key's with stats:read).
    supervisor = User.objects.create(username="sup-2", role=Role.SUPERVISOR, region=org.county)
    period = {"from": start.isoformat(), "to": end.isoformat()}
    expected = [vars(f) for f in sampling.unit_figures(supervisor, start, end)]
    with person(live_server, supervisor) as http:
        figures = http.get("/api/v1/callbacks/figures", params=period).json()
        assert figures == expected
        assert figures == [{"department_id": org.department.pk, "department": org.department.name,
                            "sampled": sample.items.count(), "called": 1, "reached": 1, "mismatches": 1}]
        problem(http.get("/api/v1/callbacks/figures", params={"from": end.isoformat(), "to": start.isoformat()}),
                422, "from")
        problem(http.get("/api/v1/callbacks/figures", params={"from": start.isoformat()}), 422, "to")
    with keyed(live_server, [Scope.STATS_READ], region=org.other_county) as http:
        assert http.get("/api/v1/callbacks/figures", params=period).json() == []
        assert http.get("/api/v1/callbacks").status_code == 401  # the callback list is the operators'


# ---- third-party assessments -----------------------------------------------------------------------------------

def test_an_assessment_with_its_scores_for_the_supervisor_and_the_assessor(live_server, org, cast, commission):  # noqa: F811
    start, end = this_period()
    a = assessments.submit_assessment(
        actor=cast["assessor"], commission_id=commission.pk, department=org.department, start=start, end=end,
        summary="总体规范，个别窗口公示不全", report=pdf(),
        scores=[ScoreInput("STD-ASSESS", 70, "窗口未公示办事指南", "按标准公示"), ScoreInput("QUAL-SATIS", 90)],
        files={0: [png(), pdf("记录.pdf")]})
    for who in ("supervisor", "assessor"):
        with person(live_server, cast[who]) as http:
            commissions = http.get("/api/v1/assessments/commissions").json()
            assert [c["id"] for c in commissions["items"]] == [commission.pk]
            assert commissions["items"][0]["organisation"] == "山东某评估研究院"
            listed = http.get("/api/v1/assessments", params={"commission": commission.pk}).json()
            assert [x["id"] for x in listed["items"]] == [a.pk] and listed["items"][0]["score"] == 80
            detail = http.get(f"/api/v1/assessments/{a.pk}").json()
            assert detail["state"] == "submitted" and detail["summary"] == "总体规范，个别窗口公示不全"
            assert [(s["indicator"], s["score"], s["evidence"]) for s in detail["scores"]] == [
                ("STD-ASSESS", 70, 2), ("QUAL-SATIS", 90, 0)]
            assert detail["scores"][0]["findings"] == "窗口未公示办事指南"
    assessments.accept(a.pk, actor=cast["supervisor"])
    with person(live_server, cast["supervisor"]) as http:
        assert http.get(f"/api/v1/assessments/{a.pk}").json()["state"] == "accepted"
        problem(http.get("/api/v1/assessments", params={"commission": 0}), 422, "commission")
    # Another county's supervisor and an assessor of no organisation: absent, as if it did not exist.
    for who in ("far_supervisor", "outsider"):
        with person(live_server, cast[who]) as http:
            assert http.get("/api/v1/assessments").json()["total"] == 0
            problem(http.get(f"/api/v1/assessments/{a.pk}"), 404, "assessment_id")
    with person(live_server, cast["handler"]) as http:
        problem(http.get("/api/v1/assessments"), 403)


# ---- appraisal -------------------------------------------------------------------------------------------------

def test_appraisal_results_for_a_period_ranked_with_the_breakdown(live_server, org, item, cast):  # noqa: F811
    from .appraisal_helpers import second_department, submit

    start, end = this_period()
    other = second_department(org)
    for level in (5, 5, 1):
        submit(factories.make_record(org, item), level)
    for level in (4, 5):
        submit(factories.make_record(org, item, department=other, window=None, staff=None), level)
    computed = appraisal.compute(region=org.county, start=start, end=end, actor=cast["supervisor"])
    by_unit = {r.department_id: r for r in computed}
    period = {"from": start.isoformat(), "to": end.isoformat()}
    with person(live_server, cast["supervisor"]) as http:
        body = http.get("/api/v1/appraisal", params=period).json()
        assert body["total"] == 2 and body["period_start"] == start.isoformat()
        rows = body["items"]
        # The results page's rows and order (best first, units without a score last), ranked among the scored.
        ordered = list(appraisal.results(cast["supervisor"], start, end))
        assert [r["id"] for r in rows] == [r.pk for r in ordered] and by_unit[org.department.pk].score is not None
        scored = [r for r in ordered if r.score is not None]
        assert [r["rank"] for r in rows] == [*range(1, len(scored) + 1), *[None] * (len(ordered) - len(scored))]
        for row in rows:
            stored = next(r for r in computed if r.pk == row["id"])
            assert row["score"] == pytest.approx(stored.score)
            assert row["breakdown"] == stored.breakdown
            assert sum(line["contribution"] for line in row["breakdown"]) == pytest.approx(row["score"])
        problem(http.get("/api/v1/appraisal", params={"from": end.isoformat(), "to": start.isoformat()}), 422, "from")
        problem(http.get("/api/v1/appraisal", params={"from": start.isoformat()}), 422, "to")
        assert http.get("/api/v1/appraisal", params={"from": "2020-01-01", "to": "2020-01-31"}).json()["items"] == []
    # A handler sees their own unit's row; another county's supervisor none.
    with person(live_server, cast["handler"]) as http:
        assert [r["department_credit_code"] for r in http.get("/api/v1/appraisal", params=period).json()["items"]] == [
            org.department.credit_code]
    with person(live_server, cast["far_supervisor"]) as http:
        assert http.get("/api/v1/appraisal", params=period).json()["items"] == []
    with keyed(live_server, [Scope.STATS_READ], region=org.county) as http:
        assert http.get("/api/v1/appraisal", params=period).json()["total"] == 2
    with person(live_server, cast["assessor"]) as http:
        problem(http.get("/api/v1/appraisal", params=period), 403)
