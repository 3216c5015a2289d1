"""Two counties of one city, each with a full set of rows, and the people and keys who look at them.

County A is 历下区 (370102), county B is 市中区 (370103), both under 济南市 (370100). Every scoped model has at least
one row in each county (``World.rows``), so the matrix can check every list and detail endpoint against both.
Names of B rows carry "市中", names of A rows "历下", so a B row's text showing up on an A actor's page is visible.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils import timezone

from haochaping.accounts.models import ApiKey, PersonalDataAccess, Role, Scope, User
from haochaping.accounts.services import create_api_key
from haochaping.catalog.models import ServiceGuide, ServiceItem
from haochaping.core import crypto
from haochaping.evaluation.models import Evaluation, EvaluationExclusion, ExclusionReason, KioskDevice
from haochaping.exchange.models import ReceivedReport, Upstream
from haochaping.insight.models import Report
from haochaping.org.models import (
    Department,
    ManagementAgency,
    Platform,
    Region,
    RegionPolicy,
    ServiceAgency,
    Staff,
    Window,
)
from haochaping.org.rules import make_credit_code
from haochaping.records.models import ServiceRecord
from haochaping.rectification import services as rectification_services
from haochaping.rectification.models import (
    Appeal,
    CaseAttachment,
    CaseNotice,
    LedgerEntry,
    RectificationCase,
)
from haochaping.rectification.rules import State
from haochaping.supervision.assessments.models import AssessorOrganisation

from ..factories import guide_elements, region

_n = itertools.count(1)

# Actors whose whole view lies inside county A; none of them may read a county-B row anywhere.
COUNTY_A_ACTORS = ("sup_a", "admin_a", "handler_dept", "handler_agency", "staff_a")
# Actors whose scope is a region (they must see every row of that region they have a view permission for).
REGION_ACTORS = {"sup_a": "A", "admin_a": "A", "sup_city": "AB"}


@dataclass
class County:
    region: Region
    management_agency: ManagementAgency
    departments: list[Department]
    agency: ServiceAgency
    windows: list[Window]
    staff: list[Staff]
    platform: Platform
    items: list[ServiceItem]
    records: list[ServiceRecord]
    evaluations: list[Evaluation]


@dataclass
class World:
    city: Region
    a: County
    b: County
    users: dict[str, User]
    keys: dict[str, tuple[ApiKey, str]]
    rows: dict[type, dict[str, list]] = field(default_factory=dict)

    def in_county(self, model, county: str) -> list:
        return self.rows.get(model, {}).get(county, [])


def _credit(region_code: str) -> str:
    return make_credit_code(f"11{region_code}{next(_n):08d}X"[:17])


def _county(code: str, name: str, city: Region, tag: str) -> County:
    reg = region(code, name, city)
    RegionPolicy.objects.create(region=reg, supplementary_days=5)
    ma = ManagementAgency.objects.create(region=reg, name=f"{tag}区政务服务管理办公室")
    d1 = Department.objects.create(credit_code=_credit(code), name=f"{tag}区市场监督管理局", region=reg)
    d2 = Department.objects.create(credit_code=_credit(code), name=f"{tag}区人力资源和社会保障局", region=reg)
    agency = ServiceAgency.objects.create(code=f"HALL-{code}", name=f"{tag}区政务服务中心", kind="center", region=reg)
    w1 = Window.objects.create(agency=agency, code="A01", name=f"{tag}市场准入窗口", department=d1)
    w2 = Window.objects.create(agency=agency, code="A02", name=f"{tag}社保窗口", department=d2)
    s1 = Staff.objects.create(staff_no=f"S{code}1", name=f"{tag}张一", agency=agency, department=d1, window=w1)
    s2 = Staff.objects.create(staff_no=f"S{code}2", name=f"{tag}王二", agency=agency, department=d2, window=w2)
    platform = Platform.objects.create(code=f"PF-{code}", name=f"{tag}区网上办事大厅", kind="pc", region=reg, operator=d1)
    i1 = ServiceItem.objects.create(
        implementation_code=f"IC{code}001", basic_code="0000100001", name=f"{tag}食品经营许可", item_type="01",
        department=d1, region=reg,
    )
    i2 = ServiceItem.objects.create(
        implementation_code=f"IC{code}002", basic_code="0000100002", name=f"{tag}社保卡申领", item_type="20",
        department=d2, region=reg,
    )
    ServiceGuide.objects.create(item=i1, version=1, published_by="test", **guide_elements(accepting_unit=f"{tag}受理单位"))
    KioskDevice.objects.create(window=w1, name=f"{tag}评价器1", prefix=f"k{code}", secret_hash="0" * 64)
    PersonalDataAccess.objects.create(
        user=User.objects.get(username="root"), subject_type="records.servicerecord", subject_id=code,
        field="applicant_name", reason=f"{tag}核查", region_code=code,
    )
    now = timezone.now()
    # rec1: dept 1 at the hall (window 1, staff 1); rec2: dept 2 at the hall (window 2, staff 2); rec3: dept 1 online.
    specs = [
        (i1, d1, agency, w1, s1, None),
        (i2, d2, agency, w2, s2, None),
        (i1, d1, None, None, None, platform),
    ]
    records, evaluations = [], []
    for k, (item, dept, ag, win, st, pf) in enumerate(specs):
        accepted = now - timedelta(days=3, hours=k)
        rec = ServiceRecord.objects.create(
            project_no=f"P{code}{k}", item=item, region=reg, department=dept, agency=ag, window=win, staff=st, platform=pf,
            applicant_type=1, applicant_name=f"{tag}申请人", applicant_phone="13912345678", record_type="promised",
            promised_days=5, status=3, accepted_at=accepted, completed_at=accepted + timedelta(hours=1),
        )
        records.append(rec)
        ev = Evaluation.objects.create(
            record=rec, stage="accept", type="active", channel="pc", level=1 + k, is_bad=(1 + k) <= 2,
            comment=f"{tag}评价内容{k}", evaluator_name="赵大", evaluator_phone="13800001111", is_real_name=True,
            item=item, region=reg, department=dept, agency=ag, window=win, staff=st, platform=pf,
            idempotency_key=f"idem-{code}-{k}", request_hash="0" * 64, receipt_code=f"R{code}{k}",
            leaf_hash=crypto.sm3_hex(f"{code}{k}".encode()), source="test", created_at=now - timedelta(days=2, hours=k),
        )
        evaluations.append(ev)
    return County(reg, ma, [d1, d2], agency, [w1, w2], [s1, s2], platform, [i1, i2], records, evaluations)


def _user(username: str, role: str, **kw) -> User:
    return User.objects.create(username=username, role=role, is_staff=True, is_active=True, **kw)


def build_world() -> World:
    province = region("370000", "山东省")
    city = region("370100", "济南市", province)
    User.objects.create_superuser("root", "root@example.com", None)
    a = _county("370102", "历下区", city, "历下")
    b = _county("370103", "市中区", city, "市中")

    users = {
        "superuser": User.objects.get(username="root"),
        "sup_a": _user("sup-370102", Role.SUPERVISOR, region=a.region),
        "sup_city": _user("sup-370100", Role.SUPERVISOR, region=city),
        "handler_dept": _user("handler-dept-a", Role.HANDLER, region=a.region, department=a.departments[0]),
        "handler_agency": _user("handler-agency-a", Role.HANDLER, region=a.region, agency=a.agency),
        "staff_a": _user("staff-a", Role.STAFF, region=a.region, staff=a.staff[0]),
        "admin_a": _user("admin-370102", Role.ADMINISTRATOR, region=a.region),
        "admin_all": _user("admin-national", Role.ADMINISTRATOR),
        "sup_b": _user("sup-370103", Role.SUPERVISOR, region=b.region),
        "handler_b": _user("handler-dept-b", Role.HANDLER, region=b.region, department=b.departments[0]),
    }
    all_scopes = list(Scope.values)
    keys = {
        "key_a": create_api_key(name="历下区业务系统", scopes=all_scopes, region=a.region),
        "key_b": create_api_key(name="市中区业务系统", scopes=all_scopes, region=b.region),
        "key_all": create_api_key(name="省级平台", scopes=all_scopes, region=None),
    }
    w = World(city=city, a=a, b=b, users=users, keys=keys)

    for tag, c in (("A", a), ("B", b)):
        def put(model, objs, tag=tag):
            w.rows.setdefault(model, {}).setdefault(tag, []).extend(objs)

        put(Region, [c.region])
        put(RegionPolicy, [c.region.policy])
        put(ManagementAgency, [c.management_agency])
        put(Department, c.departments)
        put(ServiceAgency, [c.agency])
        put(Window, c.windows)
        put(Staff, c.staff)
        put(Platform, [c.platform])
        put(ServiceItem, c.items)
        put(ServiceGuide, list(ServiceGuide.objects.filter(item__region=c.region)))
        put(ServiceRecord, c.records)
        put(Evaluation, c.evaluations)
        put(KioskDevice, list(KioskDevice.objects.filter(window__agency__region=c.region)))
        put(PersonalDataAccess, list(PersonalDataAccess.objects.filter(region_code=c.region.code)))
        put(ApiKey, [keys["key_a" if tag == "A" else "key_b"][0]])
        # A monthly report of the county (its files are not needed: the matrix checks who sees the row).
        put(Report, [Report.objects.create(
            kind="month", period_start="2026-01-01", period_end="2026-01-31", region=c.region,
            title=f"{c.region.name}政务服务“好差评”2026年1月月报", xlsx=f"reports/test/{c.region.code}.xlsx",
            pdf=f"reports/test/{c.region.code}.pdf", generated_at=timezone.now())])
        # A report an upper node sent down about the county (exchange), scoped by its region code.
        upstream = Upstream.objects.get_or_create(name="上级节点", defaults={"url": "https://hcp.example.gov.cn",
                                                                         "app_id": "world"})[0]
        put(ReceivedReport, [ReceivedReport.objects.create(
            upstream=upstream, remote_id=int(c.region.code), title=f"{c.region.name}上级下发2026年1月月报", kind="month",
            period_start="2026-01-01", period_end="2026-01-31", region_code=c.region.code,
            pdf=f"received-reports/test/{c.region.code}.pdf", generated_at=timezone.now(), received_at=timezone.now())])
        # Cases of the county's bad reviews (rec1 at window 1, rec2 at window 2), opened as the receiver would.
        cases = [rectification_services.open_case_for_evaluation(ev) for ev in c.evaluations if ev.is_bad]
        put(RectificationCase, cases)
        for model, objs in _case_rows(c, cases, users["staff_a" if tag == "A" else "handler_b"]).items():
            put(model, objs)
        for model, objs in _fraud_rows(c, users["staff_a" if tag == "A" else "handler_b"]).items():
            put(model, objs)
        for model, objs in _assessment_rows(c).items():
            put(model, objs)
        for model, objs in _supervision_rows(c, users["sup_a" if tag == "A" else "sup_b"]).items():
            put(model, objs)
        for model, objs in _supervision_work_rows(c, users["sup_a" if tag == "A" else "sup_b"],
                                                  w.in_county(AssessorOrganisation, tag)[0]).items():
            put(model, objs)
    w.rows[User] = {
        "A": [users[n] for n in ("sup_a", "handler_dept", "handler_agency", "staff_a", "admin_a")],
        "B": [users["sup_b"], users["handler_b"]],
    }
    return w


def _case_rows(c: County, cases: list[RectificationCase], appellant: User) -> dict[type, list]:
    """What goes with a county's two cases: case 0 (staff 1's 差评 at window 1) is appealed, with an evidence
    file; case 1 (window 2) is under 限期整改 with its 台账 and a reminder; the evaluation of a third, earlier
    case-less 差评 is out of statistics. Written directly: the matrices check who sees rows, not the steps."""
    now = timezone.now()
    appealed, rectifying = cases
    appeal = Appeal.objects.create(
        case=appealed, evaluation=appealed.evaluation, appellant=appellant, party=Appeal.Party.STAFF,
        explanation=f"{c.region.name}申诉理由", submitted_at=now, review_due=now.date() + timedelta(days=7),
    )
    attachment = CaseAttachment.objects.create(
        case=appealed, appeal=appeal, purpose=CaseAttachment.Purpose.APPEAL, file=f"cases/test/{c.region.code}.pdf",
        original_name=f"{c.region.name}申诉证据.pdf", size=1024, uploaded_by=appellant, uploaded_at=now,
    )
    RectificationCase.objects.filter(pk=rectifying.pk).update(state=State.RECTIFYING, outcome="deadline")
    ledger = LedgerEntry.objects.create(
        case=rectifying, problem=f"{c.region.name}窗口材料要求不一", measures="统一材料清单", responsible_person="李四",
        deadline=rectifying.rectify_due,
    )
    notice = CaseNotice.objects.create(
        case=rectifying, kind=CaseNotice.Kind.REMINDER, deadline="rectify", due=rectifying.rectify_due,
        agency=c.management_agency, created_at=now,
    )
    exclusion = EvaluationExclusion.objects.create(
        evaluation=c.evaluations[2], reason=ExclusionReason.MISTAKEN, source=f"case:{rectifying.pk}", at=now,
    )
    return {Appeal: [appeal], CaseAttachment: [attachment], LedgerEntry: [ledger], CaseNotice: [notice],
            EvaluationExclusion: [exclusion]}


def _assessment_rows(c: County) -> dict[type, list]:
    """A county's third-party assessor organisation (supervision.assessments)."""
    from haochaping.supervision.assessments.models import AssessorOrganisation

    return {AssessorOrganisation: [AssessorOrganisation.objects.create(name=f"{c.region.name}评估中心", region=c.region)]}


