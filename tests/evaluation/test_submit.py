"""POST /api/v1/evaluations, the label dictionary and the receipt, over real HTTP (R3.3, R3.4, R3.8, R8.1)."""

from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone

from haochaping.core import calendar
from haochaping.core.services import seed_national_calendar
from haochaping.evaluation import rules
from haochaping.evaluation.models import Evaluation, ImmutableEvaluationError
from haochaping.org.models import RegionPolicy
from tests.factories import SHANGHAI
from tests.records.helpers import (
    EVALUATOR_NAME,
    EVALUATOR_PHONE,
    assert_problem,
    evaluation_payload,
    full_evaluation_payload,
    record_payload,
)

pytestmark = pytest.mark.django_db(transaction=True)


def push(http, org, item, **kw):
    body = record_payload(org, item, **kw)
    r = http.post("/api/v1/records", json=body)
    assert r.status_code == 201, r.text
    return body["project_no"]


def test_full_evaluation_is_stored_with_targets_and_encrypted_evaluator(http, org, item):
    project_no = push(http, org, item)
    r = http.post("/api/v1/evaluations", json=full_evaluation_payload(project_no))
    assert r.status_code == 201, r.text
    out = r.json()
    assert set(out) == {"id", "receipt_code", "is_bad", "case_id", "leaf_hash", "created_at"}
    # A 差评 opens its rectification case in the same transaction (haochaping.rectification).
    assert out["is_bad"] is True and isinstance(out["case_id"], int)
    assert len(out["receipt_code"]) == 12 and len(out["leaf_hash"]) == 64
    assert out["created_at"].endswith("+08:00")
    ev = Evaluation.objects.get(pk=out["id"])
    assert (ev.window_id, ev.staff_id, ev.agency_id, ev.item_id) == (org.window.pk, org.staff.pk, org.agency.pk, item.pk)
    assert ev.questionnaire["process_convenient"] is False and ev.questionnaire["suggestions"] == "希望一次告知所需材料"
    assert ev.is_real_name is True
    assert ev.evaluator_phone.reveal() == EVALUATOR_PHONE and str(ev.evaluator_phone) == "158****2222"
    assert ev.evaluator_name.reveal() == EVALUATOR_NAME and str(ev.evaluator_name) == "司**如"
    assert [label.code for label in ev.labels.all()] == ["209"]


def test_anonymous_evaluation_has_no_personal_data(http, org, item):
    project_no = push(http, org, item)
    r = http.post("/api/v1/evaluations", json=evaluation_payload(project_no, channel="qr"))
    assert r.status_code == 201, r.text
    ev = Evaluation.objects.get()
    assert ev.is_real_name is False and ev.evaluator_phone is None and ev.evaluator_phone_index == ""


def test_bad_review_with_only_a_comment_is_accepted(http, org, item):
    project_no = push(http, org, item)
    r = http.post("/api/v1/evaluations", json=evaluation_payload(project_no, level=1, labels=[], comment="窗口无人"))
    assert r.status_code == 201 and r.json()["is_bad"] is True


def test_one_active_and_one_followup_per_stage(http, org, item):
    project_no = push(http, org, item)
    for stage in ("accept", "complete"):
        assert http.post("/api/v1/evaluations", json=evaluation_payload(project_no, stage=stage)).status_code == 201
    followup = evaluation_payload(project_no, type="followup", level=3, labels=[], comment="后来又补交了一次材料")
    assert http.post("/api/v1/evaluations", json=followup).status_code == 201
    assert_problem(http.post("/api/v1/evaluations", json=dict(followup, idempotency_key="another-key-1")), 409, "type")
    assert Evaluation.objects.count() == 3


def test_retry_with_the_same_key_returns_the_first_result(http, org, item):
    project_no = push(http, org, item)
    body = full_evaluation_payload(project_no)
    first, second, third = (http.post("/api/v1/evaluations", json=body) for _ in range(3))
    assert first.status_code == 201 and second.status_code == third.status_code == 200
    assert first.json() == second.json() == third.json()
    assert Evaluation.objects.count() == 1


def completed_working_days_ago(n: int, region_code: str) -> datetime:
    """A completion moment exactly ``n`` working days before today, at 10:00 Beijing time."""
    today = timezone.localdate()
    day = today - timedelta(days=1)
    while not (calendar.is_workday(day, region_code) and calendar.working_days_between(day, today, region_code) == n):
        day -= timedelta(days=1)
    return datetime.combine(day, time(10, 0), tzinfo=SHANGHAI)


def push_completed(http, org, item, working_days_ago: int) -> str:
    return push_completed_on(http, org, item, completed_working_days_ago(working_days_ago, org.county.code).date())


def push_completed_on(http, org, item, day: date) -> str:
    done = datetime.combine(day, time(10, 0), tzinfo=SHANGHAI)
    return push(http, org, item, accepted_at=done - timedelta(hours=1))


