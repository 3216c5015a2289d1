"""The routing rule (谁办理、谁负责, R4.1) and what a transfer may do: pure, rules.routing (docs/routing.md)."""

from __future__ import annotations

import pytest

from haochaping.rectification import rules
from haochaping.rectification.rules import Concern

WINDOW = rules.RecordUnits("370102", department_id=1, agency_id=7, window_id=3, window_department_id=2)
WINDOW_OWN = rules.RecordUnits("370102", department_id=1, agency_id=7, window_id=3, window_department_id=1)
WINDOW_NOBODY = rules.RecordUnits("370102", department_id=1, agency_id=7, window_id=3, window_department_id=None)
ONLINE = rules.RecordUnits("370102", department_id=1, platform_id=9, platform_operator_id=5)
ONLINE_NO_OPERATOR = rules.RecordUnits("370102", department_id=1, platform_id=9, platform_operator_id=None)
HALL_NO_WINDOW = rules.RecordUnits("370102", department_id=1, agency_id=7)
NOWHERE = rules.RecordUnits("370102", department_id=1)

DEPARTMENT_AT_WINDOW = rules.Responsible("370102", 1, 7, None)
WINDOW_DEPARTMENT = rules.Responsible("370102", 2, 7, None)
DEPARTMENT_ONLINE = rules.Responsible("370102", 1, None, 9)
OPERATOR = rules.Responsible("370102", 5, None, 9)


# --- what a reason is about -------------------------------------------------------------------------------


@pytest.mark.parametrize(("labels", "comment", "expected"), [
    ((), "", set()),
    ((), "态度还行吧", {Concern.ON_SITE}),
    (("需提供办事指南之外的申报材料",), "", {Concern.SERVICE}),
    (("在办事指南之外增加新的审批条件",), "", {Concern.SERVICE}),
    (("无理由超过法定办理时间",), "", {Concern.SERVICE}),
    (("未在承诺时间内办结",), "", {Concern.SERVICE}),
    ((), "网上申报系统经常卡顿，上传材料总是失败。", {Concern.SERVICE, Concern.PLATFORM}),
    ((), "App里的办理进度一直不更新，只能打电话问。", {Concern.PLATFORM}),
    ((), "APP闪退", {Concern.PLATFORM}),
    ((), "短信验证码收不到，重复提交了好几次。", {Concern.PLATFORM}),
    ((), "网上填报页面太复杂，找不到入口。", {Concern.PLATFORM}),
    ((), "登录不上", {Concern.PLATFORM}),
    ((), "工作人员态度生硬，问两句就不耐烦。", {Concern.ON_SITE}),
    ((), "排队等了一个多小时，叫号系统还出了故障。", {Concern.ON_SITE, Concern.PLATFORM}),
    ((), "要求补交的材料办事指南上没写，前后跑了三趟。", {Concern.SERVICE}),
    ((), "咨询电话一直打不通，只能跑到现场。", set()),
    (("需提供办事指南之外的申报材料",), "页面还报错", {Concern.SERVICE, Concern.PLATFORM}),
])
def test_concerns_come_from_label_texts_and_the_comment(labels, comment, expected):
    assert rules.concerns(labels, comment) == expected


def test_blank_texts_name_no_concern():
    assert rules.concerns(["", ""], "") == frozenset()
    assert rules.concerns((), None) == frozenset()


# --- who is responsible --------------------------------------------------------------------------------------


@pytest.mark.parametrize("units", [WINDOW, WINDOW_OWN, WINDOW_NOBODY, ONLINE, ONLINE_NO_OPERATOR, HALL_NO_WINDOW, NOWHERE])
def test_a_reason_about_the_service_goes_to_the_records_department_wherever_it_was_handled(units):
    responsible = rules.route(units, label_texts=["需提供办事指南之外的申报材料"], comment="")
    assert responsible.department_id == 1
    assert responsible.region_id == "370102"


@pytest.mark.parametrize("units", [WINDOW, ONLINE, NOWHERE])
def test_no_reason_at_all_goes_to_the_records_department(units):
    assert rules.route(units).department_id == 1


def test_online_a_reason_only_about_the_platform_goes_to_its_operator():
    assert rules.route(ONLINE, comment="网上申报页面打不开，登录总是报错") == OPERATOR
    assert rules.route(ONLINE, label_texts=["系统故障"]) == OPERATOR


def test_online_the_platform_and_the_service_together_go_to_the_department():
    # "上传材料总是失败" names the platform, "材料" the service: the department handled the service and can find out.
    assert rules.route(ONLINE, comment="网上申报系统经常卡顿，上传材料总是失败。") == DEPARTMENT_ONLINE
    assert rules.route(ONLINE, label_texts=["未在承诺时间内办结"], comment="系统也卡") == DEPARTMENT_ONLINE


