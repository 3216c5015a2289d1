"""Use cases of third-party assessments: a management agency's supervisor commissions an assessor organisation,
its members submit assessments inside the commission's scope and period, the agency accepts or returns them, and
accepted findings open rectification cases for the units through rectification.services.open_complaint (the
routing and deadlines are rectification's). Accepted assessments feed the unit's appraisal (appraisal.sources
``assessment_score``).

One transaction per use case, one ``core.AuditEntry`` each (ids and codes only); bad input is a DomainError naming
the field, raised before anything is written."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from haochaping.accounts.roles import Role
from haochaping.core import uploads
from haochaping.core.models import AuditEntry
from haochaping.core.problems import DomainError, invalid, not_found
from haochaping.core.scoping import can_see, scope
from haochaping.org.models import ManagementAgency
from haochaping.rectification.services.common import check_files

from ..appraisal import services as appraisal_services
from ..appraisal.models import Indicator
from . import rules
from .models import Assessment, AssessmentEvidence, AssessmentScore, AssessorOrganisation, Commission
from .rules import CommissionScope, ScoreInput, State

REASON_MAX = 2000


def _forbidden(detail: str) -> DomainError:
    return DomainError(403, "禁止访问", detail, None, code="forbidden")


def is_supervisor(user) -> bool:
    return bool(user and user.is_active and (user.is_superuser or user.role == Role.SUPERVISOR))


def is_assessor(user) -> bool:
    return bool(user and user.is_active and user.role == Role.ASSESSOR)


def visible_commissions(user):
    """Supervisors: the commissions of the agencies in their region subtree; assessors: their organisations'."""
    if is_supervisor(user):
        return scope(Commission.objects.all(), user)
    if is_assessor(user):
        return Commission.objects.filter(organisation__members=user)
    return Commission.objects.none()


def visible_assessments(user):
    return Assessment.objects.filter(commission__in=visible_commissions(user))


def _require_supervisor(actor) -> None:
    if not is_supervisor(actor):
        raise _forbidden("只有政务服务管理机构的监督人员可以进行此操作")


# ---- organisations and commissions -------------------------------------------------------------------------


def register_organisation(*, actor, name: str, region, members=(), credit_code: str = "") -> AssessorOrganisation:
    """Register an assessor organisation in the actor's subtree; its members must be assessor accounts."""
    _require_supervisor(actor)
    name = (name or "").strip()
    if not name:
        raise invalid("请填写评估机构名称", "name")
    if region is None or not can_see(actor, region):
        raise not_found("没有这个行政区划", "region")
    members = list(members)
    if any(m.role != Role.ASSESSOR for m in members):
        raise invalid("评估人员须为“第三方评估机构人员”角色的账号", "members")
    with transaction.atomic():
        org = AssessorOrganisation.objects.create(name=name, region=region, credit_code=(credit_code or "").strip())
        org.members.set(members)
        AuditEntry.objects.create(actor=actor.username, action="assessment.organisation",
                                  object_type="supervision.AssessorOrganisation", object_id=str(org.pk),
                                  data={"members": len(members)})
    return org


def create_commission(*, actor, title: str, organisation, scope_region, start, end, departments=(), items=(),
                      now=None) -> Commission:
    """The actor's management agency commissions ``organisation`` for the scope and period."""
    _require_supervisor(actor)
    title = (title or "").strip()
    if not title:
        raise invalid("请填写委托事项", "title")
    if organisation is None:
        raise invalid("请选择评估机构", "organisation")
    agency = ManagementAgency.objects.filter(region_id=getattr(actor, "region_id", None)).first()
    if agency is None:
        raise invalid("您所在的行政区划没有登记政务服务管理机构，不能委托评估", "agency")
    if scope_region is None:
        raise invalid("请选择评估范围（行政区划）", "scope_region")
    scope_ = CommissionScope(scope_region.code, start, end)
    rules.check_commission(scope_, agency_region=agency.region_id)
    departments, items = list(departments), list(items)
    for d in departments:
        if not d.region_id.startswith(rules.region_prefix(scope_region.code)):
            raise invalid(f"限定部门“{d.name}”不在评估范围的行政区划内", "departments")
    with transaction.atomic():
        commission = Commission.objects.create(
            title=title, agency=agency, organisation=organisation, scope_region=scope_region, period_start=start,
            period_end=end, created_by=actor, created_at=now or timezone.now())
        commission.departments.set(departments)
        commission.items.set(items)
        AuditEntry.objects.create(actor=actor.username, action="assessment.commission",
                                  object_type="supervision.Commission", object_id=str(commission.pk),
                                  data={"organisation": organisation.pk, "scope_region": scope_region.code})
    return commission


