"""Appeals (申诉, R7.3): the rated party appeals a 差评 within its period; a supervisor over the case's region
reviews it; upheld takes the evaluation out of statistics (never deleting it) and closes the case."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from haochaping.accounts.models import Role, User
from haochaping.core import calendar
from haochaping.core.models import AuditEntry
from haochaping.core.problems import DomainError
from haochaping.evaluation.models import Evaluation, EvaluationExclusion
from haochaping.evaluation.services import exclude_evaluation
from haochaping.org.models import RegionPolicy, Staff
from haochaping.rectification.models import Appeal, CaseAttachment, CaseTransition, RectificationCase
from haochaping.rectification.services import appeals

from .conftest import submit

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def pdf(name="说明.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def refused(call, status, field):
    with pytest.raises(DomainError) as exc:
        call()
    assert (exc.value.status, exc.value.field) == (status, field), exc.value
    return exc.value.detail


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]



@pytest.fixture
def case(record):
    return RectificationCase.objects.get(pk=submit(record).case_id)


@pytest.fixture
def staff_user(org):
    return User.objects.create(username="S-rated", role=Role.STAFF, region=org.county, staff=org.staff)


@pytest.fixture
def colleague(org):
    staff = Staff.objects.create(staff_no="S-OTHER", name="赵六", agency=org.agency, department=org.department)
    return User.objects.create(username="S-colleague", role=Role.STAFF, region=org.county, staff=staff)


@pytest.fixture
def city_supervisor(org):
    return User.objects.create(username="sup-city", role=Role.SUPERVISOR, region=org.city)


def nothing_written(case, media):
    assert not Appeal.objects.exists()
    assert not CaseAttachment.objects.exists()
    assert not CaseTransition.objects.filter(case=case).exclude(action="open").exists()
    assert not AuditEntry.objects.filter(action__startswith="appeal.").exists()
    assert stored_files(media) == []


# --- who may appeal ---------------------------------------------------------------------------------------


def test_is_rated_party_is_the_rated_staff_member_or_a_handler_of_the_unit(case, staff_user, colleague, people):
    assert appeals.is_rated_party(staff_user, case)
    assert appeals.is_rated_party(people["handler"], case)
    assert not appeals.is_rated_party(colleague, case)
    assert not appeals.is_rated_party(people["other_handler"], case)
    assert not appeals.is_rated_party(people["supervisor"], case)
    assert not appeals.is_rated_party(None, case)
    staff_user.is_active = False
    assert not appeals.is_rated_party(staff_user, case)


def test_the_rated_staff_member_appeals_with_evidence(case, staff_user, media):
    appeal = appeals.submit_appeal(case.pk, actor=staff_user, explanation="  评价人当日未到窗口办理  ",
                                   files=[pdf(), SimpleUploadedFile("窗口照片.png", PNG)])
    appeal.refresh_from_db()
    assert (appeal.state, appeal.party, appeal.appellant_id, appeal.evaluation_id) == (
        "submitted", "staff", staff_user.pk, case.evaluation_id)
    assert appeal.explanation == "评价人当日未到窗口办理"
    today = timezone.localdate()
    assert appeal.review_due == calendar.add_working_days(today, 5, case.region_id)
    files = list(appeal.attachments.order_by("pk"))
    assert [(f.purpose, f.original_name, f.case_id) for f in files] == [
        ("appeal", "说明.pdf", case.pk), ("appeal", "窗口照片.png", case.pk)]
    assert files[0].file.read() == PDF
    # Stored under our own name, never the uploaded one.
    assert "说明" not in files[0].file.name
    assert len(stored_files(media)) == 2
    case.refresh_from_db()
    assert case.state == "open"
    step = CaseTransition.objects.get(case=case, action="appeal_submitted")
    assert (step.from_state, step.to_state, step.actor_id) == ("open", "open", staff_user.pk)
    audit = AuditEntry.objects.get(action="appeal.submitted")
    assert audit.object_id == str(appeal.pk)
    assert "评价人" not in str(audit.data) and "说明.pdf" not in str(audit.data)


def test_a_handler_of_the_unit_appeals_for_the_unit(case, people):
    appeal = appeals.submit_appeal(case.pk, actor=people["handler"], explanation="办件材料齐全，已当场办结")
    assert appeal.party == "unit"
    assert not appeal.attachments.exists()


def test_the_review_period_follows_the_region_policy(case, staff_user, org):
    RegionPolicy.objects.create(region=org.city, appeal_review_days=2)
    appeal = appeals.submit_appeal(case.pk, actor=staff_user, explanation="理由")
    assert appeal.review_due == calendar.add_working_days(timezone.localdate(), 2, case.region_id)


def test_a_supervisor_is_not_the_rated_party(case, people, media):
    detail = refused(lambda: appeals.submit_appeal(case.pk, actor=people["supervisor"], explanation="理由"),
                     403, "case_id")
    assert "只有被评价的工作人员或单位" in detail
    nothing_written(case, media)


@pytest.mark.parametrize("who", ["colleague", "other_handler"])
def test_someone_outside_the_case_gets_not_found(case, people, colleague, who, media):
    actor = colleague if who == "colleague" else people[who]
    refused(lambda: appeals.submit_appeal(case.pk, actor=actor, explanation="理由", files=[pdf()]), 404, "case_id")
    refused(lambda: appeals.submit_appeal(999_999, actor=actor, explanation="理由"), 404, "case_id")
    nothing_written(case, media)


def test_an_appeal_after_the_period_is_refused(case, staff_user, media):
    RectificationCase.objects.filter(pk=case.pk).update(appeal_due=timezone.localdate() - timedelta(days=1))
    detail = refused(lambda: appeals.submit_appeal(case.pk, actor=staff_user, explanation="理由", files=[pdf()]),
                     422, "case_id")
    assert "已超过申诉期限" in detail
    nothing_written(case, media)


def test_the_last_day_of_the_period_is_still_in_time(case, staff_user):
    RectificationCase.objects.filter(pk=case.pk).update(appeal_due=timezone.localdate())
    assert appeals.submit_appeal(case.pk, actor=staff_user, explanation="理由").state == "submitted"


def test_a_bad_review_is_appealed_once(case, staff_user, people):
    appeals.submit_appeal(case.pk, actor=staff_user, explanation="理由")
    detail = refused(lambda: appeals.submit_appeal(case.pk, actor=people["handler"], explanation="再次"), 409, "case_id")
    assert "只能申诉一次" in detail
    assert Appeal.objects.count() == 1


def test_a_closed_case_cannot_be_appealed(case, staff_user):
    RectificationCase.objects.filter(pk=case.pk).update(state="closed")
    assert "已办结" in refused(lambda: appeals.submit_appeal(case.pk, actor=staff_user, explanation="理由"), 409, "case_id")


def test_a_complaint_cannot_be_appealed(org, people):
    from haochaping.rectification import services

    complaint = services.open_complaint(summary="窗口态度差", actor=people["supervisor"], department=org.department)
    refused(lambda: appeals.submit_appeal(complaint.pk, actor=people["handler"], explanation="理由"), 403, "case_id")


@pytest.mark.parametrize("explanation", ["", "   ", "长" * 2001])
def test_the_explanation_is_required_and_bounded(case, staff_user, explanation, media):
    detail = refused(lambda: appeals.submit_appeal(case.pk, actor=staff_user, explanation=explanation, files=[pdf()]),
                     422, "explanation")
    assert "申诉理由" in detail
    nothing_written(case, media)


@pytest.mark.parametrize("upload, words", [
    (SimpleUploadedFile("evidence.exe", b"MZ\x90\x00"), "只接受 JPG、PNG 图片或 PDF"),
    (SimpleUploadedFile("evidence.pdf", b"MZ\x90\x00 not a pdf"), "内容不是PDF"),
    (SimpleUploadedFile("empty.png", b""), "空文件"),
])
def test_bad_evidence_files_refuse_the_whole_appeal(case, staff_user, upload, words, media):
    detail = refused(lambda: appeals.submit_appeal(case.pk, actor=staff_user, explanation="理由",
                                                   files=[pdf(), upload]), 422, "files")
    assert "申诉证据" in detail and words in detail
    nothing_written(case, media)


def test_at_most_five_evidence_files(case, staff_user, media):
    files = [pdf(f"{n}.pdf") for n in range(6)]
    assert "最多" in refused(lambda: appeals.submit_appeal(case.pk, actor=staff_user, explanation="理由", files=files),
                           422, "files")
    nothing_written(case, media)


def test_a_failure_after_the_files_were_stored_leaves_no_orphan_files(case, staff_user, media, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(appeals, "_record", broken)
    with pytest.raises(RuntimeError):
        appeals.submit_appeal(case.pk, actor=staff_user, explanation="理由", files=[pdf(), pdf("2.pdf")])
    nothing_written(case, media)


# --- review -----------------------------------------------------------------------------------------------


@pytest.fixture
def appeal(case, staff_user):
    return appeals.submit_appeal(case.pk, actor=staff_user, explanation="评价人当日未到窗口", files=[pdf()])


def test_a_supervisor_starts_the_review(appeal, people):
    result = appeals.start_review(appeal.pk, actor=people["supervisor"])
    appeal.refresh_from_db()
    assert (result.state, appeal.state, appeal.reviewer_id) == ("under_review", "under_review", people["supervisor"].pk)
    step = CaseTransition.objects.get(action="appeal_review")
    assert (step.from_state, step.to_state) == ("open", "open")
    audit = AuditEntry.objects.get(action="appeal.review")
    assert audit.data["from"] == "submitted" and audit.data["to"] == "under_review"
    # Twice is a conflict, and writes nothing more.
    assert "审核中" in refused(lambda: appeals.start_review(appeal.pk, actor=people["supervisor"]), 409, "state")
    assert CaseTransition.objects.filter(action="appeal_review").count() == 1


def test_a_supervisor_of_an_ancestor_region_may_review(appeal, city_supervisor):
    assert appeals.start_review(appeal.pk, actor=city_supervisor).state == "under_review"


@pytest.mark.parametrize("who, status", [("handler", 403), ("staff", 403), ("far_supervisor", 404),
                                         ("other_handler", 404)])
def test_only_a_supervisor_over_the_case_reviews(appeal, people, staff_user, who, status):
    actor = staff_user if who == "staff" else people[who]
    refused(lambda: appeals.start_review(appeal.pk, actor=actor), status, "appeal_id")
    refused(lambda: appeals.decide_appeal(appeal.pk, actor=actor, upheld=True, note="成立"), status, "appeal_id")
    appeal.refresh_from_db()
    assert appeal.state == "submitted"
    assert not EvaluationExclusion.objects.exists()


def test_a_missing_appeal_is_not_found(people):
    refused(lambda: appeals.start_review(12345, actor=people["supervisor"]), 404, "appeal_id")
    refused(lambda: appeals.decide_appeal(12345, actor=people["supervisor"], upheld=False, note="x"), 404, "appeal_id")


def test_an_upheld_appeal_excludes_the_evaluation_and_closes_the_case(appeal, case, people):
    evaluation = Evaluation.objects.get(pk=case.evaluation_id)
    assert Evaluation.objects.countable().filter(pk=evaluation.pk).exists()
    appeals.start_review(appeal.pk, actor=people["supervisor"])
    result = appeals.decide_appeal(appeal.pk, actor=people["supervisor"], upheld=True, note="  监控显示评价人未到窗口  ")
    assert result.state == "upheld"
    appeal.refresh_from_db()
    assert (appeal.state, appeal.decision_note, appeal.reviewer_id) == ("upheld", "监控显示评价人未到窗口",
                                                                        people["supervisor"].pk)
    assert appeal.decided_at is not None
    exclusion = EvaluationExclusion.objects.get()
    assert (exclusion.evaluation_id, exclusion.reason, exclusion.source) == (evaluation.pk, "appeal_upheld",
                                                                             f"appeal:{appeal.pk}")
    # Never deleted, only out of statistics.
    assert Evaluation.objects.filter(pk=evaluation.pk).exists()
    assert not Evaluation.objects.countable().filter(pk=evaluation.pk).exists()
    assert Evaluation.objects.excluded().filter(pk=evaluation.pk).exists()
    case.refresh_from_db()
    assert case.state == "closed" and case.closed_at is not None
    step = CaseTransition.objects.get(case=case, action="appeal_upheld")
    assert (step.from_state, step.to_state) == ("open", "closed")
    audit = AuditEntry.objects.get(action="appeal.upheld")
    assert "监控" not in str(audit.data)
    # Decided is final.
    refused(lambda: appeals.decide_appeal(appeal.pk, actor=people["supervisor"], upheld=False, note="改判"), 409, "state")
    refused(lambda: appeals.start_review(appeal.pk, actor=people["supervisor"]), 409, "state")


def test_a_rejected_appeal_lets_the_case_go_on(appeal, case, people):
    from haochaping.rectification import services

    appeals.decide_appeal(appeal.pk, actor=people["supervisor"], upheld=False, note="证据不足以证明误评")
    appeal.refresh_from_db()
    assert appeal.state == "rejected"
    case.refresh_from_db()
    assert case.state == "open" and case.closed_at is None
    assert not EvaluationExclusion.objects.exists()
    assert Evaluation.objects.countable().filter(pk=case.evaluation_id).exists()
    step = CaseTransition.objects.get(case=case, action="appeal_rejected")
    assert (step.from_state, step.to_state) == ("open", "open")
    # The case goes on: the handler can still assign it.
    services.assign(case.pk, people["handler"], actor=people["handler"])


@pytest.mark.parametrize("upheld, note, field", [(None, "意见", "upheld"), (True, "  ", "note"),
                                                  (False, "长" * 2001, "note")])
def test_a_decision_needs_a_choice_and_reasons(appeal, case, people, upheld, note, field):
    refused(lambda: appeals.decide_appeal(appeal.pk, actor=people["supervisor"], upheld=upheld, note=note), 422, field)
    appeal.refresh_from_db()
    case.refresh_from_db()
    assert (appeal.state, case.state) == ("submitted", "open")
    assert not EvaluationExclusion.objects.exists()
    assert not CaseTransition.objects.filter(action__in=["appeal_upheld", "appeal_rejected"]).exists()


def test_an_upheld_appeal_of_an_already_excluded_evaluation_excludes_it_once(appeal, case, people):
    exclude_evaluation(case.evaluation_id, reason="malicious", source=f"case:{case.pk}", actor=people["supervisor"])
    appeals.decide_appeal(appeal.pk, actor=people["supervisor"], upheld=True, note="成立")
    assert list(EvaluationExclusion.objects.values_list("source", flat=True)) == [f"case:{case.pk}"]
    case.refresh_from_db()
    assert case.state == "closed"


def test_a_case_closed_meanwhile_stays_closed_when_the_appeal_is_upheld(appeal, case, people):
    closed_at = timezone.now() - timedelta(hours=1)
    RectificationCase.objects.filter(pk=case.pk).update(state="closed", closed_at=closed_at)
    appeals.decide_appeal(appeal.pk, actor=people["supervisor"], upheld=True, note="成立")
    case.refresh_from_db()
    assert (case.state, case.closed_at) == ("closed", closed_at)
    assert EvaluationExclusion.objects.filter(evaluation_id=case.evaluation_id).exists()
    step = CaseTransition.objects.get(action="appeal_upheld")
    assert (step.from_state, step.to_state) == ("closed", "closed")


def test_an_upheld_appeal_counts_the_unit_without_the_review(appeal, case, people):
    evaluation = Evaluation.objects.get(pk=case.evaluation_id)
    before = appeals.unit_bad_reviews(evaluation)
    assert before == {"department": 1, "staff": 1}
    appeals.decide_appeal(appeal.pk, actor=people["supervisor"], upheld=True, note="成立")
    assert appeals.unit_bad_reviews(evaluation) == {"department": 0, "staff": 0}


# --- two people at once (PostgreSQL row locks) ---------------------------------------------------------------


def at_once(*calls):
    """Run the calls at the same moment, each in its own thread (its own database connection); their outcomes."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.fail("needs PostgreSQL (marked pg_only: runs in make test-pg): run with DATABASE_URL=postgres://…")
    barrier = threading.Barrier(len(calls))

    def go(call):
        barrier.wait()
        try:
            return call()
        except DomainError as exc:
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(go, calls))


