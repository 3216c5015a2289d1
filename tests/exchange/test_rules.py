"""The foreign shapes at the border (exchange.rules): every code table both ways, round trips of whole rows, and
refusals that name the foreign field without echoing its value."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haochaping.exchange import rules
from haochaping.exchange.rules import BEIJING, NATIONAL, NATIONAL_PF7_DEFAULT, Refused

NATIONAL_ROW = {
    "projectNo": "370102-2026-000123", "pf": "4", "satisfaction": "1", "serviceNumber": "2", "evaluateType": "1",
    "evalDetail": "108,110", "writingEvaluation": "要求提交指南外材料", "assessTime": "2026-03-02 09:15:00",
    "assessNumber": "1", "userProp": "1", "deptCode": "11370100004307498J", "taskCode": "11370100004307498J3000111",
    "taskHandleItem": "11370100004307498J300011100101", "dataSource": "370000",
}


def test_a_live_interface_row_maps_to_the_internal_shape():
    ev = rules.evaluation_from_national(NATIONAL_ROW)
    assert ev["level"] == 1 and ev["channel"] == "kiosk" and ev["stage"] == "complete" and ev["type"] == "active"
    assert ev["labels"] == ["108", "110"]
    assert ev["evaluated_at"] == datetime(2026, 3, 2, 9, 15, tzinfo=BEIJING)
    assert ev["idempotency_key"] == "370102-2026-000123:1"
    assert rules.evaluation_to_national(ev) == NATIONAL_ROW


@pytest.mark.parametrize(("pf", "channel"), [("1", "pc"), ("2", "mobile"), ("3", "qr"), ("4", "kiosk"),
                                             ("5", "terminal"), ("6", "phone"), ("7", "sms")])
def test_channel_codes_both_ways(pf, channel):
    assert NATIONAL.channel(pf) == channel and NATIONAL.pf(channel) == pf


def test_the_provinces_pf7_means_a_system_default_evaluation():
    assert NATIONAL_PF7_DEFAULT.channel("7") == "system_default"
    assert NATIONAL_PF7_DEFAULT.pf("system_default") == "7"
    # Under that profile an SMS evaluation has no code of its own: refused, not silently sent as a default.
    with pytest.raises(Refused) as refused:
        NATIONAL_PF7_DEFAULT.pf("sms")
    assert refused.value.field == "pf"
    with pytest.raises(Refused):
        NATIONAL.pf("system_default")


def test_paper_forms_leave_as_a_hall_terminal():
    assert NATIONAL.pf("paper") == "5"


@pytest.mark.parametrize(("gbt", "level"), [(1, 5), (2, 4), (3, 3), (4, 2), (5, 1)])
def test_gbt_39046_satisfaction_codes_are_reversed(gbt, level):
    assert rules.level_from_gbt(gbt) == level and rules.gbt_from_level(level) == gbt


def test_a_gbt_39046_row_maps_and_round_trips():
    row = {"办件编号": "P-1", "评价渠道": "3", "评价人": "张三", "评价时间": "20251231T235959", "评价次数": "2",
           "满意度代码": "1", "文字评价": "", "行政区划": "370102"}
    ev = rules.evaluation_from_gbt(row)
    assert (ev["level"], ev["channel"], ev["type"]) == (5, "qr", "followup")
    assert ev["evaluated_at"] == datetime(2025, 12, 31, 23, 59, 59, tzinfo=BEIJING)
    assert rules.evaluation_to_gbt(ev) == row


@pytest.mark.parametrize(("area", "code"), [("370102000000", "370102"), ("370102001000", "370102001"),
                                            ("370102001002", "370102001002"), ("370000", "370000")])
def test_area_codes(area, code):
    assert rules.region_code_from_area(area) == code
    assert rules.region_code_from_area(rules.area_from_region_code(code)) == code


@pytest.mark.parametrize(("field", "value"), [
    ("pf", "8"), ("pf", ""), ("satisfaction", "0"), ("satisfaction", "6"), ("satisfaction", "很好"),
    ("serviceNumber", "3"), ("evaluateType", "3"), ("userProp", "7"), ("evalDetail", "1080"),
    ("evalDetail", "610"), ("assessTime", "2026-03-02T09:15:00"), ("assessTime", "0832-09-08 22:43:04"),
    ("assessNumber", "0"), ("projectNo", ""), ("writingEvaluation", "a\x00b"), ("writingEvaluation", "长" * 2001),
])
def test_bad_values_are_refused_naming_the_field_not_the_value(field, value):
    with pytest.raises(Refused) as refused:
        rules.evaluation_from_national({**NATIONAL_ROW, field: value})
    assert refused.value.field == field
    if len(value) > 3:
        assert value not in str(refused.value)


def test_a_national_record_row():
    row = {"projectNo": "P-9", "taskCode": "T-1", "windowCode": "A01", "agencyCode": "HALL1", "areaCode": "370102000000", "deptCode": "11370100004307498J",
           "userProp": "2", "promiseDay": "5", "proStatus": "3", "acceptDate": "2026-03-02 09:00:00",
           "finishDate": "2026-03-05 16:00:00"}
    record = rules.record_from_national(row)
    assert record["region_code"] == "370102" and record["record_type"] == "promised" and record["status"] == 3
    assert record["applicant"] == {"type": 2}
    assert rules.record_to_national(record) == row
    immediate = rules.record_from_national({**row, "promiseDay": "0"})
    assert immediate["record_type"] == "immediate"
    with pytest.raises(Refused) as refused:
        rules.record_from_national({**row, "proStatus": "4"})
    assert refused.value.field == "proStatus"


moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda d: d.replace(microsecond=0, tzinfo=BEIJING))
internal_evaluations = st.fixed_dictionaries({
    "project_no": st.from_regex(r"[A-Za-z0-9_\-]{1,64}", fullmatch=True),
    "stage": st.sampled_from(["accept", "complete"]),
    "channel": st.sampled_from(["pc", "mobile", "qr", "kiosk", "terminal", "phone", "sms"]),
    "level": st.integers(1, 5),
    "type": st.sampled_from(["active", "followup"]),
    "labels": st.lists(st.from_regex(r"[1-5][0-9]{2}", fullmatch=True), unique=True, max_size=4),
    "comment": st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp")), max_size=50),
    "evaluated_at": moments,
    "assess_number": st.integers(1, 999),
    "evaluator_type": st.sampled_from([None, 1, 2, 3, 4, 5, 6, 9]),
    "department_credit_code": st.just(""), "implementation_code": st.just(""), "handle_item_code": st.just(""),
    "data_source": st.just(""),
})


@given(internal_evaluations)
def test_national_round_trip(ev):
    ev = {**ev, "idempotency_key": rules.upstream_key(ev["project_no"], ev["assess_number"])}
    assert rules.evaluation_from_national(rules.evaluation_to_national(ev)) == ev


@given(internal_evaluations)
def test_gbt_round_trip_of_what_the_standard_carries(ev):
    out = rules.evaluation_from_gbt(rules.evaluation_to_gbt(ev))
    assert (out["project_no"], out["channel"], out["level"], out["evaluated_at"], out["assess_number"]) == (
        ev["project_no"], ev["channel"], ev["level"], ev["evaluated_at"], ev["assess_number"])


def test_outbound_times_are_beijing_wall_clock_whatever_the_offset_inside():
    assert rules.format_time(datetime(2025, 12, 31, 16, 30, tzinfo=UTC), rules.NATIONAL_TIME) == "2026-01-01 00:30:00"
    assert rules.format_time(datetime(2025, 12, 31, 16, 30, tzinfo=UTC), rules.GBT_TIME) == "20260101T003000"
    with pytest.raises(ValueError):
        rules.format_time(datetime(2026, 1, 1), rules.NATIONAL_TIME)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("assessTime", "2026/03/02 09:15", "时间格式应为 yyyy-MM-dd HH:mm:ss（北京时间）"),
    ("assessTime", "1999-12-31 23:59:59", "时间不在合理范围内（2000年至2099年）"),
    ("satisfaction", "0", "应在1到5之间"),
    ("satisfaction", "x", "应为整数"),
    ("pf", "9", "代码不在允许的取值内（1、2、3、4、5、6、7）"),
    ("projectNo", "  ", "缺少该字段"),
    ("writingEvaluation", "好" * 2001, "长度超过2000个字符"),
    ("userProp", "8", "评价人类型代码应为1-6或9"),
    ("serviceNumber", "3", "代码不在允许的取值内（1、2）"),
])
def test_refusals_say_what_is_wrong_in_chinese(field, value, message):
    with pytest.raises(Refused) as refused:
        rules.evaluation_from_national({**NATIONAL_ROW, field: value})
    assert (refused.value.field, refused.value.message) == (field, message)
    assert str(refused.value) == f"{field}: {message}"


def test_time_bounds_are_inclusive_of_2000_and_exclusive_of_2100():
    assert rules.parse_time("2000-01-01 00:00:00", rules.NATIONAL_TIME, "t").year == 2000
    assert rules.parse_time("20991231T235959", rules.GBT_TIME, "t").year == 2099
    with pytest.raises(Refused, match="YYYYMMDDThhmmss"):
        rules.parse_time("2026-01-01 00:00:00", rules.GBT_TIME, "t")


def test_optional_national_fields_may_be_left_out():
    row = {k: v for k, v in NATIONAL_ROW.items() if k not in (
        "evalDetail", "writingEvaluation", "userProp", "deptCode", "taskCode", "taskHandleItem", "dataSource")}
    ev = rules.evaluation_from_national(row)
    assert (ev["labels"], ev["comment"], ev["evaluator_type"], ev["department_credit_code"]) == ([], "", None, "")
    assert "userProp" not in rules.evaluation_to_national(ev)
    assert rules.evaluation_from_national({**NATIONAL_ROW, "pf": "04", "evalDetail": "108，110 108"})["labels"] == [
        "108", "110"]
    assert rules.evaluation_from_national({**NATIONAL_ROW, "satisfaction": 3, "assessNumber": 999})["level"] == 3


RECORD_ROW = {"projectNo": "P-9", "taskCode": "T-1", "areaCode": "370102000000", "deptCode": "11370100004307498J",
              "userProp": "1", "proStatus": "1"}


def test_a_waiting_record_needs_no_dates_or_promise():
    record = rules.record_from_national(RECORD_ROW)
    assert (record["status"], record["record_type"], record["promised_days"]) == (1, "immediate", 0)
    assert (record["accepted_at"], record["completed_at"]) == (None, None)
    assert {record[k] for k in ("agency_code", "window_code", "staff_no", "platform_code")} == {None}
    assert rules.record_to_national(record) == {**RECORD_ROW, "promiseDay": "0", "acceptDate": "", "finishDate": ""}
    assert rules.record_from_national({**RECORD_ROW, "promiseDay": "3650"})["promised_days"] == 3650


@pytest.mark.parametrize(("field", "value"), [
    ("promiseDay", "3651"), ("proStatus", "0"), ("proStatus", ""), ("userProp", "7"), ("areaCode", "3701"),
    ("areaCode", "37010200000a"), ("acceptDate", "2026-03-02"), ("finishDate", "20260302T090000"),
    ("taskCode", ""), ("deptCode", "1" * 19), ("platformCode", "P" * 41),
])
def test_bad_record_values_are_refused_naming_the_field(field, value):
    with pytest.raises(Refused) as refused:
        rules.record_from_national({**RECORD_ROW, field: value})
    assert refused.value.field == field


GBT_ROW = {"办件编号": "P-1", "评价渠道": "3", "评价人": "", "评价时间": "20251231T235959", "评价次数": "1",
           "满意度代码": "2", "文字评价": "", "行政区划": ""}


def test_a_gbt_row_without_evaluator_or_region():
    ev = rules.evaluation_from_gbt(GBT_ROW)
    assert (ev["level"], ev["type"], ev["stage"], ev["evaluator_name"], ev["region_code"]) == (
        4, "active", "complete", "", "")
    assert ev["labels"] == [] and ev["idempotency_key"] == "P-1:1"
    assert rules.evaluation_from_gbt({**GBT_ROW, "评价渠道": "7"}, NATIONAL_PF7_DEFAULT)["channel"] == "system_default"


@pytest.mark.parametrize(("field", "value"), [
    ("评价渠道", "0"), ("满意度代码", "6"), ("满意度代码", "0"), ("评价次数", "0"), ("评价次数", "1000"),
    ("评价时间", "2025-12-31 23:59:59"), ("行政区划", "37"), ("办件编号", ""), ("评价人", "名" * 41),
])
def test_bad_gbt_values_are_refused_naming_the_data_element(field, value):
    with pytest.raises(Refused) as refused:
        rules.evaluation_from_gbt({**GBT_ROW, field: value})
    assert refused.value.field == field


def test_a_profile_with_other_service_numbers():
    profile = rules.Profile(name="p", stage_by_service_number={"0": "accept", "1": "complete"})
    assert profile.service_number("accept") == "0" and profile.service_number("complete") == "1"
    with pytest.raises(Refused) as refused:
        rules.Profile(stage_by_service_number={"2": "complete"}).service_number("accept")
    assert refused.value.field == "serviceNumber"


@pytest.mark.parametrize(("kind", "shape", "internal", "foreign"), [
    ("records", "national", "agency_code", "agencyCode"), ("records", "national", "applicant.type", "userProp"),
    ("evaluations", "national", "labels.1", "evalDetail"), ("evaluations", "national", "stage", "serviceNumber"),
    ("evaluations", "gbt39046", "level", "满意度代码"), ("evaluations", "internal", "level", "level"),
    ("evaluations", "national", "body", "body"), ("records", "national", None, None),
])
def test_a_refused_field_is_named_in_the_senders_words(kind, shape, internal, foreign):
    assert rules.foreign_field(kind, shape, internal) == foreign