def test_online_without_an_operator_stays_with_the_department():
    assert rules.route(ONLINE_NO_OPERATOR, comment="登录不上") == DEPARTMENT_ONLINE


def test_online_a_reason_about_attitude_goes_to_the_department():
    # An online service has no window: whoever answered for it is the department's.
    assert rules.route(ONLINE, comment="工作人员态度生硬") == DEPARTMENT_ONLINE


def test_at_a_window_of_another_department_a_reason_about_the_window_goes_to_that_department():
    assert rules.route(WINDOW, comment="工作人员态度生硬，问两句就不耐烦。") == WINDOW_DEPARTMENT
    # The hall's own equipment is the window's business too.
    assert rules.route(WINDOW, comment="排队等了一个多小时，叫号系统还出了故障。") == WINDOW_DEPARTMENT


def test_at_a_window_of_another_department_a_reason_about_the_service_goes_to_the_records_department():
    assert rules.route(WINDOW, label_texts=["在办事指南之外增加新的审批条件"]) == DEPARTMENT_AT_WINDOW
    assert rules.route(WINDOW, comment="工作人员说还要主管部门出具意见，指南上根本没有这一条。") == DEPARTMENT_AT_WINDOW


def test_a_window_without_a_stationed_department_stays_with_the_records_department():
    assert rules.route(WINDOW_NOBODY, comment="态度差") == DEPARTMENT_AT_WINDOW


def test_at_a_hall_without_a_window_the_hall_is_kept():
    assert rules.route(HALL_NO_WINDOW, comment="态度差") == rules.Responsible("370102", 1, 7, None)
    assert rules.route(NOWHERE, comment="登录不上") == rules.Responsible("370102", 1, None, None)


def test_window_wins_over_platform():
    # Accepted at a window although the business system is a platform: the window handled it, so a platform
    # fault there is the hall's equipment and the platform is not kept.
    both = rules.RecordUnits("370102", department_id=1, agency_id=7, window_id=3, window_department_id=2,
                             platform_id=9, platform_operator_id=5)
    assert rules.route(both, comment="系统故障") == WINDOW_DEPARTMENT
    assert rules.route(both, comment="材料清单不清楚") == DEPARTMENT_AT_WINDOW


# --- transfers ---------------------------------------------------------------------------------------------


def test_transfer_targets_are_the_units_the_record_names_each_once():
    assert rules.transfer_targets(WINDOW) == [1, 2]
    assert rules.transfer_targets(WINDOW_OWN) == [1]
    assert rules.transfer_targets(ONLINE) == [1, 5]
    assert rules.transfer_targets(ONLINE_NO_OPERATOR) == [1]
    assert rules.transfer_targets(NOWHERE) == [1]
    assert rules.transfer_targets(None) == []


def _problems(**kw):
    args = dict(state="open", current_department_id=5, target_department_id=1, targets=[1, 5], reason="经核实系审批材料问题")
    args.update(kw)
    return rules.transfer_problems(**args)


def test_a_transfer_to_another_named_unit_with_a_reason_is_allowed_before_an_outcome():
    assert _problems() == []
    assert _problems(state="called_back") == []


@pytest.mark.parametrize("state", ["rectifying", "rectified", "explained", "not_adopted", "answered", "reopened", "closed"])
def test_no_transfer_once_an_outcome_was_decided(state):
    assert [f for f, _m in _problems(state=state)] == ["state"]


def test_no_transfer_while_a_not_adopted_proposal_waits():
    assert [f for f, _m in _problems(state="called_back", proposal_pending=True)] == ["state"]


@pytest.mark.parametrize("target", [None, 99])
def test_only_to_a_unit_the_record_names(target):
    assert [f for f, _m in _problems(target_department_id=target)] == ["department"]


def test_not_to_the_unit_that_holds_it():
    problems = _problems(target_department_id=5)
    assert problems == [("department", "案件已在该单位办理，无需转办")]


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_transfer_needs_a_reason(reason):
    assert [f for f, _m in _problems(reason=reason)] == ["reason"]


def test_a_reason_has_a_length_limit():
    assert _problems(reason="x" * 10, max_text=10) == []
    assert [f for f, _m in _problems(reason="x" * 11, max_text=10)] == ["reason"]


def test_responsible_for_keeps_where_the_service_happened():
    assert rules.responsible_for(WINDOW, 1) == DEPARTMENT_AT_WINDOW
    assert rules.responsible_for(ONLINE, 1) == DEPARTMENT_ONLINE
    assert rules.responsible_for(ONLINE, 5) == OPERATOR
