"""Pure 办件 rules: due dates in working days, overdue, status changes, consistency (R2.4). No database."""

from datetime import date, datetime
from types import SimpleNamespace

import pytest

from haochaping.core import calendar_rules
from haochaping.records import rules
from haochaping.records.models import RecordStatus, RecordType
from tests.factories import SHANGHAI

FRIDAY = date(2026, 11, 20)
NATIONAL_DAY = {date(2026, 10, d): False for d in range(1, 9)} | {date(2026, 10, 10): True}  # 10-10 调休 Saturday


def plain_week(start, n):
    return calendar_rules.add_working_days(start, n, {})


def with_holidays(start, n):
    return calendar_rules.add_working_days(start, n, NATIONAL_DAY)


def record(*, due, status=RecordStatus.COMPLETED, completed_at=None):
    return SimpleNamespace(due_date=due, status=status, completed_at=completed_at)


def test_promised_five_working_days_from_a_friday_is_the_next_friday():
    assert FRIDAY.weekday() == 4
    assert rules.due_date(FRIDAY, RecordType.PROMISED, 5, plain_week) == date(2026, 11, 27)


def test_immediate_record_is_due_the_day_it_is_accepted():
    assert rules.due_date(FRIDAY, RecordType.IMMEDIATE, 0, plain_week) == FRIDAY


def test_due_date_skips_holidays_and_counts_make_up_saturdays():
    # Accepted 30 Sept 2026: 1–8 Oct are holidays, Sat 10 Oct is a make-up workday.
    assert rules.due_date(date(2026, 9, 30), RecordType.PROMISED, 1, with_holidays) == date(2026, 10, 9)
    assert rules.due_date(date(2026, 9, 30), RecordType.PROMISED, 2, with_holidays) == date(2026, 10, 10)


def test_record_not_yet_accepted_has_no_due_date():
    assert rules.due_date(None, RecordType.PROMISED, 5, plain_week) is None


def test_completed_after_the_due_date_is_overdue():
    late = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
    assert rules.is_overdue(record(due=date(2026, 11, 27), completed_at=late), today=date(2026, 12, 1)) is True


def test_completed_on_the_due_date_is_not_overdue_even_long_after():
    on_time = datetime(2026, 11, 27, 17, 59, tzinfo=SHANGHAI)
    assert rules.is_overdue(record(due=date(2026, 11, 27), completed_at=on_time), today=date(2027, 3, 1)) is False


def test_completion_is_judged_on_the_beijing_calendar_day():
    # 16:30 UTC on the due date is already 00:30 the next day in Beijing: late.
    from datetime import UTC

    just_late = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
    assert rules.is_overdue(record(due=date(2026, 11, 27), completed_at=just_late)) is True


def test_open_record_is_overdue_only_after_its_due_date():
    open_record = record(due=date(2026, 11, 27), status=RecordStatus.IN_PROGRESS)
    assert rules.is_overdue(open_record, today=date(2026, 11, 27)) is False
    assert rules.is_overdue(open_record, today=date(2026, 11, 28)) is True


def test_immediate_record_completed_the_next_day_is_overdue():
    due = rules.due_date(FRIDAY, RecordType.IMMEDIATE, 0, plain_week)
    next_day = datetime(2026, 11, 21, 9, 0, tzinfo=SHANGHAI)
    assert rules.is_overdue(record(due=due, completed_at=next_day)) is True


def test_record_without_due_date_is_never_overdue():
    assert rules.is_overdue(record(due=None, status=RecordStatus.WAITING), today=date(2030, 1, 1)) is False


@pytest.mark.parametrize(
    ("current", "new", "allowed"),
    [
        (RecordStatus.WAITING, RecordStatus.IN_PROGRESS, True),
        (RecordStatus.WAITING, RecordStatus.COMPLETED, True),
        (RecordStatus.IN_PROGRESS, RecordStatus.COMPLETED, True),
        (RecordStatus.IN_PROGRESS, RecordStatus.WAITING, False),
        (RecordStatus.COMPLETED, RecordStatus.IN_PROGRESS, False),
        (RecordStatus.COMPLETED, RecordStatus.WAITING, False),
    ],
)
def test_status_only_moves_forward(current, new, allowed):
    problem = rules.status_change_problem(current, new)
    assert (problem is None) is allowed
    if problem:
        assert "已办结" in problem or "办理中" in problem


AT = datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI)
LATER = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        (dict(status=2, accepted_at=None, completed_at=None), "accepted_at"),
        (dict(status=3, accepted_at=AT, completed_at=None), "completed_at"),
        (dict(status=2, accepted_at=AT, completed_at=LATER), "completed_at"),
        (dict(status=3, accepted_at=LATER, completed_at=AT), "completed_at"),
        (dict(status=3, accepted_at=AT, completed_at=LATER, promised_days=0), "promised_days"),
        (dict(status=3, accepted_at=AT, completed_at=LATER, record_type="immediate", promised_days=3), "promised_days"),
    ],
)
def test_inconsistent_records_name_the_field(kw, field):
    args = dict(record_type="promised", promised_days=5) | kw
    problem = rules.record_consistency_problem(**args)
    assert problem is not None and problem[0] == field