@pytest.mark.parametrize(
    ("today", "last_within", "first_too_late", "ended"),
    [
        # An ordinary Wednesday: Thu, Fri, Mon, Tue, Wed are the five working days after the Wednesday before.
        ("2026-12-09", "2026-12-02", "2026-12-01", "2026-12-08"),
        # A Saturday: the period of a 办件 completed on the Friday a week ago ended yesterday, not today.
        ("2026-12-05", "2026-11-30", "2026-11-27", "2026-12-04"),
        # After the National Day week, whose 7 days off do not count and whose make-up Saturday (10-10) does.
        ("2026-10-12", "2026-09-29", "2026-09-28", "2026-10-10"),
    ],
)
def test_supplementary_evaluation_is_open_for_five_working_days_after_completion(
    http, org, item, today, last_within, first_too_late, ended
):
    seed_national_calendar(2026)
    with time_machine.travel(datetime.fromisoformat(f"{today}T15:00:00+08:00"), tick=True):
        within = push_completed_on(http, org, item, date.fromisoformat(last_within))
        r = http.post("/api/v1/evaluations", json=evaluation_payload(within))
        assert r.status_code == 201, r.text
        assert Evaluation.objects.get().is_supplementary is True
        too_late = push_completed_on(http, org, item, date.fromisoformat(first_too_late))
        problem = assert_problem(http.post("/api/v1/evaluations", json=evaluation_payload(too_late)), 422, "stage")
        last = date.fromisoformat(ended)
        assert f"期限已于{last.year}年{last.month}月{last.day}日结束" in problem["detail"]
        assert Evaluation.objects.count() == 1


def test_on_site_evaluation_is_not_supplementary(http, org, item):
    now = timezone.localtime()
    start = max(datetime.combine(now.date(), time(0, 0), tzinfo=SHANGHAI), now - timedelta(hours=2))
    project_no = push(http, org, item, accepted_at=start, completed_at=(start + (now - start) / 2).isoformat())
    assert http.post("/api/v1/evaluations", json=evaluation_payload(project_no)).status_code == 201
    assert Evaluation.objects.get().is_supplementary is False


def test_region_policy_on_an_ancestor_overrides_the_period(http, org, item):
    RegionPolicy.objects.create(region=org.province, supplementary_days=10)
    eight_days = push_completed(http, org, item, 8)
    assert http.post("/api/v1/evaluations", json=evaluation_payload(eight_days)).status_code == 201
    # The nearer ancestor (the city) wins over the province.
    RegionPolicy.objects.create(region=org.city, supplementary_days=1)
    two_days = push_completed(http, org, item, 2)
    assert_problem(http.post("/api/v1/evaluations", json=evaluation_payload(two_days)), 422, "stage")


def test_labels_endpoint_serves_the_dictionary(anon_http, db):
    r = anon_http.get("/api/v1/labels")
    assert r.status_code == 200
    codes = {label["code"]: label for label in r.json()}
    assert codes["110"] == {"code": "110", "text": "无理由超过法定办理时间", "level": 1}
    assert all(label["level"] == int(label["code"][0]) for label in r.json())
    only_good = anon_http.get("/api/v1/labels", params={"level": 5}).json()
    assert {label["code"] for label in only_good} == {"510", "517"}


def test_levels_endpoint_gives_both_label_sets_five_best(anon_http, db):
    sat = anon_http.get("/api/v1/levels").json()
    good = anon_http.get("/api/v1/levels", params={"label_set": "good"}).json()
    assert [x["text"] for x in sat] == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    assert [x["text"] for x in good] == ["很好", "好", "一般", "差", "很差"]
    assert [x["is_bad"] for x in sat] == [False, False, False, True, True]


def test_receipt_shows_the_evaluation_without_personal_data(http, anon_http, org, item):
    project_no = push(http, org, item)
    created = http.post("/api/v1/evaluations", json=full_evaluation_payload(project_no)).json()
    r = anon_http.get(f"/api/v1/evaluations/receipt/{created['receipt_code'].lower()}")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["level"] == 2 and out["level_text"] == "不满意" and out["is_bad"] is True
    assert out["leaf_hash"] == created["leaf_hash"]
    assert out["followup_allowed"] is True
    for secret in (EVALUATOR_PHONE, EVALUATOR_NAME, "158****2222", "司**如", "欧阳娜娜", "13987654321"):
        assert secret not in r.text
    assert not any(k.startswith(("evaluator", "applicant")) for k in out)


def test_evaluations_are_never_updated_or_deleted(http, org, item):
    project_no = push(http, org, item)
    http.post("/api/v1/evaluations", json=evaluation_payload(project_no))
    ev = Evaluation.objects.get()
    ev.level = 1
    with pytest.raises(ImmutableEvaluationError):
        ev.save()
    with pytest.raises(ImmutableEvaluationError):
        ev.delete()
    with pytest.raises(ImmutableEvaluationError):
        Evaluation.objects.filter(pk=ev.pk).update(level=1)
    with pytest.raises(ImmutableEvaluationError):
        Evaluation.objects.all().delete()
    assert Evaluation.objects.get().level == 5


def test_gbt39046_codes_are_the_reverse_of_the_internal_scale():
    assert [rules.level_to_gbt39046(n) for n in (5, 4, 3, 2, 1)] == [1, 2, 3, 4, 5]
    assert all(rules.level_from_gbt39046(rules.level_to_gbt39046(n)) == n for n in rules.LEVELS)
