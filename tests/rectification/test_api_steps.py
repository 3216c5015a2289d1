"""The steps of a case over the real API, by people signed in: every step a transition row, refusals in Chinese
naming the field and changing nothing, out of scope the same 404 as missing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from haochaping.evaluation.models import EvaluationExclusion
from haochaping.rectification.models import CaseAttachment, CaseNotice, RectificationCase

from .api_helpers import PDF, actions, callback_body, open_case, person, problem

pytestmark = pytest.mark.django_db(transaction=True)



@pytest.fixture
def case(record):
    return open_case(record)


def called_back(http, case):
    r = http.post(f"/api/v1/cases/{case.pk}/callback", json=callback_body())
    assert r.status_code == 200, r.text
    return r.json()


def test_a_handler_takes_a_case_from_callback_to_close_through_the_ledger(live_server, case, people):
    handler, supervisor = people["handler"], people["supervisor"]
    later = case.rectify_due + timedelta(days=10)
    with person(live_server, handler) as http:
        assigned = http.post(f"/api/v1/cases/{case.pk}/assign", json={"assignee": handler.username}).json()
        assert assigned["assignee"] == handler.username
        body = called_back(http, case)
        assert body["state"] == "called_back" and body["callback"]["method"] == "phone"
        assert body["callback"]["facts"] == "窗口多要了一份材料，属实"
        body = http.post(f"/api/v1/cases/{case.pk}/outcome", json={
            "outcome": "deadline", "problem": "材料清单不统一", "measures": "统一并公示材料清单", "responsible_person": "王科长",
            "deadline": later.isoformat(), "extension_reason": "需经市局统一修订",
        }).json()
        assert body["state"] == "rectifying"
        # The later date waits for a supervisor: until then the 台账 is due on rectify_due.
        assert (body["ledger"]["deadline"], body["ledger"]["due"], body["ledger"]["extension_approved"]) == (
            later.isoformat(), case.rectify_due.isoformat(), False)
    with person(live_server, supervisor) as http:
        body = http.post(f"/api/v1/cases/{case.pk}/extension", json={"approve": True, "note": "同意"}).json()
        assert body["ledger"]["due"] == later.isoformat() and body["ledger"]["extension_decided_by"] == supervisor.username
        assert [d["kind"] for d in body["deadlines"]] == ["callback", "rectify"]
        assert body["deadlines"][1]["due"] == later.isoformat()
    with person(live_server, handler) as http:
        body = http.post(f"/api/v1/cases/{case.pk}/progress", json={"note": "已起草新清单"}).json()
        assert [p["note"] for p in body["ledger"]["progress"]] == ["已起草新清单"]
        done = http.post(f"/api/v1/cases/{case.pk}/complete", data={"evidence": "新清单已公示"},
                         files=[("files", ("公示照片.pdf", PDF, "application/pdf"))])
        assert done.status_code == 200, done.text
        body = done.json()
        assert body["state"] == "rectified" and body["ledger"]["evidence"] == "新清单已公示"
        assert [(a["purpose"], a["name"], a["size"]) for a in body["attachments"]] == [("ledger", "公示照片.pdf", len(PDF))]
        body = http.post(f"/api/v1/cases/{case.pk}/answer", json={"text": "已统一材料清单，感谢监督"}).json()
        assert body["state"] == "answered" and body["satisfaction_due"]
        body = http.post(f"/api/v1/cases/{case.pk}/close", json={}).json()
        assert body["state"] == "closed" and body["closed_at"]
    assert actions(case) == ["open", "assign", "callback", "outcome", "extension", "progress", "complete_ledger",
                             "answer", "close"]
    assert [t["action"] for t in body["transitions"]] == actions(case)


def test_a_proposed_mistaken_review_is_confirmed_by_the_supervisor(live_server, case, people, org):
    with person(live_server, people["handler"]) as http:
        called_back(http, case)
        r = http.post(f"/api/v1/cases/{case.pk}/outcome", data={"outcome": "mistaken", "evidence": "监控显示评价人误点"},
                      files=[("files", ("监控截图.pdf", PDF, "application/pdf"))])
        assert r.status_code == 200, r.text
        assert (r.json()["state"], r.json()["proposed_outcome"]) == ("called_back", "mistaken")
        problem(http.post(f"/api/v1/cases/{case.pk}/confirm", json={}), 403)
    with person(live_server, people["supervisor"]) as http:
        body = http.post(f"/api/v1/cases/{case.pk}/confirm", json={"note": "证据属实"}).json()
    assert (body["state"], body["outcome"], body["confirmed_by"]) == ("not_adopted", "mistaken", "sup-1")
    assert EvaluationExclusion.objects.get(evaluation_id=case.evaluation_id).source == f"case:{case.pk}"
    assert CaseNotice.objects.filter(case=case, kind="report").count() == 1
    assert CaseAttachment.objects.get(case=case).purpose == "not_adopted"


def test_a_supervisor_rejects_a_proposal_only_with_reasons_and_sends_back_and_notes(live_server, case, people):
    with person(live_server, people["handler"]) as http:
        called_back(http, case)
        http.post(f"/api/v1/cases/{case.pk}/outcome", json={"outcome": "malicious", "evidence": "多次恶意评价"})
    with person(live_server, people["supervisor"]) as http:
        problem(http.post(f"/api/v1/cases/{case.pk}/reject-proposal", json={}), 422, "note")
        body = http.post(f"/api/v1/cases/{case.pk}/reject-proposal", json={"note": "证据不足"}).json()
        assert body["proposed_outcome"] == "" and body["state"] == "called_back"
        body = http.post(f"/api/v1/cases/{case.pk}/notes", json={"note": "请三日内重新核实"}).json()
        assert body["state"] == "called_back" and body["transitions"][-1]["note"] == "请三日内重新核实"
    with person(live_server, people["handler"]) as http:
        http.post(f"/api/v1/cases/{case.pk}/outcome", json={"outcome": "fixed_now", "detail": "已当场补办"})
        problem(http.post(f"/api/v1/cases/{case.pk}/send-back", json={"note": "重办"}), 403)
    with person(live_server, people["supervisor"]) as http:
        body = http.post(f"/api/v1/cases/{case.pk}/send-back", json={"note": "整改不彻底"}).json()
    assert body["state"] == "called_back"


def test_bad_input_is_refused_in_chinese_naming_the_field_and_changes_nothing(live_server, case, people):
    with person(live_server, people["handler"]) as http:
        assert "不能变更" in problem(http.post(f"/api/v1/cases/{case.pk}/answer", json={"text": "已处理"}), 409)["detail"]
        future = (timezone.localtime() + timedelta(hours=2)).isoformat()
        problem(http.post(f"/api/v1/cases/{case.pk}/callback", json=callback_body(at=future)), 422, "at")
        problem(http.post(f"/api/v1/cases/{case.pk}/callback", json=callback_body(method="pigeon")), 422, "method")
        problem(http.post(f"/api/v1/cases/{case.pk}/callback", json=callback_body(at="2026-01-05T09:30:00")), 422, "at")
        before = actions(case)
        assert before == ["open"]
        called_back(http, case)
        problem(http.post(f"/api/v1/cases/{case.pk}/outcome", json={"outcome": "fixed_now"}), 422, "detail")
        problem(http.post(f"/api/v1/cases/{case.pk}/outcome", json={"outcome": "explained", "detail": "依法不予办理"}),
                422, "legal_basis")
        past = (timezone.localdate() - timedelta(days=1)).isoformat()
        problem(http.post(f"/api/v1/cases/{case.pk}/outcome", json={
            "outcome": "deadline", "problem": "p", "measures": "m", "responsible_person": "r", "deadline": past}),
            422, "deadline")
        problem(http.post(f"/api/v1/cases/{case.pk}/outcome", json={"outcome": "done"}), 422, "outcome")
        problem(http.post(f"/api/v1/cases/{case.pk}/outcome", json={"outcome": "fixed_now", "detial": "x"}),
                422, "detial")
        problem(http.post(f"/api/v1/cases/{case.pk}/outcome", content=b"{not json",
                          headers={"Content-Type": "application/json"}), 422, "body")
        r = http.post(f"/api/v1/cases/{case.pk}/outcome", data={"outcome": "mistaken", "evidence": "截图"},
                      files=[("files", ("截图.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"))])
        assert "PDF" in problem(r, 422, "files")["detail"]
    fresh = RectificationCase.objects.get(pk=case.pk)
    assert (fresh.state, fresh.outcome, fresh.proposed_outcome) == ("called_back", "", "")
    assert actions(case) == ["open", "callback"] and not CaseAttachment.objects.exists()


def test_out_of_scope_reads_like_missing_and_other_roles_are_refused(live_server, case, people):
    with person(live_server, people["other_handler"]) as http:
        hidden = http.post(f"/api/v1/cases/{case.pk}/callback", json=callback_body())
        missing = http.post("/api/v1/cases/99999999/callback", json=callback_body())
    assert problem(hidden, 404, "case_id") == problem(missing, 404, "case_id")
    with person(live_server, people["supervisor"]) as http:
        assert "无权" in problem(http.post(f"/api/v1/cases/{case.pk}/callback", json=callback_body()), 403)["title"]
    with person(live_server, people["handler"]) as http:
        problem(http.post(f"/api/v1/cases/{case.pk}/assign", json={"assignee": "sup-1"}), 422, "assignee")
        problem(http.post(f"/api/v1/cases/{case.pk}/assign", json={"assignee": "nobody"}), 422, "assignee")
    assert actions(case) == ["open"]
