"""What ``haochaping screenshots`` runs inside its throwaway environment (a fresh demo database) before taking the
pictures: through the services, everything each page needs to show its real content. Kept apart from the command
because it is a script of its own, run with ``python -c``."""

SEED = r"""
import json, secrets, uuid
from datetime import timedelta
import django
django.setup()
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from haochaping.accounts.roles import Role
from haochaping.evaluation import invitations, kiosk, services, verification
from haochaping.org.services import issue_secret
from haochaping.records.verification import verification_code
from haochaping.evaluation.models import Evaluation, Invitation
from haochaping.org.models import Staff
from haochaping.records.models import RecordStatus, ServiceRecord, Stage

rated = Evaluation.objects.values_list("record_id", flat=True)
pool = list(ServiceRecord.objects.filter(status=RecordStatus.COMPLETED).exclude(pk__in=rated)
            .select_related("window", "staff", "agency", "platform").order_by("-completed_at")[:300])
used = set()
now = timezone.now()

def refresh(r):
    # As if completed an hour ago: every channel's evaluation period is open (the demo's history may be older).
    r.accepted_at, r.completed_at = now - timedelta(hours=2), now - timedelta(hours=1)
    # save(), not update(): the 参评率 counters follow a 办件's completion day through its save signal.
    r.save(update_fields=["accepted_at", "completed_at"])
    used.add(r.pk)
    return r

def take(test=lambda r: True, what="办件", fresh=True):
    for r in pool:
        if r.pk not in used and test(r):
            used.add(r.pk)
            return refresh(r) if fresh else r
    raise SystemExit(f"演示数据中没有未评价的{what}")

at_window = lambda r: r.window_id is not None and r.staff_id is not None
first, second = take(), take(at_window, "窗口办件")
data = services.EvaluationInput(idempotency_key=uuid.uuid4().hex, project_no=first.project_no, stage="complete",
                                channel="kiosk", level=1, labels=["109"], comment="窗口要求提供办事指南之外的证明材料，跑了两趟。")
ev = services.submit_evaluation(data, source="screenshots").evaluation
User = get_user_model()

def session_of(user):
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value

operator, _ = User.objects.get_or_create(username="hotline-demo", defaults={"role": Role.HOTLINE, "region_id": second.region_id})

on_kiosk = take(at_window, "窗口办件")
shows, shows_secret = kiosk.register_kiosk(on_kiosk.window, "1号评价器")
kiosk.set_current(shows, on_kiosk, Stage.COMPLETE, set_by="screenshots")
_idle, idle_secret = kiosk.register_kiosk(on_kiosk.window, "2号评价器")

by_qr = take(at_window, "窗口办件")

invited = take(lambda r: bool(r.applicant_phone_index), "留有手机号的办件")
outcome = invitations.send(invited.pk)  # to the file backend in the throwaway directory
if outcome.status != "sent":
    raise SystemExit(f"短信邀请未发送：{outcome.status} {outcome.reason}")
# A link sent during an earlier period, opened after it ended: issued the way invitations.send issues links.
late = take(fresh=False)
late_token = secrets.token_urlsafe(invitations.TOKEN_BYTES)
Invitation.objects.create(record=late, stage=Stage.COMPLETE, kind=Invitation.Kind.INVITE,
                          token_hash=invitations.token_hash(late_token), status=Invitation.Status.SENT,
                          sent_at=timezone.now() - timedelta(days=40), expires_at=timezone.now() - timedelta(days=30))

by_platform = take(lambda r: r.platform_id is not None, "网上办件")
platform = by_platform.platform
platform.return_url_prefixes = "https://zwfw.example.gov.cn/"
platform.save(update_fields=["return_url_prefixes"])
platform_secret = issue_secret(platform)

# Paper forms are entered by a colleague in the same hall, never by the rated staff member.
on_paper = take(lambda r: r.agency_id is not None and r.staff_id is not None, "大厅办件")
# The demo's own account of a colleague when it made one, else a new one.
clerk = (User.objects.filter(role=Role.STAFF, staff__agency_id=on_paper.agency_id, is_active=True)
         .exclude(staff_id=on_paper.staff_id).order_by("pk").first())
if clerk is None:
    taken_staff = User.objects.filter(staff__isnull=False).values_list("staff_id", flat=True)
    colleague = (Staff.objects.filter(agency_id=on_paper.agency_id).exclude(pk=on_paper.staff_id)
                 .exclude(pk__in=taken_staff).order_by("pk").first())
    if colleague is None:
        raise SystemExit("演示数据中没有可录入书面评价表的工作人员")
    clerk = User.objects.create(username="paper-demo", role=Role.STAFF, region_id=on_paper.agency.region_id, staff=colleague)
forms = services.create_paper_forms(on_paper.agency, 3)
# Printing a window's QR sign takes a role that may view windows; an assessor of the region, no second factor.
printer, _ = User.objects.get_or_create(username="assessor-demo", defaults={"role": Role.ASSESSOR, "region_id": by_qr.region_id})

# A supervisor of the demo's province for the analysis pages (by item, by platform, questionnaire, coverage).
analyst, _ = User.objects.get_or_create(username="analysis-demo", defaults={
    "role": Role.SUPERVISOR, "region_id": second.region_id[:2] + "0000", "last_name": "周", "first_name": "敏"})

# 谁办理、谁负责 (docs/routing.md): a real-name bad review about the window, at a 综合受理 window stationed by another
# department, goes to that department; its handler, assigned, sees 转办 and 查看联系方式 on the case page.
from haochaping.rectification import services as case_services
one_window = take(lambda r: r.window_id is not None and r.window.department_id not in (None, r.department_id),
                  "一窗受理办件")
routed = services.submit_evaluation(services.EvaluationInput(
    idempotency_key=uuid.uuid4().hex, project_no=one_window.project_no, stage="complete", channel="kiosk", level=1,
    comment="工作人员态度生硬，问两句就不耐烦。", evaluator_name="张三", evaluator_phone="13912345678"),
    source="screenshots")
window_handler = User.objects.get(username=f"handler-{one_window.window.department.credit_code}")
case_services.assign(routed.case_id, window_handler, actor=window_handler)

# 监督查评 and 回访调查 (demo.surveys): a fresh personal link to the demo survey, and 历下区's 12345 operator.
import secrets as _secrets
from haochaping.supervision.surveys import services as survey_services
from haochaping.supervision.surveys.models import Survey, SurveyInvitation
survey = Survey.objects.filter(status="launched").first()
survey_token = ""
if survey is not None:
    survey_token = _secrets.token_urlsafe(24)
    SurveyInvitation.objects.create(survey=survey, token_hash=survey_services.token_hash(survey_token),
                                    phone_index="screenshots", sent_ok=True, sent_at=now,
                                    region_id=survey.target_region_id, item_id=survey.target_item_id)
callback_operator = User.objects.filter(username="hotline-370100").first()
# 综合点评 and 通报 (demo.supervision): the county supervisor who issued the demo's bulletins, one of the county's
# complaints, the bulletin some units have not acknowledged yet, and the one made public.
from haochaping.supervision.models import Bulletin, SocialReview
first_bulletin = Bulletin.objects.select_related("issued_by").order_by("pk").first()
intake_supervisor = first_bulletin.issued_by if first_bulletin else None
intake_complaint = (SocialReview.objects.filter(region_id=intake_supervisor.region_id)
                    .order_by("pk").first() if intake_supervisor else None)
public_bulletin = Bulletin.objects.filter(published_at__isnull=False).order_by("pk").first()
# Pain points: the province's supervisor (the demo command classified the bad reviews already).
province_supervisor = User.objects.filter(role="supervisor", region__code__endswith="0000").order_by("username").first()

print(json.dumps({
    "survey_token": survey_token,
    "intake_session": session_of(intake_supervisor) if intake_supervisor else "",
    "intake_complaint_id": intake_complaint.pk if intake_complaint else None,
    "bulletin_id": first_bulletin.pk if first_bulletin else None,
    "public_bulletin_id": public_bulletin.pk if public_bulletin else None,
    "callback_session": session_of(callback_operator) if callback_operator else "",
    "analysis_session": session_of(analyst),
    "painpoints_session": session_of(province_supervisor) if province_supervisor else None,
    "case_id": routed.case_id, "case_session": session_of(window_handler),
    "receipt_code": ev.receipt_code, "project_no": second.project_no, "session_cookie": settings.SESSION_COOKIE_NAME,
    "session": session_of(operator),
    "kiosk_secret": shows_secret, "kiosk_idle_secret": idle_secret,
    "qr_token": verification.window_token(by_qr.window_id), "qr_project_no": by_qr.project_no,
    "qr_code": verification_code(by_qr.project_no), "qr_window_id": by_qr.window_id,
    "sign_session": session_of(printer),
    "invite_token": outcome.token, "expired_invite_token": late_token,
    "platform": platform.code, "platform_secret": platform_secret, "online_project_no": by_platform.project_no,
    "return_url": "https://zwfw.example.gov.cn/bs/done?from=platform",
    "paper_session": session_of(clerk), "paper_form_number": forms[0].number, "paper_project_no": on_paper.project_no,
}))
"""
