"""Third-party assessment and appraisal for the demo (``haochaping demo``): the province's management agency has
commissioned an assessor organisation (the demo account ``assessor-370000`` is its member) for last month; two
departments' assessments were submitted, one accepted (its finding opened a rectification case) and one returned
for more evidence; and last month's appraisal is computed for the whole province. Through the live services, so
the audit trail and the evidence files are what the pages show. Idempotent: skipped once the organisation exists."""

from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from haochaping.org.models import Department, Region
from haochaping.supervision.appraisal import rules as appraisal_rules
from haochaping.supervision.appraisal import services as appraisal
from haochaping.supervision.assessments import services as assessments
from haochaping.supervision.assessments.models import AssessorOrganisation
from haochaping.supervision.assessments.rules import ScoreInput

from . import data

ORGANISATION = "山东省政务服务评估研究中心（演示）"
# A minimal valid PDF (one empty page): what the demo's report and evidence files hold.
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def _pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def build(today: date) -> int:
    """Add the demo's commission, assessments and last month's appraisal; returns the number of units appraised
    (0 when already there or the demo accounts are missing)."""
    User = get_user_model()
    province = Region.objects.filter(pk=data.PROVINCE[0]).first()
    supervisor = User.objects.filter(username=f"sup-{data.PROVINCE[0]}").first()
    assessor = User.objects.filter(username=f"assessor-{data.PROVINCE[0]}").first()
    if province is None or supervisor is None or assessor is None or \
            AssessorOrganisation.objects.filter(name=ORGANISATION).exists():
        return 0
    start, end = appraisal_rules.last_month(today)
    organisation = assessments.register_organisation(actor=supervisor, name=ORGANISATION, region=province,
                                                     members=[assessor])
    commission = assessments.create_commission(
        actor=supervisor, title=f"{start.year}年{start.month}月政务服务窗口第三方评估", organisation=organisation,
        scope_region=province, start=start, end=end)
    departments = list(Department.objects.filter(region_id="370102", name__endswith=data.DEMO).order_by("credit_code")[:2])
    if len(departments) < 2:
        return 0
    accepted = assessments.submit_assessment(
        actor=assessor, commission_id=commission.pk, department=departments[0], start=start, end=end,
        summary="窗口服务总体规范，办事指南公示完整；个别时段导办人员不足，群众等候时间偏长。",
        report=_pdf("第三方评估报告.pdf"),
        scores=[ScoreInput("STD-ASSESS", 78, "上午高峰时段导办台无人值守，群众排队咨询超过20分钟。",
                           "高峰时段增派导办人员，设置咨询分流。"),
                ScoreInput("ITEM-GUIDE", 92, "", "个别事项办事指南的收费依据可写得更具体。")],
        files={0: [_pdf("现场检查记录.pdf")]})
    assessments.accept(accepted.pk, actor=supervisor)
    finding = accepted.scores.get(indicator__code="STD-ASSESS")
    assessments.open_cases(accepted.pk, [finding.pk], actor=supervisor)
    returned = assessments.submit_assessment(
        actor=assessor, commission_id=commission.pk, department=departments[1], start=start, end=end,
        summary="服务规范情况良好。", report=_pdf("第三方评估报告（初稿）.pdf"),
        scores=[ScoreInput("STD-ASSESS", 85, "", "")])
    assessments.return_assessment(returned.pk, actor=supervisor, reason="未附现场检查记录，请补充证据材料后重新提交。")
    appraisal.record_manual_score(actor=supervisor, indicator_code="SUP-WORK", department=departments[0], start=start,
                                  end=end, value=88, evidence="查阅2个月整改台账及督办记录，按期督办率100%。")
    return len(appraisal.compute(region=province, start=start, end=end, actor=supervisor))
