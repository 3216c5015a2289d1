"""Lists cost the same number of queries whatever their length (no N+1): every admin changelist of a scoped model
and the API's list endpoints, each counted with 3 rows and again with 30.

Counted in process (Django's test client), because queries made in the live server's thread on its own
connection are invisible to CaptureQueriesContext on PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from haochaping.accounts.models import PersonalDataAccess, User
from haochaping.accounts.roles import Role
from haochaping.evaluation import kiosk, services
from haochaping.org.models import Platform, RegionPolicy, ServiceAgency, Staff, Window
from tests import factories

pytestmark = pytest.mark.django_db

FEW, MANY = 3, 30
# Django's changelist adds nothing per row; one query of slack for a cache that happens to fill on one run only.
SLACK = 1


def _agency(org, n):
    return ServiceAgency.objects.create(code=f"PERFHALL{n}", name=f"第{n}政务服务中心", kind="center", region=org.county)


def _window(org, n):
    # A new hall per window, so a per-row lookup of the hall would show.
    return Window.objects.create(agency=_agency(org, n), code=f"W{n}", name=f"{n}号窗口", department=factories.department(org.county))


def _region(org, n):
    return factories.region(f"370102{n:03d}", f"第{n}街道", org.county)


def _record(org):
    return factories.make_record(org, factories.make_item(org))


def _evaluation(org, level=5):
    record = _record(org)
    data = services.EvaluationInput(
        idempotency_key=uuid.uuid4().hex, project_no=record.project_no, stage="complete", channel="pc", level=level,
        labels=[], comment="窗口让我跑了三次" if level <= 2 else "", evaluator_name="张三", evaluator_phone="13800001234",
    )
    return services.submit_evaluation(data, source="test")


def _case(org):
    # A 差评 opens its 整改 case in the same transaction (rectification.receivers).
    from haochaping.rectification.models import RectificationCase

    return RectificationCase.objects.get(pk=_evaluation(org, level=1).case_id)


def _appeal(org, n):
    """An appeal (with one evidence file row) on a fresh 差评 case, filed by the rated staff member."""
    from django.utils import timezone

    from haochaping.rectification.models import Appeal, CaseAttachment

    case = _case(org)
    appeal = Appeal.objects.create(
        case=case, evaluation_id=case.evaluation_id, appellant=_user(org, 1000 + n), party=Appeal.Party.STAFF,
        explanation="系法定材料", submitted_at=timezone.now(), review_due=case.rectify_due,
    )
    CaseAttachment.objects.create(
        case=case, appeal=appeal, purpose=CaseAttachment.Purpose.APPEAL, file=f"cases/perf/{n}.pdf",
        original_name=f"证据{n}.pdf", size=10, uploaded_by=appeal.appellant, uploaded_at=timezone.now(),
    )
    return appeal


def _ledger(org, n):
    from haochaping.rectification.models import LedgerEntry, LedgerProgress

    case = _case(org)
    case.state, case.outcome = "rectifying", "deadline"
    case.save(update_fields=["state", "outcome"])
    entry = LedgerEntry.objects.create(case=case, problem=f"问题{n}", measures="措施", responsible_person="王五",
                                       deadline=case.rectify_due)
    from django.utils import timezone

    LedgerProgress.objects.create(entry=entry, at=timezone.now(), note="进展")
    return entry


def _notice(org, n):
    from django.utils import timezone

    from haochaping.rectification.models import CaseNotice

    case = _case(org)
    return CaseNotice.objects.create(case=case, kind=CaseNotice.Kind.ESCALATION, deadline="callback",
                                     due=case.callback_due, agency=org.management_agency, created_at=timezone.now())


def _exclusion(org, n):
    from django.utils import timezone

    from haochaping.evaluation.models import EvaluationExclusion

    return EvaluationExclusion.objects.create(evaluation_id=_case(org).evaluation_id, reason="mistaken",
                                              source=f"case:{n}", actor=_user(org, 2000 + n), at=timezone.now())


def _user(org, n):
    staff = Staff.objects.create(staff_no=f"PERFU{n:04d}", name="王五", agency=org.agency, department=org.department)
    return User.objects.create(username=f"perf-{n}", role=Role.STAFF, region=org.county, staff=staff, is_staff=True)


def _access(org, n):
    record = _record(org)
    return PersonalDataAccess.objects.create(
        user=_user(org, n), subject_type="records.servicerecord", subject_id=str(record.pk), field="applicant_phone",
        reason="核实回访电话", region_code=org.county.code, ip_address="127.0.0.1",
    )


def _guide(org, n):
    item = factories.make_item(org, department=factories.department(org.county))
    return factories.make_guide(item)


def _report(org, n):
    # A department report of a new region and department each time, so a per-row lookup of either would show.
    from django.utils import timezone

    from haochaping.insight.models import Report

    dept = factories.department(_region(org, n))
    return Report.objects.create(kind="month", period_start="2026-01-01", period_end="2026-01-31", region=dept.region,
                                 department=dept, title=f"{dept.name}{n}月报", xlsx=f"reports/perf/{n}.xlsx",
                                 pdf=f"reports/perf/{n}.pdf", generated_at=timezone.now())


def _received_report(org, n):
    from django.utils import timezone

    from haochaping.exchange.models import ReceivedReport, Upstream

    upstream = Upstream.objects.get_or_create(name="上级节点", defaults={"url": "https://hcp.example.gov.cn", "app_id": "perf"})[0]
    return ReceivedReport.objects.create(
        upstream=upstream, remote_id=n, title=f"上级下发{n}月报", kind="month", period_start="2026-01-01",
        period_end="2026-01-31", region_code=_region(org, n).code, pdf=f"received-reports/perf/{n}.pdf",
        generated_at=timezone.now(), received_at=timezone.now())
def _finding(org, n):
    from django.utils import timezone

    from haochaping.supervision.fraud.models import FraudFinding

    window = _window(org, n)
    now = timezone.now()
    return FraudFinding.objects.create(
        pattern="burst", subject=f"window:{window.pk}", region=window.agency.region, department=window.department,
        agency=window.agency, window=window, statistic=5, threshold=5, summary="…", evidence={}, first_at=now,
        last_at=now, detected_at=now)


def _staff_phone(org, n):
    from haochaping.core import crypto
    from haochaping.supervision.fraud.models import StaffPhone

    staff = Staff.objects.create(staff_no=f"PERFP{n:04d}", name="钱七", agency=org.agency, department=org.department)
    phone = f"1390000{n:04d}"
    return StaffPhone.objects.create(staff=staff, phone=phone, phone_index=crypto.blind_index(phone, kind="phone"))


def _fingerprint(org, n):
    from django.utils import timezone

    from haochaping.supervision.fraud.models import StaffFingerprint

    now = timezone.now()
    return StaffFingerprint.objects.create(user=_user(org, 3000 + n), address_index=f"a{n}", device_index=f"d{n}",
                                           first_seen=now, last_seen=now)


def _social_review(org, n):
    from django.utils import timezone

    from haochaping.rectification import services as rectification_services
    from haochaping.supervision.models import SocialReview

    department = factories.department(_region(org, n))
    case = rectification_services.open_complaint(summary="投诉", actor=None, department=department)
    now = timezone.now()
    return SocialReview.objects.create(source="hotline", reference=f"PERF-{n}", summary="投诉", region=department.region,
                                       department=department, case=case, received_at=now, registered_at=now)


def _mailbox(org, n):
    from haochaping.supervision.models import IntakeMailbox

    department = factories.department(_region(org, n))
    return IntakeMailbox.objects.create(name=f"邮箱{n}", host="127.0.0.1", username="u", password="p",
                                        region=department.region, department=department)


def _mail_message(org, n):
    from django.utils import timezone

    from haochaping.supervision.models import MailMessage

    review = _social_review(org, n)
    return MailMessage.objects.create(mailbox=_mailbox(org, n), message_key=f"k{n}", status="accepted",
                                      complaint=review, read_at=timezone.now())


def _bulletin(org, n):
    from django.utils import timezone

    from haochaping.supervision.models import Bulletin

    region = _region(org, n)
    issuer = User.objects.create_user(f"perf-issuer-{n}", role=Role.SUPERVISOR, region=region)
    return Bulletin.objects.create(region=region, kind="typical_bad", title=f"通报{n}", body="…",
                                   issued_at=timezone.now(), issued_by=issuer)


def _assessor_organisation(org, n):
    from haochaping.supervision.models import AssessorOrganisation

    region = _region(org, n)
    organisation = AssessorOrganisation.objects.create(name=f"评估机构{n}", region=region)
    organisation.members.add(User.objects.create_user(f"perf-assessor-{n}", role=Role.ASSESSOR, region=region))
    return organisation


# model admin URL name → a builder of one more row (org, serial number)
BUILDERS: dict[str, Callable] = {
    "org_region": _region,
    "org_regionpolicy": lambda org, n: RegionPolicy.objects.create(region=_region(org, n)),
    "org_managementagency": lambda org, n: org.management_agency.__class__.objects.create(
        region=_region(org, n), name=f"第{n}街道便民服务中心"),
    "org_department": lambda org, n: factories.department(_region(org, n)),
    "org_serviceagency": _agency,
    "org_window": _window,
    "org_staff": lambda org, n: Staff.objects.create(
        staff_no=f"PERFS{n:04d}", name="赵六", agency=(w := _window(org, n)).agency, department=w.department, window=w),
    "org_platform": lambda org, n: Platform.objects.create(
        code=f"PERFPF{n}", name=f"平台{n}", kind="pc", region=_region(org, n), operator=factories.department(org.county)),
    "catalog_serviceitem": lambda org, n: factories.make_item(org, department=factories.department(org.county)),
    "catalog_serviceguide": _guide,
    "records_servicerecord": lambda org, n: _record(org),
    "evaluation_evaluation": lambda org, n: _evaluation(org).evaluation,
    "rectification_rectificationcase": lambda org, n: _case(org),
    "rectification_appeal": _appeal,
    "rectification_caseattachment": lambda org, n: _appeal(org, n).attachments.get(),
    "rectification_ledgerentry": _ledger,
    "rectification_casenotice": _notice,
    "evaluation_evaluationexclusion": _exclusion,
    "evaluation_kioskdevice": lambda org, n: kiosk.register_kiosk(_window(org, n), f"评价器{n}")[0],
    "accounts_apikey": lambda org, n: factories.make_api_key(region=_region(org, n))[0],
    "accounts_user": _user,
    "accounts_personaldataaccess": _access,
    "insight_report": lambda org, n: _report(org, n),
    "exchange_receivedreport": lambda org, n: _received_report(org, n),
    "supervision_fraudfinding": _finding,
    "supervision_hallhours": lambda org, n: __import__(
        "haochaping.supervision.fraud.models", fromlist=["HallHours"]).HallHours.objects.create(agency=_agency(org, n)),
    "supervision_staffphone": _staff_phone,
    "supervision_stafffingerprint": _fingerprint,
    "supervision_socialreview": _social_review,
    "supervision_intakemailbox": _mailbox,
    "supervision_mailmessage": _mail_message,
    "supervision_bulletin": _bulletin,
    "supervision_assessororganisation": _assessor_organisation,
}


def test_every_scoped_admin_list_is_counted():
    # Enumerated from the admin registry, so a list added later without a builder here fails until it has one.
    scoped = {f"{m._meta.app_label}_{m._meta.model_name}" for m in admin.site._registry if getattr(m, "scope_paths", None)}
    assert scoped - set(BUILDERS) == set()


def _viewers(org):
    superuser = User.objects.create_superuser("perf-root", "root@example.com", None)
    county_admin = User.objects.create_user("perf-county", role=Role.ADMINISTRATOR, region=org.county, is_staff=True)
    supervisor = User.objects.create_user("perf-sup", role=Role.SUPERVISOR, region=org.county, is_staff=True)
    return {"superuser": superuser, "county administrator": county_admin, "supervisor": supervisor}


def _count(client: Client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries), response.content.decode()


def _grow(org, builder, start: int, stop: int):
    return [builder(org, n) for n in range(start, stop)]


def _regional_viewer(viewers, name):
    """The county administrator where the role may open the list, else the county supervisor (the access log); for
    a list no role opens yet, the supervisor given the view permission directly: the scoped path is what counts."""
    app, model = name.split("_", 1)
    for who in ("county administrator", "supervisor"):
        if viewers[who].has_perm(f"{app}.view_{model}"):
            return viewers[who]
    supervisor = viewers["supervisor"]
    supervisor.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=f"view_{model}"))
    return User.objects.get(pk=supervisor.pk)  # a fresh instance: permissions are cached per object


@pytest.mark.parametrize("viewer", ["superuser", "regional"])
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_admin_changelist_queries_do_not_grow_with_rows(org, name, viewer):
    viewers = _viewers(org)
    client = Client()
    client.force_login(viewers["superuser"] if viewer == "superuser" else _regional_viewer(viewers, name))
    url = reverse(f"admin:{name}_changelist")
    built = _grow(org, BUILDERS[name], 1, 1 + FEW)
    client.get(url)  # warm per-process caches (calendar, policies, content types)
    few, page = _count(client, url)
    assert str(built[-1].pk) in page or str(built[-1]) in page  # the rows are really listed
    _grow(org, BUILDERS[name], 1 + FEW, 1 + MANY)
    many, _page = _count(client, url)
    assert many <= few + SLACK, f"{name} for {viewer}: {few} queries with {FEW} rows, {many} with {MANY}"


def test_personal_data_log_warns_about_many_users_in_one_query(org):
    # Each user flagged for unusual volume gets a warning on the log's list; naming them must not cost a query each.
    client = Client()
    client.force_login(_viewers(org)["supervisor"])
    url = reverse("admin:accounts_personaldataaccess_changelist")

    def flagged_user(n):
        user = _user(org, n)
        record = _record(org)
        PersonalDataAccess.objects.bulk_create([
            PersonalDataAccess(user=user, subject_type="records.servicerecord", subject_id=str(record.pk),
                               field="applicant_phone", reason="核实", region_code=org.county.code)
            for _ in range(11)
        ])

    flagged_user(1)
    client.get(url)
    few, page = _count(client, url)
    assert page.count("查看量异常：王五（窗口工作人员") == 1  # named by name and role, not login name
    for n in range(2, 6):
        flagged_user(n)
    many, page = _count(client, url)
    assert page.count("查看量异常：王五（窗口工作人员") == 5
    assert many <= few + SLACK, f"{few} queries with one flagged user, {many} with five"


_serial = iter(range(10_000, 20_000))


def _n() -> int:
    return next(_serial)


def _api_client(org):
    _key, secret = factories.make_api_key()
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


@pytest.mark.parametrize(
    ("url", "builder"),
    [
        ("/api/v1/records?limit=200", lambda org: _record(org)),
        ("/api/v1/evaluations?limit=200", lambda org: _evaluation(org)),
        ("/api/v1/cases?limit=200", lambda org: _case(org)),
        # Cases under 限期整改 read their 台账 for the deadline: joined, not one query each.
        ("/api/v1/cases?limit=200&state=rectifying", lambda org: _ledger(org, 0).case),
        ("/api/v1/cases?limit=200&overdue=false", lambda org: _case(org)),
        ("/api/v1/appeals?limit=200", lambda org: _appeal(org, _n())),
    ],
)
def test_api_list_queries_do_not_grow_with_rows(org, url, builder):
    client = _api_client(org)
    for _ in range(FEW):
        builder(org)
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    few = len(ctx.captured_queries)
    assert response.status_code == 200 and len(response.json()["items"]) == FEW
    for _ in range(MANY - FEW):
        builder(org)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    many = len(ctx.captured_queries)
    assert response.status_code == 200 and len(response.json()["items"]) == MANY
    assert many <= few + SLACK, f"{url}: {few} queries with {FEW} rows, {many} with {MANY}"


def test_api_list_reads_as_a_session_user_with_the_same_count(org):
    # People signed in to the site read the lists too (readers()); their path must not add per-row work either.
    client = Client()
    client.force_login(_viewers(org)["supervisor"])
    for _ in range(FEW):
        _evaluation(org)
    client.get("/api/v1/evaluations")
    few, _page = _count(client, "/api/v1/evaluations")
    for _ in range(MANY - FEW):
        _evaluation(org)
    many, page = _count(client, "/api/v1/evaluations")
    assert page.count('"receipt_code"') == 0  # masked list, no receipt codes
    assert many <= few + SLACK


# ---- supervision's read API (surveys, callbacks, assessments, appraisal): signed-in supervisor, 3 rows and 30 ----

def _supervision_reader(org):
    user, _created = User.objects.get_or_create(
        username="perf-api-sup", defaults={"role": Role.SUPERVISOR, "region": org.county, "is_staff": True})
    return user


def _january():
    from datetime import date

    return {"period_start": date(2026, 1, 1), "period_end": date(2026, 1, 31)}


def _survey(org):
    from django.utils import timezone

    from haochaping.supervision.models import Survey

    return Survey.objects.create(region=org.county, title=f"问卷{_n()}", target_region=org.county,
                                 link_key=f"perf{_n()}", created_by=_supervision_reader(org), created_at=timezone.now())


def _callback_item(org):
    # A new unit (and sample) per row, so a per-row lookup of the unit would show.
    from django.utils import timezone

    from haochaping.supervision.models import CallbackItem, CallbackSample

    sample = CallbackSample.objects.create(department=factories.department(org.county, name=f"第{_n()}局"),
                                           region=org.county, ratio=0.1, minimum=1, seed="1", population=1,
                                           drawn_at=timezone.now(), **_january())
    evaluation = _evaluation(org).evaluation
    return CallbackItem.objects.create(sample=sample, evaluation=evaluation, level=evaluation.level)


def _assessment(org):
    from django.utils import timezone

    from haochaping.supervision.models import Assessment, AssessorOrganisation, Commission

    n = _n()
    commission = Commission.objects.create(
        title=f"委托{n}", agency=org.management_agency, scope_region=org.county, created_by=_supervision_reader(org),
        organisation=AssessorOrganisation.objects.create(name=f"评估机构{n}", region=org.county),
        created_at=timezone.now(), **_january())
    return Assessment.objects.create(commission=commission, department=factories.department(org.county, name=f"第{n}局"),
                                     summary="结论", report=f"assessments/perf/{n}.pdf",
                                     submitted_by=_supervision_reader(org), submitted_at=timezone.now(), **_january())


def _appraisal(org):
    from django.utils import timezone

    from haochaping.supervision.models import Appraisal

    n = _n()
    return Appraisal.objects.create(department=factories.department(org.county, name=f"第{n}局"), region=org.county,
                                    score=n % 100, breakdown=[], computed_at=timezone.now(), **_january())


def _items(body) -> int:
    return len(body["items"]) if isinstance(body, dict) else sum(row["sampled"] for row in body)


@pytest.mark.parametrize(
    ("url", "builder"),
    [
        ("/api/v1/surveys?limit=200", _survey),
        ("/api/v1/callbacks?limit=200", _callback_item),
        ("/api/v1/callbacks/figures?from=2026-01-01&to=2026-01-31", _callback_item),
        ("/api/v1/assessments/commissions?limit=200", lambda org: _assessment(org).commission),
        ("/api/v1/assessments?limit=200", _assessment),
        ("/api/v1/appraisal?from=2026-01-01&to=2026-01-31", _appraisal),
    ],
)
def test_supervision_api_lists_do_not_grow_with_rows(org, url, builder):
    client = Client()
    client.force_login(_supervision_reader(org))
    for _ in range(FEW):
        builder(org)
    client.get(url)
    few, page = _count(client, url)
    import json

    assert _items(json.loads(page)) == FEW
    for _ in range(MANY - FEW):
        builder(org)
    many, page = _count(client, url)
    assert _items(json.loads(page)) == MANY
    assert many <= few + SLACK, f"{url}: {few} queries with {FEW} rows, {many} with {MANY}"


def test_survey_results_do_not_grow_with_responses(org):
    from django.utils import timezone

    from haochaping.supervision.models import SurveyAnswer, SurveyQuestion, SurveyResponse

    survey = _survey(org)
    scale = SurveyQuestion.objects.create(survey=survey, position=1, kind="scale", text="满意度", scale_max=5)
    choice = SurveyQuestion.objects.create(survey=survey, position=2, kind="single", text="渠道", options=["窗口", "网上"])

    def respond(n):
        response = SurveyResponse.objects.create(survey=survey, channel="web", region=org.county,
                                                 submitted_at=timezone.now())
        SurveyAnswer.objects.create(response=response, question=scale, scale=1 + n % 5)
        SurveyAnswer.objects.create(response=response, question=choice, choices=[n % 2])

    client = Client()
    client.force_login(_supervision_reader(org))
    url = f"/api/v1/surveys/{survey.pk}/results"
    for n in range(FEW):
        respond(n)
    client.get(url)
    few, _page = _count(client, url)
    for n in range(FEW, MANY):
        respond(n)
    many, page = _count(client, url)
    assert '"counted":30' in page.replace(" ", "")
    assert many <= few + SLACK
