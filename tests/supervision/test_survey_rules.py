"""The rules of a survey, without a database: a question's own checks, every way an answer can be wrong (each
naming its question's field), and the 0–100 score of a scale."""

from __future__ import annotations

import pytest

from haochaping.supervision.surveys import rules
from haochaping.supervision.surveys.rules import Kind, Question

QS = [
    Question(1, Kind.SINGLE, "您是否了解新政策？", True, ("了解", "听说过", "不了解")),
    Question(2, Kind.MULTIPLE, "您通过哪些渠道了解？", False, ("网站", "窗口", "短信")),
    Question(3, Kind.SCALE, "您对服务的满意程度", True, (), 5),
    Question(4, Kind.TEXT, "您的建议", False),
]


def parse(**data):
    return rules.parse_answers(QS, {k: v if isinstance(v, list) else [v] for k, v in data.items()})


def test_a_complete_answer_is_parsed():
    answers, errors = parse(q1="0", q2=["2", "0"], q3="4", q4=" 多设几个窗口 ")
    assert errors == {}
    assert [(a.question_id, a.choices, a.scale, a.text) for a in answers] == [
        (1, [0], None, ""), (2, [0, 2], None, ""), (3, [], 4, ""), (4, [], None, "多设几个窗口")]


def test_optional_questions_may_be_left_out():
    answers, errors = parse(q1="1", q3="5")
    assert errors == {} and [a.question_id for a in answers] == [1, 3]


def test_every_missing_required_question_is_named():
    _answers, errors = parse(q2="1")
    assert errors == {"q1": "第1题为必答题，请作答", "q3": "第3题为必答题，请作答"}


@pytest.mark.parametrize(("value", "message"), [
    ("6", "第3题的分数应为1至5之间的整数"), ("0", "第3题的分数应为1至5之间的整数"),
    ("4.5", "第3题的分数应为1至5之间的整数"), ("很好", "第3题的分数应为1至5之间的整数"),
    (["3", "4"], "第3题只能打一个分"),
])
def test_an_out_of_range_scale_is_refused(value, message):
    _answers, errors = parse(q1="0", q3=value)
    assert errors == {"q3": message}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("q1", "3", "第1题的选项无效，请重新选择"), ("q1", "-1", "第1题的选项无效，请重新选择"),
    ("q1", ["0", "1"], "第1题只能选择一项"), ("q2", ["0", "x"], "第2题的选项无效，请重新选择"),
])
def test_an_invalid_choice_is_refused(field, value, message):
    data = {"q1": "0", "q3": "3", field: value}
    _answers, errors = parse(**data)
    assert errors == {field: message}


def test_a_too_long_text_is_refused():
    _answers, errors = parse(q1="0", q3="3", q4="字" * 2001)
    assert errors == {"q4": "第4题不能超过2000字"}


def test_blank_values_count_as_unanswered():
    _answers, errors = parse(q1=" ", q3="")
    assert set(errors) == {"q1", "q3"}


@pytest.mark.parametrize(("kind", "text", "options", "scale_max", "fields"), [
    (Kind.SINGLE, "题目", ["甲", "乙"], None, set()),
    (Kind.SINGLE, "题目", ["甲", " "], None, {"options"}),
    (Kind.MULTIPLE, "题目", ["甲", "甲"], None, {"options"}),
    (Kind.MULTIPLE, "题目", [str(i) for i in range(21)], None, {"options"}),
    (Kind.SCALE, "题目", [], 5, set()),
    (Kind.SCALE, "题目", [], 2, {"scale_max"}),
    (Kind.SCALE, "题目", [], 11, {"scale_max"}),
    (Kind.TEXT, " ", [], None, {"text"}),
    ("essay", "题目", [], None, {"kind"}),
])
def test_a_question_is_checked_before_it_is_added(kind, text, options, scale_max, fields):
    assert set(rules.question_errors(kind, text, options, scale_max)) == fields


@pytest.mark.parametrize(("value", "scale_max", "score"), [(1, 5, 0), (5, 5, 100), (3, 5, 50), (4, 5, 75), (7, 10, 66.666)])
def test_a_scale_answer_scores_0_to_100(value, scale_max, score):
    assert rules.scale_score(value, scale_max) == pytest.approx(score, abs=1e-3)
