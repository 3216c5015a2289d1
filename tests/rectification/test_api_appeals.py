"""Appeals over the real API: the rated staff member files with evidence files, a supervisor reviews and decides;
an upheld appeal excludes the evaluation (kept, not deleted) and closes the case; a rejected one lets it go on."""

from __future__ import annotations

from datetime import date

import pytest

from haochaping.accounts.models import Role, Scope, User
from haochaping.evaluation.models import Evaluation, EvaluationExclusion
from haochaping.rectification.models import Appeal, CaseAttachment, RectificationCase

from .api_helpers import PDF, actions, keyed, open_case, person, problem

pytestmark = pytest.mark.django_db(transaction=True)



@pytest.fixture
def case(record):
    return open_case(record)


@pytest.fixture
def rated(org):
    """The staff member the 差评 rates (the 办件's 工号), signed in as STAFF."""
    return User.objects.create(username="staff-rated", role=Role.STAFF, region=org.county, staff=org.staff)


def file_appeal(http, case, explanation="评价人所述材料要求系法定要求", files=None):
    return http.post("/api/v1/appeals", data={"case_id": str(case.pk), "explanation": explanation},
                     files=files or [("files", ("法规依据.pdf", PDF, "application/pdf"))])


def test_the_rated_staff_member_appeals_and_an_upheld_appeal_closes_the_case(live_server, case, rated, people):
    with person(live_server, rated) as http:
        r = file_appeal(http, case)
    assert r.status_code == 201, r.text
    appeal = r.json()
    assert (appeal["case_id"], appeal["state"], appeal["party"], appeal["appellant"]) == (
        case.pk, "submitted", "staff", "staff-rated")
    assert [(a["purpose"], a["name"]) for a in appeal["attachments"]] == [("appeal", "法规依据.pdf")]
    with person(live_server, people["handler"]) as http:
        detail = http.get(f"/api/v1/cases/{case.pk}").json()
        # The case goes on meanwhile: its deadlines keep running, and the appeal shows on it.
        assert detail["state"] == "open" and detail["appeal"]["state"] == "submitted"
        assert detail["deadlines"][0]["working_days_left"] is not None
        problem(http.post(f"/api/v1/appeals/{appeal['id']}/review"), 403)
    with person(live_server, people["supervisor"]) as http:
        assert [a["id"] for a in http.get("/api/v1/appeals", params={"state": "submitted"}).json()["items"]] == [
            appeal["id"]]
        body = http.post(f"/api/v1/appeals/{appeal['id']}/review").json()
        assert (body["state"], body["reviewer"]) == ("under_review", "sup-1")
        problem(http.post(f"/api/v1/appeals/{appeal['id']}/decision", json={"upheld": True, "note": " "}), 422, "note")
        problem(http.post(f"/api/v1/appeals/{appeal['id']}/decision", json={"note": "属实"}), 422, "upheld")
        body = http.post(f"/api/v1/appeals/{appeal['id']}/decision", json={"upheld": True, "note": "系法定材料"}).json()
        assert (body["state"], body["case_state"], body["decision_note"]) == ("upheld", "closed", "系法定材料")
        again = http.post(f"/api/v1/appeals/{appeal['id']}/decision", json={"upheld": False, "note": "改判"})
        problem(again, 409)
    exclusion = EvaluationExclusion.objects.get(evaluation_id=case.evaluation_id)
    assert (exclusion.reason, exclusion.source) == ("appeal_upheld", f"appeal:{appeal['id']}")
    assert Evaluation.objects.filter(pk=case.evaluation_id).exists()  # kept, out of statistics only
    assert actions(case) == ["open", "appeal_submitted", "appeal_review", "appeal_upheld"]


def test_a_rejected_appeal_lets_the_case_go_on(live_server, case, people):
    with person(live_server, people["handler"]) as http:  # the unit appeals
        r = http.post("/api/v1/appeals", json={"case_id": case.pk, "explanation": "已按指南办理"})
        assert r.status_code == 201, r.text
        assert r.json()["party"] == "unit"
    with person(live_server, people["supervisor"]) as http:
        body = http.post(f"/api/v1/appeals/{r.json()['id']}/decision", json={"upheld": False, "note": "证据不足"}).json()
    assert (body["state"], body["case_state"]) == ("rejected", "open")
    assert not EvaluationExclusion.objects.exists()


def test_appeals_refused_in_chinese_and_nothing_written(live_server, case, rated, people, org):
    with person(live_server, people["supervisor"]) as http:  # not the rated party
        assert "被评价" in problem(file_appeal(http, case), 403, "case_id")["detail"]
    with person(live_server, people["other_handler"]) as http:  # out of scope: like a missing case
        hidden = file_appeal(http, case)
        missing = http.post("/api/v1/appeals", json={"case_id": 99999999, "explanation": "x"})
    assert problem(hidden, 404, "case_id") == problem(missing, 404, "case_id")
    with person(live_server, rated) as http:
        problem(file_appeal(http, case, explanation=""), 422, "explanation")
        problem(file_appeal(http, case, files=[("files", ("x.exe", b"MZ", "application/octet-stream"))]), 422, "files")
        problem(http.post("/api/v1/appeals", json={"explanation": "x"}), 422, "case_id")
        RectificationCase.objects.filter(pk=case.pk).update(appeal_due=date(2020, 1, 6))
        assert "申诉期限" in problem(file_appeal(http, case), 422, "case_id")["detail"]
    with keyed(live_server, list(Scope.values)) as http:
        problem(http.post("/api/v1/appeals", json={"case_id": case.pk, "explanation": "x"}), 403, "Authorization")
    assert not Appeal.objects.exists() and not CaseAttachment.objects.exists()
    assert actions(case) == ["open"]


def test_systems_read_appeals_with_cases_read_within_their_region(live_server, case, rated, org):
    with person(live_server, rated) as http:
        appeal_id = file_appeal(http, case).json()["id"]
    with keyed(live_server, [Scope.CASES_READ], region=org.county) as http:
        body = http.get("/api/v1/appeals").json()
        assert ([a["id"] for a in body["items"]], body["total"]) == ([appeal_id], 1)
        one = http.get(f"/api/v1/appeals/{appeal_id}").json()
        assert one["review_overdue"] is False and one["explanation"] == "评价人所述材料要求系法定要求"
        assert http.get("/api/v1/appeals", params={"review_overdue": "true"}).json()["total"] == 0
        problem(http.get("/api/v1/appeals/99999999"), 404, "appeal_id")
    with keyed(live_server, [Scope.CASES_READ], region=org.other_county) as http:
        assert http.get("/api/v1/appeals").json()["total"] == 0
        problem(http.get(f"/api/v1/appeals/{appeal_id}"), 404, "appeal_id")
    with keyed(live_server, [Scope.RECORDS_READ]) as http:
        problem(http.get("/api/v1/appeals"), 403)
