"""Use cases of 综合点评 intake (R3.6): register a complaint or suggestion from any source (one transaction: the
complaint, its files and its rectification case, opened by rectification.services.open_complaint so routing and
deadlines are the workflow's own), and reveal the complainant's contact (accounts.privacy: logged).

Order of checks: 404 (what it is about is not the actor's to see) → 403 (role) → 422 (the field named). A
re-sent item (same source and reference) is a replay: the first complaint is answered, nothing is added."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from haochaping.accounts import privacy
from haochaping.accounts.roles import Role
from haochaping.core.models import AuditEntry
from haochaping.core.problems import invalid
from haochaping.rectification import services as cases
from haochaping.rectification.services.common import check_files, forbidden, is_supervisor

from . import rules
from .models import Nature, SocialReview, SocialReviewAttachment, Source

log = logging.getLogger(__name__)

CONTACT_FIELDS = ("complainant_phone", "complainant_name", "complainant_email")


@dataclass
class ComplaintInput:
    """A complaint as a page, the API or the mailbox reader gives it. The units are objects the caller found
    in the actor's scope (out of scope must already have answered 404)."""

    source: str
    summary: str
    nature: str = Nature.COMPLAINT
    reference: str = ""
    received_at: datetime | None = None
    name: str = ""
    phone: str = ""
    email: str = ""
    department: object = None
    agency: object = None
    staff: object = None
    item: object = None
    record: object = None
    files: list = field(default_factory=list)


@dataclass(frozen=True)
class Registered:
    complaint: SocialReview
    created: bool


def _problems(data: ComplaintInput, now) -> list[tuple[str, str]]:
    problems = []
    if data.source not in Source.values:
        problems.append(("source", _("请选择来源（意见箱、12345热线、监督平台、中国政府网投诉平台、电子邮箱、现场）")))
    if data.nature not in Nature.values:
        problems.append(("nature", _("请选择性质（投诉或建议）")))
    if not isinstance(data.summary, str) or not data.summary.strip():
        problems.append(("summary", _("请填写投诉或建议的内容")))
    elif len(data.summary) > rules.MAX_TEXT:
        problems.append(("summary", _("内容不能超过%(n)d字") % {"n": rules.MAX_TEXT}))
    if len(data.reference or "") > rules.MAX_REFERENCE:
        problems.append(("reference", _("来源编号不能超过%(n)d个字符") % {"n": rules.MAX_REFERENCE}))
    if data.source in (Source.HOTLINE, Source.PLATFORM, Source.GOV_PLATFORM) and not (data.reference or "").strip():
        problems.append(("reference", _("请填写工单编号或平台编号")))
    if len(data.name or "") > 50:
        problems.append(("name", _("姓名不能超过50个字")))
    for name, problem in (("phone", rules.phone_problem(data.phone)), ("email", rules.email_problem(data.email))):
        if problem:
            problems.append((name, problem))
    if data.received_at is not None and data.received_at > now:
        problems.append(("received_at", _("收到时间不能晚于现在")))
    if data.department is None and data.record is None and data.staff is None and data.item is None:
        problems.append(("department", _("请指明被投诉的单位、工作人员、事项或办件")))
    return problems


def _department(data: ComplaintInput):
    """The unit that answers: the 办件's (routed by rectification), else the one named, else the staff member's
    or the item's."""
    if data.record is not None:
        return data.record.department
    for candidate in (data.department, getattr(data.staff, "department", None), getattr(data.item, "department", None)):
        if candidate is not None:
            return candidate
    raise invalid(_("请指明被投诉的单位"), "department")


def _refuse(problems) -> None:
    if problems:
        field_name, message = problems[0]
        raise invalid(message, field_name, errors=[{"field": f, "message": m} for f, m in problems])


def _replay(data: ComplaintInput) -> SocialReview | None:
    reference = (data.reference or "").strip()
    if not reference:
        return None
    return SocialReview.objects.filter(source=data.source, reference=reference).first()


def register(data: ComplaintInput, *, actor, channel: str | None = None) -> Registered:
    """Register a complaint and open its case; a known (source, reference) answers the first one (created False).

    ``actor`` is the supervisor or 12345 operator who typed it in, or None for an integration (``channel`` names
    it in the audit: ``apikey:<prefix>``, ``mailbox:<id>``)."""
    if actor is not None and not (is_supervisor(actor) or actor.role == Role.HOTLINE):
        raise forbidden(_("只有政务服务管理机构的监督人员或12345热线话务员可以登记投诉和建议"))
    now = timezone.now()
    _refuse(_problems(data, now))
    existing = _replay(data)
    if existing is not None:
        return Registered(existing, False)
    department = _department(data)
    checked = check_files(data.files, label=_("附件"))
    label = f"【{Source(data.source).label}·{Nature(data.nature).label}】"
    summary = (label + data.summary.strip())[: rules.MAX_TEXT]
    staff = data.staff
    agency = data.agency or getattr(staff, "agency", None) or getattr(data.record, "agency", None)
    try:
        with transaction.atomic():
            case = cases.open_complaint(
                summary=summary, actor=actor, record=data.record, department=department,
                is_real_name=bool(data.name or data.phone or data.email), source=channel,
            )
            complaint = SocialReview.objects.create(
                source=data.source, nature=data.nature, reference=(data.reference or "").strip(),
                summary=data.summary.strip(), complainant_name=(data.name or "").strip() or None,
                complainant_phone=rules.clean_phone(data.phone) or None,
                complainant_email=(data.email or "").strip() or None,
                region_id=case.region_id, department_id=case.department_id, agency=agency, staff=staff,
                item=data.item or getattr(data.record, "item", None), record=data.record, case=case,
                received_at=data.received_at or now, registered_at=now, registered_by=actor,
                channel=channel or "",
            )
            for upload, kind in checked:
                attachment = SocialReviewAttachment(complaint=complaint, original_name=(upload.name or "")[-200:],
                                                 size=upload.size or 0, uploaded_at=now)
                attachment.file.save(f"{uuid.uuid4().hex}.{kind}", upload, save=False)
                attachment.save()
            AuditEntry.objects.create(
                actor=channel or getattr(actor, "username", None) or "system", action="complaint.register",
                object_type="supervision.SocialReview", object_id=str(complaint.pk),
                data={"source": data.source, "nature": data.nature, "case": case.pk, "files": len(checked)},
            )
    except IntegrityError:
        # The same reference registered by a concurrent request: it won, this one is its replay.
        existing = _replay(data)
        if existing is None:
            raise
        return Registered(existing, False)
    return Registered(complaint, True)


def mail_files(files: list[rules.MailFile]) -> list:
    """E-mailed files as uploads for check_files (type by extension and content, size)."""
    return [SimpleUploadedFile(f.name, f.content) for f in files]


def contact_fields(complaint: SocialReview, actor) -> list[tuple[str, str]]:
    """(field, label) of the contact the actor may reveal: the ones the complaint holds, if they may reveal."""
    if not privacy.may_reveal(actor):
        return []
    return [(name, str(SocialReview._meta.get_field(name).verbose_name))
            for name in CONTACT_FIELDS if getattr(complaint, name)]


def reveal_contact(complaint: SocialReview, field_name: str, reason: str, *, actor, ip: str | None = None) -> str:
    """The clear contact for a callback, through accounts.privacy.reveal (permission, scope, reason, access log)."""
    if field_name not in CONTACT_FIELDS:
        raise invalid(_("请选择要查看的信息（投诉人电话、姓名或电子邮箱）"), "field")
    return privacy.reveal(actor, complaint, field_name, reason, ip=ip)