def commission_scope(commission: Commission) -> CommissionScope:
    return CommissionScope(commission.scope_region_id, commission.period_start, commission.period_end,
                           frozenset(commission.departments.values_list("pk", flat=True)),
                           frozenset(commission.items.values_list("pk", flat=True)))


# ---- submitting ----------------------------------------------------------------------------------------------


def _checked_report(report):
    try:
        kind = uploads.check_scan(report, label="评估报告")
    except ValidationError as exc:
        raise invalid(exc.messages[0], "report") from None
    return report, kind


def _checked_evidence(files_by_row: dict[int, list], rows: int) -> dict[int, list]:
    out = {}
    for i in range(rows):
        try:
            out[i] = check_files(files_by_row.get(i, ()), label="证据材料")
        except DomainError as exc:
            raise invalid(exc.detail, f"scores[{i}].files") from None
    return out


def submit_assessment(*, actor, commission_id, department, start, end, summary: str, report, scores: list[ScoreInput],
                      files: dict[int, list] | None = None, item=None, assessment_id=None, now=None) -> Assessment:
    """A member of the commissioned organisation submits an assessment of one department (or, with
    ``assessment_id``, submits a returned one again, replacing its scores and report). Refused, naming the field,
    outside the commission's scope or period, with a score out of 0–100, or a file that is not a JPG, PNG or PDF
    within the size limit."""
    if not is_assessor(actor):
        raise _forbidden("只有受委托评估机构的评估人员可以提交评估")
    commission = Commission.objects.filter(pk=commission_id, organisation__members=actor).select_related(
        "organisation").first()
    if commission is None:
        raise not_found("没有这项评估委托", "commission")
    rules.check_in_commission(commission_scope(commission), department_id=getattr(department, "pk", None),
                              department_region=getattr(department, "region_id", None),
                              item_id=getattr(item, "pk", None), start=start, end=end)
    summary = (summary or "").strip()
    if not summary:
        raise invalid("请填写评估结论", "summary")
    applicable = {d.code: d for d in appraisal_services.effective_for(department.region_id)}
    scores = [ScoreInput((s.indicator or "").strip().upper(), s.score, (s.findings or "").strip(),
                         (s.recommendations or "").strip()) for s in scores]
    rules.check_scores(scores, indicators=set(applicable))
    report = _checked_report(report)
    evidence = _checked_evidence(files or {}, len(scores))
    now = now or timezone.now()
    with transaction.atomic():
        if assessment_id is not None:
            assessment = (Assessment.objects.select_for_update().filter(pk=assessment_id, commission=commission)
                          .first())
            if assessment is None:
                raise not_found("没有这份评估报告", "assessment")
            assessment.state = rules.move(assessment.state, "resubmit")
            assessment.submissions += 1
            assessment.scores.all().delete()
        else:
            assessment = Assessment(commission=commission)
        assessment.department, assessment.item = department, item
        assessment.period_start, assessment.period_end, assessment.summary = start, end, summary
        assessment.score = rules.assessment_score([float(s.score) for s in scores])
        assessment.submitted_by, assessment.submitted_at = actor, now
        upload, kind = report
        assessment.report_name = (upload.name or "")[-200:]
        assessment.report.save(f"{uuid.uuid4().hex}.{kind}", upload, save=False)
        assessment.save()
        for i, s in enumerate(scores):
            d = applicable[s.indicator]
            indicator = Indicator.objects.get(code=d.code, region_id=d.region)
            row = AssessmentScore.objects.create(assessment=assessment, indicator=indicator, score=float(s.score),
                                                 findings=s.findings, recommendations=s.recommendations)
            for upload, kind in evidence[i]:
                ev = AssessmentEvidence(score=row, original_name=(upload.name or "")[-200:], size=upload.size or 0,
                                        uploaded_at=now)
                ev.file.save(f"{uuid.uuid4().hex}.{kind}", upload, save=False)
                ev.save()
        AuditEntry.objects.create(actor=actor.username, action="assessment.submit",
                                  object_type="supervision.Assessment", object_id=str(assessment.pk),
                                  data={"commission": commission.pk, "department": department.pk,
                                        "submissions": assessment.submissions})
    return assessment


