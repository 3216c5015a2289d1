"""Pure rules about 办件 (R2.4)."""

from __future__ import annotations

from datetime import date, datetime

from django.db.models.enums import IntegerChoices, TextChoices
from django.utils.translation import gettext_lazy as _

from haochaping.org.rules import region_prefix

# The 办件's kinds and states are defined with the rules about them; models.py uses them for its columns.

class RecordType(TextChoices):
    IMMEDIATE = "immediate", _("即办件")
    PROMISED = "promised", _("承诺件")


class RecordStatus(IntegerChoices):
    WAITING = 1, _("待受理")
    IN_PROGRESS = 2, _("办理中")
    COMPLETED = 3, _("已办结")


def due_date(accepted_on: date | None, record_type: str, promised_days: int, add_working_days) -> date | None:
    """The promised completion date: the acceptance day for 即办件, else ``promised_days`` working days later.
    ``add_working_days`` is the calendar function (injected so this stays pure)."""
    if accepted_on is None:
        return None
    if record_type == RecordType.IMMEDIATE:
        return accepted_on
    return add_working_days(accepted_on, promised_days)


def is_overdue(record, today: date | None = None) -> bool:
    """Completed after its due date, or still open after it (§二(三): needs a public explanation)."""
    if record.due_date is None:
        return False
    if record.status == RecordStatus.COMPLETED and record.completed_at:
        return _local_date(record.completed_at) > record.due_date
    if today is None:
        from django.utils import timezone

        today = timezone.localdate()
    return today > record.due_date


def _local_date(moment: datetime) -> date:
    from django.utils import timezone

    return timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()


ALLOWED_STATUS_CHANGES = {
    RecordStatus.WAITING: {RecordStatus.WAITING, RecordStatus.IN_PROGRESS, RecordStatus.COMPLETED},
    RecordStatus.IN_PROGRESS: {RecordStatus.IN_PROGRESS, RecordStatus.COMPLETED},
    RecordStatus.COMPLETED: {RecordStatus.COMPLETED},
}


def status_change_problem(current: int, new: int) -> str | None:
    if new not in ALLOWED_STATUS_CHANGES.get(current, set()):
        return f"办件状态不能从{RecordStatus(current).label}改为{RecordStatus(new).label}"
    return None


def record_consistency_problem(*, status: int, accepted_at, completed_at, record_type: str, promised_days: int):
    """(field, message) for an inconsistent record, or None."""
    if status in (RecordStatus.IN_PROGRESS, RecordStatus.COMPLETED) and accepted_at is None:
        return "accepted_at", "已受理或已办结的办件必须有受理时间"
    if status == RecordStatus.COMPLETED and completed_at is None:
        return "completed_at", "已办结的办件必须有办结时间"
    if status != RecordStatus.COMPLETED and completed_at is not None:
        return "completed_at", "未办结的办件不能有办结时间"
    if accepted_at and completed_at and completed_at < accepted_at:
        return "completed_at", "办结时间不能早于受理时间"
    if record_type == RecordType.PROMISED and promised_days < 1:
        return "promised_days", "承诺件的承诺时限至少为1个工作日"
    if record_type == RecordType.IMMEDIATE and promised_days != 0:
        return "promised_days", "即办件的承诺时限应为0"
    return None


# Where a pushed 办件's references may lie (R2.4, R7): the units that answer for it (department, agency, window,
# staff) lie inside the pushing key's region and on the 办件's own branch of the region tree, so a 差评 never
# opens a case in a region whose key did not push it. A platform or a catalogue item may sit above the 办件's
# region (爱山东 serves the whole province, a city's catalogue its counties) but never in another branch.
ACCOUNTABLE = ("department_credit_code", "agency_code", "window_code", "staff_no")
REFERENCE_NAMES = {
    "department_credit_code": "办理部门", "agency_code": "政务服务机构", "window_code": "窗口", "staff_no": "经办人",
    "platform_code": "平台", "implementation_code": "事项",
}


def _within(code: str, ancestor: str) -> bool:
    return code.startswith(region_prefix(ancestor))


def reference_region_problem(
    record_region: str, key_region: str | None, references: list[tuple[str, str]]
) -> tuple[int, str, str] | None:
    """(status, field, message) for the first reference of a pushed 办件 that lies where it may not, or None.

    ``references``: (field, region code of the referenced unit) pairs; a unit with two regions (staff of an
    agency and a department) is listed once per region. 403 when a unit lies outside the key's region, 422 when
    it lies in another branch than the 办件's region.
    """
    for field, region in references:
        name = REFERENCE_NAMES[field]
        accountable = field in ACCOUNTABLE
        if key_region is not None and accountable and not _within(region, key_region):
            return 403, field, f"该{name}不在接口密钥的行政区划内，不能推送"
        on_branch = _within(record_region, region) or (accountable and _within(region, record_region))
        if not on_branch:
            return 422, field, f"该{name}与办件的行政区划（region_code）不一致"
    return None