def test_consistent_records_pass():
    assert rules.record_consistency_problem(
        status=3, accepted_at=AT, completed_at=LATER, record_type="promised", promised_days=5
    ) is None
    assert rules.record_consistency_problem(
        status=1, accepted_at=None, completed_at=None, record_type="immediate", promised_days=0
    ) is None


@pytest.mark.parametrize(("record_region", "key_region", "references", "expected"), [
    # Inside the key's county, on the 办件's branch: a township agency below the county is fine too.
    ("370102", "370102", [("department_credit_code", "370102"), ("agency_code", "370102001")], None),
    # Another county's department, for a county key: outside the key's region.
    ("370102", "370102", [("department_credit_code", "370103")], (403, "department_credit_code")),
    # A city-level department is above the county key's region: the county key may not name it...
    ("370102", "370102", [("staff_no", "370100")], (403, "staff_no")),
    # ...but the city's key may, for a county 办件 (the department is above the 办件, on its branch).
    ("370102", "370100", [("staff_no", "370100")], None),
    # A province-wide key still cannot mix branches.
    ("370102", None, [("window_code", "370203")], (422, "window_code")),
    # Platforms and items may sit above the 办件's region, never beside or below it.
    ("370102", "370102", [("platform_code", "370000"), ("implementation_code", "370100")], None),
    ("370102", "370102", [("platform_code", "370103")], (422, "platform_code")),
    ("370102", "370102", [("implementation_code", "370102001")], (422, "implementation_code")),
    # Counties whose fifth digit is not 0 have their own prefix.
    ("370112", "370112", [("agency_code", "370102")], (403, "agency_code")),
])
def test_where_a_pushed_records_references_may_lie(record_region, key_region, references, expected):
    problem = rules.reference_region_problem(record_region, key_region, references)
    assert (problem[:2] if problem else None) == expected
    if problem:
        assert problem[2] and "该" in problem[2]


def test_a_naive_completion_time_is_taken_as_it_is():
    # Imported rows may carry naive times (already local); they are compared by their own date.
    naive = datetime(2026, 11, 27, 23, 59)
    assert rules.is_overdue(record(due=date(2026, 11, 27), completed_at=naive), today=date(2027, 1, 1)) is False
    assert rules.is_overdue(record(due=date(2026, 11, 26), completed_at=naive), today=date(2027, 1, 1)) is True


def test_without_today_an_open_record_is_judged_against_the_current_day():
    # Far past and far future due dates: the answer does not depend on which day the test runs.
    assert rules.is_overdue(record(due=date(2000, 1, 3), status=RecordStatus.IN_PROGRESS)) is True
    assert rules.is_overdue(record(due=date(2999, 1, 3), status=RecordStatus.IN_PROGRESS)) is False


def test_a_completed_record_without_a_completion_time_is_judged_by_today():
    assert rules.is_overdue(record(due=date(2026, 11, 27)), today=date(2026, 11, 27)) is False
    assert rules.is_overdue(record(due=date(2026, 11, 27)), today=date(2026, 11, 28)) is True


@pytest.mark.parametrize(("kw", "problem"), [
    ({"status": RecordStatus.IN_PROGRESS, "accepted_at": None}, ("accepted_at", "已受理或已办结的办件必须有受理时间")),
    ({"completed_at": None}, ("completed_at", "已办结的办件必须有办结时间")),
    ({"status": RecordStatus.IN_PROGRESS}, ("completed_at", "未办结的办件不能有办结时间")),
    ({"completed_at": datetime(2026, 11, 20, 8, 59)}, ("completed_at", "办结时间不能早于受理时间")),
    ({"promised_days": 0}, ("promised_days", "承诺件的承诺时限至少为1个工作日")),
    ({"record_type": RecordType.IMMEDIATE, "promised_days": 1}, ("promised_days", "即办件的承诺时限应为0")),
    # The edges that are allowed: completed the very moment it was accepted, promised one working day.
    ({"completed_at": datetime(2026, 11, 20, 9, 0)}, None),
    ({"promised_days": 1}, None),
    ({"record_type": RecordType.IMMEDIATE, "promised_days": 0}, None),
])
def test_record_consistency_messages_and_edges(kw, problem):
    args = {"status": RecordStatus.COMPLETED, "accepted_at": datetime(2026, 11, 20, 9, 0),
            "completed_at": datetime(2026, 11, 21, 9, 0), "record_type": RecordType.PROMISED, "promised_days": 5}
    assert rules.record_consistency_problem(**(args | kw)) == problem