# ---- the agency's decision ---------------------------------------------------------------------------------


def _locked(assessment_id, actor) -> Assessment:
    _require_supervisor(actor)
    assessment = (Assessment.objects.select_for_update().filter(pk=assessment_id,
                                                                commission__in=visible_commissions(actor)).first())
    if assessment is None:
        raise not_found("没有这份评估报告", "assessment")
    return assessment


def accept(assessment_id, *, actor, now=None) -> Assessment:
    """The agency accepts a submitted assessment: its score counts in the unit's appraisal from now on."""
    with transaction.atomic():
        assessment = _locked(assessment_id, actor)
        assessment.state = rules.move(assessment.state, "accept")
        assessment.decided_by, assessment.decided_at, assessment.return_reason = actor, now or timezone.now(), ""
        assessment.save(update_fields=["state", "decided_by", "decided_at", "return_reason"])
        AuditEntry.objects.create(actor=actor.username, action="assessment.accept",
                                  object_type="supervision.Assessment", object_id=str(assessment.pk), data={})
    return assessment


def return_assessment(assessment_id, *, actor, reason: str, now=None) -> Assessment:
    """The agency returns a submitted assessment with the reason (required); the assessor may submit it again."""
    reason = (reason or "").strip()
    if not reason:
        raise invalid("请填写退回理由", "reason")
    if len(reason) > REASON_MAX:
        raise invalid(f"退回理由不超过{REASON_MAX}字", "reason")
    with transaction.atomic():
        assessment = _locked(assessment_id, actor)
        assessment.state = rules.move(assessment.state, "return")
        assessment.decided_by, assessment.decided_at, assessment.return_reason = actor, now or timezone.now(), reason
        assessment.save(update_fields=["state", "decided_by", "decided_at", "return_reason"])
        AuditEntry.objects.create(actor=actor.username, action="assessment.return",
                                  object_type="supervision.Assessment", object_id=str(assessment.pk), data={})
    return assessment


def open_cases(assessment_id, score_ids, *, actor) -> list[int]:
    """Open a rectification case (投诉, routed to the assessed department by rectification) for each chosen
    finding of an accepted assessment that has findings and no case yet. Returns the new cases' ids."""
    from haochaping.rectification import services as rectification

    ids = {int(i) for i in score_ids or () if str(i).isdigit()}
    if not ids:
        raise invalid("请选择要整改的评估发现", "scores")
    opened = []
    with transaction.atomic():
        assessment = _locked(assessment_id, actor)
        if assessment.state != State.ACCEPTED:
            raise invalid("评估报告采纳后才能据其发现立案整改", "state")
        rows = list(assessment.scores.select_for_update().filter(pk__in=ids).select_related("indicator"))
        if len(rows) != len(ids):
            raise invalid("所选评估发现不属于这份评估报告", "scores")
        for row in rows:
            if row.case_id is not None:
                raise invalid(f"指标“{row.indicator.name}”的发现已立案（案件 {row.case_id}）", "scores")
            if not row.findings:
                raise invalid(f"指标“{row.indicator.name}”没有填写发现的问题，不能立案", "scores")
        for row in rows:
            case = rectification.open_complaint(
                summary=f"第三方评估发现（{row.indicator.name}）：{row.findings}", actor=actor,
                department=assessment.department, source=f"assessment:{assessment.pk}")
            row.case = case
            row.save(update_fields=["case"])
            opened.append(case.pk)
        AuditEntry.objects.create(actor=actor.username, action="assessment.open_cases",
                                  object_type="supervision.Assessment", object_id=str(assessment.pk),
                                  data={"cases": opened})
    return opened


def pending_for(user):
    """Submitted assessments awaiting the user's agency's decision."""
    return visible_assessments(user).filter(state=State.SUBMITTED)


def organisations_for(user):
    return scope(AssessorOrganisation.objects.all(), user) if is_supervisor(user) else (
        AssessorOrganisation.objects.filter(Q(members=user)))
