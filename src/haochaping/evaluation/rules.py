"""Pure evaluation rules (R3.3, R3.4, R3.8, R8.4). No I/O: callers pass what the rules need."""

from __future__ import annotations

import re
from datetime import date

# One internal scale: 5 best. Label sets and external codes are mappings at the border (DESIGN.md).
LEVELS = (1, 2, 3, 4, 5)
SATISFACTION_LABELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
GOOD_LABELS = {5: "很好", 4: "好", 3: "一般", 2: "差", 1: "很差"}
MAX_COMMENT = 1000
MAX_SUGGESTION = 500
# fullmatch and [0-9]: "$" would accept a trailing newline and "\d" any Unicode digit (e.g. full-width "１").
PHONE_RE = re.compile(r"1[0-9]{10}")

QUESTIONNAIRE = {
    "guide_clear": "服务指引是否清晰",
    "process_convenient": "办事程序是否便利",
    "materials_simplified": "材料手续是否精简",
    "interface_friendly": "操作界面是否友好",
    "suggestions": "有何改进意见",
}


# Which credential may claim which channel (docs/api.md): the kiosk channel means "rated on the window's 评价器",
# which only the activated device itself can vouch for; a platform's API key submits what the platform collected
# itself (its web and app pages, its terminals, its hotline and SMS, paper forms it entered), never kiosk.
DEVICE_CHANNEL = "kiosk"


def channel_claim_problem(channel: str, *, by_device: bool) -> str | None:
    """Why this credential may not submit on ``channel``, or None. ``by_device``: the submitter is a 评价器."""
    if by_device and channel != DEVICE_CHANNEL:
        return "评价器提交的评价，评价渠道必须为 kiosk（评价器）"
    if not by_device and channel == DEVICE_CHANNEL:
        return "kiosk（评价器）渠道只能由已激活的窗口评价器提交，接口密钥不能使用"
    return None


def is_bad(level: int) -> bool:
    """差评: the bottom two levels."""
    return level <= 2


def is_good(level: int) -> bool:
    return level >= 4


def level_text(level: int, label_set: str = "satisfaction") -> str:
    return (GOOD_LABELS if label_set == "good" else SATISFACTION_LABELS)[level]


# GB/T 39046 codes 1 = 非常满意 … 5 = 非常不满意; live provincial interfaces use 1 = 非常不满意 … 5 = 非常满意.
def level_from_gbt39046(code: int) -> int:
    return 6 - code


def level_to_gbt39046(level: int) -> int:
    return 6 - level


def label_level(code: str) -> int:
    """National dictionary: the first digit of a label code is its star level."""
    return int(code[0])


def reason_problem(level: int, label_codes: list[str], comment: str):
    """(field, message) when the level/labels/comment combination is not allowed, else None."""
    if level not in LEVELS:
        return "level", "评价等级应为1至5（5为非常满意）"
    if len(comment) > MAX_COMMENT:
        return "comment", f"文字评价不能超过{MAX_COMMENT}字"
    if len(set(label_codes)) != len(label_codes):
        return "labels", "评价标签重复"
    for code in label_codes:
        if not (len(code) == 3 and code.isdigit()) or label_level(code) != level:
            return "labels", f"标签{code}不属于{level}星评价"
    if is_bad(level) and not label_codes and not comment.strip():
        return "labels", "差评请至少选择一项原因，或写下具体情况"
    return None


def questionnaire_problem(answers: dict):
    for key, value in answers.items():
        if key not in QUESTIONNAIRE:
            return f"questionnaire.{key}", "未知的问卷题目"
        if key == "suggestions":
            if not isinstance(value, str) or len(value) > MAX_SUGGESTION:
                return "questionnaire.suggestions", f"改进意见应为不超过{MAX_SUGGESTION}字的文字"
        elif not isinstance(value, bool):
            return f"questionnaire.{key}", "应回答是或否"
    return None


def phone_problem(phone: str):
    if phone and not PHONE_RE.fullmatch(phone):
        return "evaluator.phone", "手机号应为11位数字"
    return None


def period_end(stage_day: date, supplementary_days: int, add_working_days) -> date:
    """Last day on which a stage can still be rated (补充评价, R3.3)."""
    return add_working_days(stage_day, supplementary_days)


def timing_problem(*, stage_day: date | None, today: date, last_day: date | None, type_: str, has_active: bool):
    if stage_day is None:
        return "stage", "办件尚未进行到该环节，不能评价"
    if last_day is not None and today > last_day:
        return "stage", f"该环节的评价期限已于{last_day.year}年{last_day.month}月{last_day.day}日结束"
    if type_ == "followup" and not has_active:
        return "type", "追加评价须在主动评价之后"
    return None


def is_supplementary(stage_day: date, today: date) -> bool:
    """Rated after the day of service, i.e. not on site (补充评价)."""
    return today > stage_day