def _fraud_rows(c: County, insider: User) -> dict[type, list]:
    """The fraud detectors' rows of a county: a hall's hours, a staff phone, a finding, a sign-in fingerprint."""
    from haochaping.supervision.fraud.models import FraudFinding, HallHours, StaffFingerprint, StaffPhone

    now = timezone.now()
    phone = f"1370{c.region.code[-4:]}001"
    return {
        HallHours: [HallHours.objects.create(agency=c.agency)],
        StaffPhone: [StaffPhone.objects.create(staff=c.staff[0], phone=phone,
                                               phone_index=crypto.blind_index(phone, kind="phone"))],
        FraudFinding: [FraudFinding.objects.create(
            pattern="burst", subject=f"window:{c.windows[0].pk}", region=c.region, department=c.departments[0],
            agency=c.agency, window=c.windows[0], statistic=5, threshold=5, summary=f"{c.region.name}线索",
            evidence={}, first_at=now, last_at=now, detected_at=now)],
        StaffFingerprint: [StaffFingerprint.objects.create(
            user=insider, address_index=crypto.blind_index(c.region.code, kind="address"),
            device_index=crypto.blind_index(c.region.code, kind="device"), first_seen=now, last_seen=now)],
    }


def _supervision_rows(c: County, supervisor: User) -> dict[type, list]:
    """综合点评 and 通报 rows of a county: a complaint with its case and file, an intake mailbox and a message read
    from it, a bulletin sent to the county's units."""
    from haochaping.supervision.models import (
        Bulletin,
        BulletinRecipient,
        IntakeMailbox,
        MailMessage,
        SocialReview,
        SocialReviewAttachment,
    )

    now = timezone.now()
    case = rectification_services.open_complaint(summary=f"{c.region.name}投诉", actor=None,
                                                 department=c.departments[0])
    review = SocialReview.objects.create(
        source="hotline", reference=f"12345-{c.region.code}", summary=f"{c.region.name}投诉", region=c.region,
        department=c.departments[0], case=case, received_at=now, registered_at=now, complainant_phone="13700001111",
    )
    attachment = SocialReviewAttachment.objects.create(
        complaint=review, file=f"complaints/test/{c.region.code}.pdf", original_name=f"{c.region.name}照片.pdf",
        size=1024, uploaded_at=now)
    mailbox = IntakeMailbox.objects.create(name=f"{c.region.name}投诉邮箱", host="127.0.0.1", port=143, use_ssl=False,
                                           username="box", password="secret", region=c.region,
                                           department=c.departments[0])
    message = MailMessage.objects.create(mailbox=mailbox, message_key=f"k{c.region.code}", status="refused",
                                         reason="no_text", read_at=now)
    bulletin = Bulletin.objects.create(region=c.region, kind="typical_bad", title=f"{c.region.name}通报", body="正文",
                                       issued_at=now, issued_by=supervisor)
    recipients = [BulletinRecipient.objects.create(bulletin=bulletin, department=d) for d in c.departments]
    recipients.append(BulletinRecipient.objects.create(bulletin=bulletin, agency=c.agency))
    return {RectificationCase: [case], SocialReview: [review], SocialReviewAttachment: [attachment],
            IntakeMailbox: [mailbox], MailMessage: [message], Bulletin: [bulletin], BulletinRecipient: recipients}


