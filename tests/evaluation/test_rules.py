"""evaluation.rules directly (issue 18, item 7): the 差评/好评 split, the two label sets, the GB/T 39046 mapping, and
each refusal with its field — not only through the API schema."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from haochaping.evaluation import rules


@pytest.mark.parametrize("level,bad,good", [(1, True, False), (2, True, False), (3, False, False),
                                            (4, False, True), (5, False, True)])
def test_bad_and_good_are_the_bottom_and_top_two_levels(level, bad, good):
    assert rules.is_bad(level) is bad
    assert rules.is_good(level) is good


def test_level_texts_in_both_label_sets():
    assert [rules.level_text(lv) for lv in rules.LEVELS] == ["非常不满意", "不满意", "基本满意", "满意", "非常满意"]
    assert [rules.level_text(lv, "good") for lv in rules.LEVELS] == ["很差", "差", "一般", "好", "很好"]
    assert rules.level_text(5, "anything else") == "非常满意"
    with pytest.raises(KeyError):
        rules.level_text(0)


@pytest.mark.parametrize("code,level", [(1, 5), (2, 4), (3, 3), (4, 2), (5, 1)])
def test_gbt39046_codes_run_the_other_way(code, level):
    assert rules.level_from_gbt39046(code) == level
    assert rules.level_to_gbt39046(level) == code


def test_label_level_is_the_first_digit():
    assert rules.label_level("101") == 1
    assert rules.label_level("503") == 5


def test_a_valid_combination_has_no_problem():
    assert rules.reason_problem(5, [], "") is None
    assert rules.reason_problem(3, ["301"], "") is None
    assert rules.reason_problem(1, ["101", "102"], "") is None
    assert rules.reason_problem(2, [], "窗口人员态度差") is None
    assert rules.reason_problem(1, [], "x" * rules.MAX_COMMENT) is None


@pytest.mark.parametrize("level", [0, 6, -1])
def test_level_outside_one_to_five(level):
    assert rules.reason_problem(level, [], "") == ("level", "评价等级应为1至5（5为非常满意）")


def test_comment_over_the_limit():
    assert rules.reason_problem(5, [], "x" * (rules.MAX_COMMENT + 1)) == ("comment", "文字评价不能超过1000字")


def test_repeated_labels():
    assert rules.reason_problem(1, ["101", "101"], "") == ("labels", "评价标签重复")


@pytest.mark.parametrize("code", ["201", "10", "1011", "1a1", "abc"])
def test_label_of_another_level_or_malformed(code):
    assert rules.reason_problem(1, [code], "") == ("labels", f"标签{code}不属于1星评价")


@pytest.mark.parametrize("level", [1, 2])
def test_bad_review_needs_a_label_or_a_comment(level):
    expected = ("labels", "差评请至少选择一项原因，或写下具体情况")
    assert rules.reason_problem(level, [], "") == expected
    assert rules.reason_problem(level, [], "   \n") == expected  # whitespace is not a reason
    assert rules.reason_problem(3, [], "") is None


def test_questionnaire():
    assert rules.questionnaire_problem({}) is None
    assert rules.questionnaire_problem({"guide_clear": True, "process_convenient": False,
                                        "suggestions": "x" * rules.MAX_SUGGESTION}) is None
    assert rules.questionnaire_problem({"unknown": True}) == ("questionnaire.unknown", "未知的问卷题目")
    assert rules.questionnaire_problem({"guide_clear": "yes"}) == ("questionnaire.guide_clear", "应回答是或否")
    assert rules.questionnaire_problem({"guide_clear": 1}) == ("questionnaire.guide_clear", "应回答是或否")
    too_long = ("questionnaire.suggestions", "改进意见应为不超过500字的文字")
    assert rules.questionnaire_problem({"suggestions": "x" * (rules.MAX_SUGGESTION + 1)}) == too_long
    assert rules.questionnaire_problem({"suggestions": True}) == too_long
    # The first bad answer is reported, in the order given.
    assert rules.questionnaire_problem({"guide_clear": True, "x": 1})[0] == "questionnaire.x"


@pytest.mark.parametrize("phone,ok", [("", True), ("13800138000", True), ("1380013800", False),
                                      ("138001380000", False), ("23800138000", False), ("1380013800a", False),
                                      ("13800138000\n", False), ("１３８００１３８０００", False)])
def test_phone(phone, ok):
    assert (rules.phone_problem(phone) is None) is ok
    if not ok:
        assert rules.phone_problem(phone) == ("evaluator.phone", "手机号应为11位数字")


def test_period_end_uses_the_calendar_it_is_given():
    calls = []

    def add_working_days(day, n):
        calls.append((day, n))
        return day + timedelta(days=n + 2)

    assert rules.period_end(date(2026, 12, 4), 5, add_working_days) == date(2026, 12, 11)
    assert calls == [(date(2026, 12, 4), 5)]


def test_timing():
    day = date(2026, 12, 1)
    last = date(2026, 12, 8)

    def problem(**kw):
        args = {"stage_day": day, "today": day, "last_day": last, "type_": "active", "has_active": False} | kw
        return rules.timing_problem(**args)

    assert problem() is None
    assert problem(today=last) is None  # the last day itself is still open
    assert problem(today=last + timedelta(days=1)) == ("stage", "该环节的评价期限已于2026年12月8日结束")
    assert problem(last_day=None, today=date(2030, 1, 1)) is None
    assert problem(stage_day=None) == ("stage", "办件尚未进行到该环节，不能评价")
    assert problem(type_="followup") == ("type", "追加评价须在主动评价之后")
    assert problem(type_="followup", has_active=True) is None


def test_supplementary_is_after_the_day_of_service():
    day = date(2026, 12, 1)
    assert not rules.is_supplementary(day, day)
    assert rules.is_supplementary(day, day + timedelta(days=1))
    assert not rules.is_supplementary(day, day - timedelta(days=1))
