"""Use cases for 办件: the only code that writes ServiceRecord (R2.4)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from haochaping.catalog.models import ServiceItem
from haochaping.core import calendar, crypto
from haochaping.core.models import AuditEntry
from haochaping.core.problems import DomainError, conflict, invalid, not_found
from haochaping.org.models import Department, Platform, Region, ServiceAgency, Staff, Window
from haochaping.org.rules import region_prefix

from . import rules
from .models import RecordStatus, ServiceRecord
from .signals import record_completed


@dataclass
class RecordInput:
    project_no: str
    implementation_code: str
    region_code: str
    department_credit_code: str
    applicant_type: int
    record_type: str
    status: int
    promised_days: int = 0
    agency_code: str | None = None
    window_code: str | None = None
    staff_no: str | None = None
    platform_code: str | None = None
    applicant_name: str = ""
    applicant_id_number: str = ""
    applicant_phone: str = ""
    accepted_at: datetime | None = None
    completed_at: datetime | None = None


def _canonical(value):
    # The same instant sent as +08:00 or as Z is the same record: compare instants, not spellings.
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def payload_hash(data: RecordInput) -> str:
    """Keyed digest of a pushed record, to tell an identical re-push from a changed one."""
    doc = {k: _canonical(v) for k, v in data.__dict__.items()}
    canonical = json.dumps(doc, sort_keys=True, default=str, ensure_ascii=False)
    return crypto.blind_index(canonical, kind="record-payload")


class References:
    """Where :func:`_resolve` finds the units a pushed 办件 names: one query each (a single push). The set-based
    intake (records.intake) hands in one that has read them for a whole batch, so both check alike."""

    def region(self, code: str) -> Region | None:
        return Region.objects.filter(code=code).first()

    def item(self, code: str) -> ServiceItem | None:
        return ServiceItem.objects.filter(implementation_code=code).first()

    def department(self, credit_code: str) -> Department | None:
        return Department.objects.filter(credit_code=credit_code).first()

    def agency(self, code: str) -> ServiceAgency | None:
        return ServiceAgency.objects.filter(code=code).first()

    def window(self, agency: ServiceAgency, code: str) -> Window | None:
        return Window.objects.select_related("agency", "department").filter(agency=agency, code=code).first()

    def staff(self, staff_no: str) -> Staff | None:
        return Staff.objects.select_related("agency", "department").filter(staff_no=staff_no).first()

    def platform(self, code: str) -> Platform | None:
        return Platform.objects.filter(code=code).first()


def _resolve(data: RecordInput, region_scope: Region | None, refs: References | None = None) -> dict:
    refs = refs or References()
    region = refs.region(data.region_code)
    if region is None:
        raise invalid("行政区划代码不存在", "region_code")
    if region_scope is not None and not region.code.startswith(region_prefix(region_scope.code)):
        raise DomainError(403, "无权操作", "该接口密钥不能推送其他地区的办件", "region_code", code="forbidden")
    item = refs.item(data.implementation_code)
    if item is None:
        raise invalid("事项实施编码不存在", "implementation_code")
    department = refs.department(data.department_credit_code)
    if department is None:
        raise invalid("办理部门的统一社会信用代码不存在", "department_credit_code")
    agency = window = staff = platform = None
    if data.agency_code:
        agency = refs.agency(data.agency_code)
        if agency is None:
            raise invalid("政务服务机构编码不存在", "agency_code")
    if data.window_code:
        if agency is None:
            raise invalid("指定窗口时必须同时指定政务服务机构", "agency_code")
        window = refs.window(agency, data.window_code)
        if window is None:
            raise invalid("该政务服务机构下没有此窗口编号", "window_code")
    if data.staff_no:
        staff = refs.staff(data.staff_no)
        if staff is None:
            raise invalid("工号不存在", "staff_no")
    if data.platform_code:
        platform = refs.platform(data.platform_code)
        if platform is None:
            raise invalid("平台编码不存在", "platform_code")
    if not (agency or window or staff or platform):
        raise invalid("必须指明办理的机构、窗口、经办人或平台（谁办理、谁负责）", "agency_code")
    _refuse_foreign_references(region, region_scope, item, department, agency, window, staff, platform)
    return dict(region=region, item=item, department=department, agency=agency, window=window, staff=staff, platform=platform)


def _refuse_foreign_references(region, region_scope, item, department, agency, window, staff, platform) -> None:
    references = [("department_credit_code", department.region_id)]
    if agency is not None:
        references.append(("agency_code", agency.region_id))
    if window is not None:
        references.append(("window_code", window.agency.region_id))
        if window.department_id is not None:
            references.append(("window_code", window.department.region_id))
    if staff is not None:
        references += [("staff_no", unit.region_id) for unit in (staff.agency, staff.department) if unit is not None]
    if platform is not None:
        references.append(("platform_code", platform.region_id))
    references.append(("implementation_code", item.region_id))
    problem = rules.reference_region_problem(region.code, region_scope.code if region_scope else None, references)
    if problem:
        status, field, message = problem
        if status == 403:
            raise DomainError(403, "无权操作", message, field, code="forbidden")
        raise invalid(message, field)


def _check_consistency(status, accepted_at, completed_at, record_type, promised_days):
    problem = rules.record_consistency_problem(
        status=status, accepted_at=accepted_at, completed_at=completed_at, record_type=record_type, promised_days=promised_days
    )
    if problem:
        raise invalid(problem[1], problem[0])


def _due_date(region_code, accepted_at, record_type, promised_days):
    accepted_on = timezone.localtime(accepted_at).date() if accepted_at else None
    return rules.due_date(
        accepted_on, record_type, promised_days, lambda d, n: calendar.add_working_days(d, n, region_code)
    )


def push_record(data: RecordInput, *, source: str, region_scope: Region | None = None) -> tuple[ServiceRecord, bool]:
    """Create a 办件 from a platform's push. Returns (record, created).

    Pushing the identical record again returns it unchanged (idempotent); pushing different content under an
    existing 办件编号 is a conflict: changes go through :func:`update_record`.
    """
    digest = payload_hash(data)
    existing = ServiceRecord.objects.by_number(data.project_no).first()
    if existing is not None:
        return _same_or_conflict(existing, digest, region_scope), False
    record = new_record(data, source=source, digest=digest, region_scope=region_scope)
    try:
        with transaction.atomic():
            record.save(force_insert=True)
            if record.status == RecordStatus.COMPLETED:
                record_completed.send(sender=ServiceRecord, record=record)
    except IntegrityError:
        # Two pushes of one record raced: the loser answers like a re-push.
        existing = ServiceRecord.objects.by_number(data.project_no).get()
        return _same_or_conflict(existing, digest, region_scope), False
    return record, True


def new_record(data: RecordInput, *, source: str, digest: str, region_scope: Region | None = None,
               refs: References | None = None) -> ServiceRecord:
    """The unsaved 办件 of a push whose number is free: references resolved and checked, consistency checked, due
    date computed (DomainError naming the field otherwise). Shared by :func:`push_record` and records.intake."""
    refs_ = _resolve(data, region_scope, refs)
    _check_consistency(data.status, data.accepted_at, data.completed_at, data.record_type, data.promised_days)
    return ServiceRecord(
        project_no=data.project_no,
        applicant_type=data.applicant_type,
        applicant_name=data.applicant_name,
        applicant_id_number=data.applicant_id_number,
        applicant_id_index=crypto.blind_index(data.applicant_id_number, kind="id_number") if data.applicant_id_number else "",
        applicant_phone=data.applicant_phone,
        applicant_phone_index=crypto.blind_index(data.applicant_phone, kind="phone") if data.applicant_phone else "",
        record_type=data.record_type,
        promised_days=data.promised_days,
        status=data.status,
        accepted_at=data.accepted_at,
        completed_at=data.completed_at,
        due_date=_due_date(data.region_code, data.accepted_at, data.record_type, data.promised_days),
        push_hash=digest,
        source=source,
        **refs_,
    )


def same_or_conflict(existing: ServiceRecord, digest: str, region_scope: Region | None = None) -> ServiceRecord:
    """A push of a number that is taken: the stored 办件 when the content is the same, else the conflict."""
    return _same_or_conflict(existing, digest, region_scope)


def _in_scope(record: ServiceRecord, region_scope: Region | None) -> bool:
    return region_scope is None or record.region_id.startswith(region_prefix(region_scope.code))


def _same_or_conflict(existing: ServiceRecord, digest: str, region_scope: Region | None = None) -> ServiceRecord:
    if not _in_scope(existing, region_scope):
        # Another region's record: say the number is taken, never hand its content back.
        raise conflict("该办件编号已被其他地区的办件使用", "project_no")
    if existing.push_hash == digest:
        return existing
    raise conflict("该办件编号已存在且内容不同；变更状态请使用 PATCH /api/v1/records/{project_no}", "project_no")


UPDATABLE = ("status", "accepted_at", "completed_at", "promised_days", "overdue_explanation")
NOT_NULL = ("status", "promised_days", "overdue_explanation")


def update_record(project_no: str, changes: dict, *, actor: str, region_scope: Region | None = None) -> ServiceRecord:
    """Apply a status change or correction to a 办件; recomputes its due date; writes the audit."""
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise invalid(f"不能修改的字段：{', '.join(sorted(unknown))}", sorted(unknown)[0])
    for f in NOT_NULL:
        if f in changes and changes[f] is None:
            raise invalid("不能为空；不修改时请省略该字段", f)
    with transaction.atomic():
        record = ServiceRecord.objects.select_for_update().by_number(project_no).first()
        if record is None or not _in_scope(record, region_scope):
            raise not_found("办件不存在", "project_no")
        before = {f: getattr(record, f) for f in changes}
        new_status = changes.get("status", record.status)
        problem = rules.status_change_problem(record.status, new_status)
        if problem:
            raise conflict(problem, "status")
        for f, v in changes.items():
            setattr(record, f, v)
        if new_status == RecordStatus.COMPLETED and record.completed_at is None and "completed_at" not in changes:
            raise invalid("已办结的办件必须有办结时间", "completed_at")
        _check_consistency(record.status, record.accepted_at, record.completed_at, record.record_type, record.promised_days)
        record.due_date = _due_date(record.region_id, record.accepted_at, record.record_type, record.promised_days)
        record.save()
        if new_status == RecordStatus.COMPLETED and before.get("status", new_status) != RecordStatus.COMPLETED:
            record_completed.send(sender=ServiceRecord, record=record)
        AuditEntry.objects.create(
            actor=actor,
            action="record.update",
            object_type="records.ServiceRecord",
            object_id=record.project_no,
            data={f: {"from": str(before[f]), "to": str(changes[f])} for f in changes},
        )
    return record