@pytest.mark.pg_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_appeals_at_once_file_one(case, staff_user, people, attempt):
    results = at_once(lambda: appeals.submit_appeal(case.pk, actor=staff_user, explanation="工作人员申诉"),
                      lambda: appeals.submit_appeal(case.pk, actor=people["handler"], explanation="单位申诉"))
    refusals = [r for r in results if isinstance(r, DomainError)]
    assert len(refusals) == 1 and (refusals[0].status, refusals[0].field) == (409, "case_id")
    assert Appeal.objects.count() == 1
    assert CaseTransition.objects.filter(case=case, action="appeal_submitted").count() == 1


@pytest.mark.pg_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_decisions_at_once_leave_one(case, staff_user, people, city_supervisor, attempt):
    appeal = appeals.submit_appeal(case.pk, actor=staff_user, explanation="理由")
    results = at_once(lambda: appeals.decide_appeal(appeal.pk, actor=people["supervisor"], upheld=True, note="成立"),
                      lambda: appeals.decide_appeal(appeal.pk, actor=city_supervisor, upheld=False, note="不成立"))
    refusals = [r for r in results if isinstance(r, DomainError)]
    assert len(refusals) == 1 and (refusals[0].status, refusals[0].field) == (409, "state")
    appeal.refresh_from_db()
    case.refresh_from_db()
    decided = CaseTransition.objects.filter(case=case, action__in=["appeal_upheld", "appeal_rejected"])
    assert decided.count() == 1
    if appeal.state == "upheld":
        assert case.state == "closed" and EvaluationExclusion.objects.count() == 1
    else:
        assert case.state == "open" and not EvaluationExclusion.objects.exists()
