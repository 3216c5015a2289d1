"""Third-party assessments through the service layer: commission, submit inside scope and period, accept or
return (and resubmit), open rectification cases from accepted findings; refusals name the field and write
nothing."""

from datetime import timedelta

import pytest

from haochaping.core.models import AuditEntry
from haochaping.core.problems import DomainError
from haochaping.rectification.models import RectificationCase
from haochaping.rectification.rules import Kind
from haochaping.supervision.assessments import services
from haochaping.supervision.assessments.models import (
    Assessment,
    AssessmentEvidence,
    AssessmentScore,
    Commission,
)
from haochaping.supervision.assessments.rules import ScoreInput, State
from tests import factories

from .appraisal_helpers import pdf, png, this_period

pytestmark = pytest.mark.django_db

SCORES = [ScoreInput("STD-ASSESS", 70, "窗口未公示办事指南", "按标准公示"), ScoreInput("ITEM-GUIDE", 90)]


def submit(cast, commission, org, **kw):
    start, end = this_period()
    args = dict(actor=cast["assessor"], commission_id=commission.pk, department=org.department, start=start,
                end=end, summary="总体规范，个别窗口公示不全", report=pdf(), scores=SCORES,
                files={0: [png(), pdf("记录.pdf")]})
    args.update(kw)
    return services.submit_assessment(**args)


def nothing_written():
    return Assessment.objects.count(), AssessmentScore.objects.count(), AssessmentEvidence.objects.count()


def test_submit_accept_and_open_a_case(org, cast, commission):
    a = submit(cast, commission, org)
    assert a.state == State.SUBMITTED and a.score == 80
    assert a.scores.count() == 2 and AssessmentEvidence.objects.filter(score__assessment=a).count() == 2
    assert a.report_name == "评估报告.pdf" and a.report.name.endswith(".pdf") and "评估报告" not in a.report.name
    assert list(services.pending_for(cast["supervisor"])) == [a]
    assert not services.pending_for(cast["far_supervisor"]).exists()
    services.accept(a.pk, actor=cast["supervisor"])
    a.refresh_from_db()
    assert a.state == State.ACCEPTED and a.decided_by == cast["supervisor"]
    finding = a.scores.get(indicator__code="STD-ASSESS")
    [case_id] = services.open_cases(a.pk, [finding.pk], actor=cast["supervisor"])
    case = RectificationCase.objects.get(pk=case_id)
    assert case.kind == Kind.COMPLAINT and case.department == org.department and "窗口未公示办事指南" in case.summary
    finding.refresh_from_db()
    assert finding.case_id == case_id
    with pytest.raises(DomainError) as err:  # the same finding twice
        services.open_cases(a.pk, [finding.pk], actor=cast["supervisor"])
    assert err.value.field == "scores"
    with pytest.raises(DomainError) as err:  # no findings written: nothing to rectify
        services.open_cases(a.pk, [a.scores.get(indicator__code="ITEM-GUIDE").pk], actor=cast["supervisor"])
    assert err.value.field == "scores"
    assert RectificationCase.objects.count() == 1
    actions = set(AuditEntry.objects.filter(action__startswith="assessment.").values_list("action", flat=True))
    assert {"assessment.submit", "assessment.accept", "assessment.open_cases"} <= actions


def test_returned_with_reason_then_resubmitted(org, cast, commission):
    a = submit(cast, commission, org)
    with pytest.raises(DomainError) as err:
        services.return_assessment(a.pk, actor=cast["supervisor"], reason="  ")
    assert err.value.field == "reason"
    services.return_assessment(a.pk, actor=cast["supervisor"], reason="缺少现场照片")
    a.refresh_from_db()
    assert a.state == State.RETURNED and a.return_reason == "缺少现场照片"
    with pytest.raises(DomainError) as err:
        services.accept(a.pk, actor=cast["supervisor"])
    assert err.value.status == 409
    again = submit(cast, commission, org, assessment_id=a.pk, scores=[ScoreInput("STD-ASSESS", 60, "补充")])
    assert again.pk == a.pk and again.state == State.SUBMITTED and again.submissions == 2 and again.score == 60
    assert again.scores.count() == 1


@pytest.mark.parametrize("change, field", [
    ("late", "period_end"), ("early", "period_start"), ("other_county", "department"), ("no_summary", "summary"),
    ("bad_score", "scores[1].score"), ("unknown_indicator", "scores[0].indicator"), ("exe_report", "report"),
    ("bad_evidence", "scores[0].files"),
])
def test_refused_outside_scope_or_with_bad_input_naming_the_field(org, cast, commission, change, field):
    from django.core.files.uploadedfile import SimpleUploadedFile

    start, end = this_period()
    far = factories.department(org.other_county, "市中区某局")
    kw = {
        "late": dict(end=end + timedelta(days=1)), "early": dict(start=start - timedelta(days=1)),
        "other_county": dict(department=far), "no_summary": dict(summary=" "),
        "bad_score": dict(scores=[SCORES[0], ScoreInput("ITEM-GUIDE", 120)]),
        "unknown_indicator": dict(scores=[ScoreInput("NOPE", 50)]),
        "exe_report": dict(report=SimpleUploadedFile("report.pdf", b"MZ\x90\x00")),
        "bad_evidence": dict(files={0: [SimpleUploadedFile("a.png", b"not a png")]}),
    }[change]
    before = nothing_written()
    with pytest.raises(DomainError) as err:
        submit(cast, commission, org, **kw)
    assert err.value.field == field and err.value.status == 422
    assert nothing_written() == before


def test_only_members_submit_and_only_the_agency_decides(org, cast, commission):
    with pytest.raises(DomainError) as err:
        submit(cast, commission, org, actor=cast["outsider"])
    assert err.value.status == 404
    with pytest.raises(DomainError) as err:
        submit(cast, commission, org, actor=cast["supervisor"])
    assert err.value.status == 403
    a = submit(cast, commission, org)
    with pytest.raises(DomainError) as err:
        services.accept(a.pk, actor=cast["far_supervisor"])
    assert err.value.status == 404
    with pytest.raises(DomainError) as err:
        services.accept(a.pk, actor=cast["handler"])
    assert err.value.status == 403
    assert list(services.visible_commissions(cast["assessor"])) == [commission]
    assert not services.visible_commissions(cast["outsider"]).exists()
    assert not services.visible_commissions(cast["handler"]).exists()


def test_a_commission_outside_the_agencys_subtree_is_refused(org, cast):
    start, end = this_period()
    with pytest.raises(DomainError) as err:
        services.create_commission(actor=cast["supervisor"], title="x", organisation=cast["organisation"],
                                   scope_region=org.city, start=start, end=end)
    assert err.value.field == "scope_region"
    with pytest.raises(DomainError) as err:
        services.create_commission(actor=cast["supervisor"], title="x", organisation=cast["organisation"],
                                   scope_region=org.county, start=end, end=start)
    assert err.value.field == "period_end"
    with pytest.raises(DomainError) as err:
        services.create_commission(actor=cast["far_supervisor"], title="x", organisation=cast["organisation"],
                                   scope_region=org.other_county, start=start, end=end)
    assert err.value.field == "agency"  # 市中区 has no management agency in the fixture
    assert Commission.objects.count() == 0