def _supervision_work_rows(c: County, supervisor: User, organisation) -> dict[type, list]:
    """A county's survey, callback list, third-party assessment and appraisal results (supervision's read API):
    callback item k is evaluation k's (a sample per department: items 0 and 2 department 1's, item 1 department
    2's); appraisal result k is department k's."""
    from haochaping.supervision.models import (
        Appraisal,
        Assessment,
        CallbackItem,
        CallbackSample,
        Commission,
        Survey,
    )

    now = timezone.now()
    january = {"period_start": date(2026, 1, 1), "period_end": date(2026, 1, 31)}
    survey = Survey.objects.create(region=c.region, title=f"{c.region.name}满意度调查", target_region=c.region,
                                   link_key=f"survey{c.region.code}", created_by=supervisor, created_at=now)
    samples = {d.pk: CallbackSample.objects.create(department=d, region=c.region, ratio=0.1, minimum=1, seed="1",
                                                   population=3, drawn_at=now, **january) for d in c.departments}
    items = [CallbackItem.objects.create(sample=samples[ev.department_id], evaluation=ev, level=ev.level)
             for ev in c.evaluations]
    commission = Commission.objects.create(title=f"{c.region.name}第三方评估", agency=c.management_agency,
                                           organisation=organisation, scope_region=c.region, created_by=supervisor,
                                           created_at=now, **january)
    assessment = Assessment.objects.create(commission=commission, department=c.departments[0], summary="评估结论",
                                           report=f"assessments/test/{c.region.code}.pdf", submitted_by=supervisor,
                                           submitted_at=now, **january)
    appraisals = [Appraisal.objects.create(department=d, region=c.region, score=90 - k, breakdown=[], computed_at=now,
                                           **january) for k, d in enumerate(c.departments)]
    return {Survey: [survey], CallbackItem: items, Commission: [commission], Assessment: [assessment],
            Appraisal: appraisals}
