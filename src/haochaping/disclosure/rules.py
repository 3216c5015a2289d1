"""Pure rules of the public portal (R5.5): which period a visitor asked for, what of a rectification case may be
published (anonymisation), and the columns of every open-data file (the data dictionary). No I/O.

Anonymisation is by construction: a public case row is built only from the structured facts listed in
:data:`CASE_SOURCE_FIELDS` (unit, item, labels, outcome, dates). No free text is ever read — not the evaluator's
comment, not the clerk's answer, explanation, callback notes or 台账 text, which could name people — and nothing
about the evaluator (name, phone, receipt code), staff or the people handling the case.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from haochaping.core.problems import invalid

DEFAULT_PERIOD = ""  # 近12个月
MIN_YEAR = 2019  # the regime (国办发〔2019〕51号) started in 2019
PAGE_SIZE = 20


# --- period -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    value: str  # "" (the last 12 months), "YYYY" or "YYYY-MM"
    start: date
    end: date
    label: str


def last_twelve_months(today: date) -> Period:
    month = today.month - 11
    year = today.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return Period(DEFAULT_PERIOD, date(year, month, 1), today, "近12个月")


def parse_period(value: str | None, today: date) -> Period:
    """The period a visitor chose: "" = the last twelve months (from the 1st of the month 11 months ago to
    today), "2024" = that year, "2024-03" = that month. Anything else, or a period that has not begun, is refused
    with a message naming the field ``period``."""
    value = (value or "").strip()
    if not value:
        return last_twelve_months(today)
    year_text, _sep, month_text = value.partition("-")
    if not (len(year_text) == 4 and year_text.isdigit()) or (_sep and not (len(month_text) == 2 and month_text.isdigit())):
        raise invalid("统计期间格式不正确，应为年份（如2024）或年月（如2024-03）", "period")
    year = int(year_text)
    if year < MIN_YEAR:
        raise invalid(f"统计期间不能早于{MIN_YEAR}年", "period")
    if not _sep:
        start, end, label = date(year, 1, 1), date(year, 12, 31), f"{year}年"
    else:
        month = int(month_text)
        if not 1 <= month <= 12:
            raise invalid("统计期间的月份应为01至12", "period")
        start = date(year, month, 1)
        end = date(year, month, calendar.monthrange(year, month)[1])
        label = f"{year}年{month}月"
    if start > today:
        raise invalid("所选统计期间尚未开始", "period")
    return Period(value, start, min(end, today), label)


def period_choices(today: date, months: int = 24) -> list[tuple[str, str]]:
    """The periods offered in the form: the last 12 months, each year since the regime began, recent months."""
    choices = [(DEFAULT_PERIOD, "近12个月")]
    choices += [(str(y), f"{y}年") for y in range(today.year, MIN_YEAR - 1, -1)]
    year, month = today.year, today.month
    for _i in range(months):
        choices.append((f"{year}-{month:02d}", f"{year}年{month}月"))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return choices


def page_number(value: str | None) -> int:
    """The page of a list (1 when absent); a value that is not a positive whole number is refused."""
    value = (value or "").strip()
    if not value:
        return 1
    # isascii(): str.isdigit() also accepts other scripts' digits ("١") and superscripts ("²", which int() refuses).
    if not (value.isascii() and value.isdigit()) or int(value) < 1 or len(value) > 6:
        raise invalid("页码应为正整数", "page")
    return int(value)


# --- formatting ---------------------------------------------------------------------------------------------------


def percent(share: float | None) -> str:
    """A share in [0, 1] as a percentage with one decimal; "—" without a denominator (never 0 % or 100 %)."""
    return "—" if share is None else f"{share * 100:.1f}%"


def score(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


# --- anonymised cases ---------------------------------------------------------------------------------------------

# The only columns of a case (and its relations) the portal ever reads. Adding a free-text column here would
# publish it: tests/disclosure/test_privacy.py plants markers in every free-text field and scans every page.
CASE_SOURCE_FIELDS = (
    "pk", "kind", "state", "opened_at", "region_id", "region__name", "department__credit_code", "department__name",
    "agency__name", "evaluation_id", "evaluation__level", "evaluation__item__implementation_code",
    "evaluation__item__name", "record__item__implementation_code", "record__item__name", "outcome", "callback_at",
    "handled_at", "closed_at", "fix_now_due", "rectify_due", "ledger__deadline", "ledger__extension_approved",
    "appeal__state",
)

KIND_TEXT = {"bad_review": "差评", "complaint": "投诉", "focus_issue": "集中问题"}
OUTCOME_TEXT = {"fixed_now": "立行立改", "deadline": "限期整改", "explained": "解释说明", "mistaken": "误评",
                "malicious": "恶意差评"}
STATE_TEXT = {
    "open": "待回访核实", "called_back": "已回访核实", "rectifying": "限期整改中", "rectified": "已整改",
    "explained": "已解释说明", "not_adopted": "不予采纳", "answered": "已反馈评价人", "reopened": "待监督复核",
    "closed": "已办结",
}
UPHELD = "upheld"
DEADLINE = "deadline"


def handling_due(row: dict) -> date:
    """The handling deadline, as rectification.figures counts 按时办结率: 立行立改, 解释说明, 误评/恶意差评 and
    undecided cases by ``fix_now_due``; 限期整改 by the 台账's date, which counts after ``rectify_due`` only once a
    supervisor approved the extension."""
    if row["outcome"] != DEADLINE:
        return row["fix_now_due"]
    deadline = row.get("ledger__deadline")
    if deadline is not None and (row.get("ledger__extension_approved") or deadline <= row["rectify_due"]):
        return deadline
    return row["rectify_due"]


def public_case(row: dict, *, labels: list[tuple[str, str]], level_text: str, opened_on: date,
                handled_on: date | None, closed_on: date | None) -> dict:
    """One case as published: structured facts only (see the module's docstring). ``row`` holds the
    :data:`CASE_SOURCE_FIELDS`; the dates are already calendar days in 北京时间."""
    upheld = row.get("appeal__state") == UPHELD
    outcome = "appeal_upheld" if upheld else (row["outcome"] or "")
    outcome_text = "申诉成立（不计入统计）" if upheld else OUTCOME_TEXT.get(row["outcome"] or "", "尚未确定")
    due = handling_due(row)
    handled = handled_on is not None and not upheld
    item_code = row.get("evaluation__item__implementation_code") or row.get("record__item__implementation_code") or ""
    item_name = row.get("evaluation__item__name") or row.get("record__item__name") or ""
    kind = row["kind"]
    return {
        "case_no": f"{row['pk']:06d}",
        "kind": kind,
        "kind_text": KIND_TEXT.get(kind, kind),
        "region_code": row["region_id"],
        "region_name": row["region__name"],
        "department_code": row["department__credit_code"],
        "department_name": row["department__name"],
        "agency_name": row.get("agency__name") or "",
        "item_code": item_code,
        "item_name": item_name,
        "level": row.get("evaluation__level"),
        "level_text": level_text,
        "labels": "；".join(f"{code} {text}" for code, text in labels),
        "opened_on": opened_on,
        "called_back": row.get("callback_at") is not None,
        "outcome": outcome,
        "outcome_text": outcome_text,
        "handling_due": None if upheld else due,
        "handled_on": handled_on if handled else None,
        "on_time": (handled_on <= due) if handled else None,
        "state": row["state"],
        "state_text": STATE_TEXT.get(row["state"], row["state"]),
        "closed_on": closed_on,
    }


# --- the data dictionary of the open data (docs/opendata.md says the same in prose) ---------------------------------

SCOPE_COLUMNS = [
    ("region_code", "行政区划代码", "文件所属的行政区划（GB/T 2260）；数据包括该区划及其全部下级；全国为空"),
    ("period_from", "统计起始日", "统计期间第一天（北京时间，含当日）"),
    ("period_to", "统计截止日", "统计期间最后一天（北京时间，含当日）"),
]

FIGURE_COLUMNS = SCOPE_COLUMNS + [
    ("group_by", "分组维度", "total（合计）、region（下一级行政区划）、department（部门）或 month（月份）"),
    ("key", "分组代码", "下级行政区划代码、部门统一社会信用代码或月份（YYYY-MM）；合计行为空"),
    ("name", "分组名称", "行政区划、部门名称或月份；合计行为“合计”"),
    ("evaluations", "评价数", "有效评价条数（不含不计入统计的评价和系统默认评价）"),
    ("good", "好评数", "有效评价中非常满意、满意（很好、好）的条数"),
    ("bad", "差评数", "有效评价中不满意、非常不满意（差、很差）的条数"),
    ("good_rate", "好评率", "好评数 ÷ 评价数，0–1 的小数；无评价时为空"),
    ("bad_rate", "差评率", "差评数 ÷ 评价数，0–1 的小数；无评价时为空"),
    ("satisfaction", "满意度", "有效评价等级平均值换算的 0–100 分：Σ(等级−1)×25 ÷ 评价数；无评价时为空"),
    ("excluded", "不计入统计的评价数", "申诉成立或认定误评、恶意差评而不计入统计的评价条数（保留，不删除）"),
    ("system_default", "系统默认评价数", "导入的系统默认评价条数，不计为满意，也不计入参评"),
    ("total", "评价总数", "评价数 + 不计入统计的评价数 + 系统默认评价数"),
    ("completed", "办结办件数", "期间内办结的办件数（按办结时间）"),
    ("rated", "已评价办件数", "办结办件中有评价（系统默认评价除外）的办件数"),
    ("participation_rate", "参评率", "已评价办件数 ÷ 办结办件数，0–1 的小数；无办结办件时为空"),
]

RANKING_COLUMNS = SCOPE_COLUMNS + [
    ("by", "排名对象", "department（部门）或 region（下一级行政区划）"),
    ("min_sample", "最低样本量", "参加排名所需的最少有效评价数；不足的单位单列、不排名"),
    ("rank", "名次", "按好评率威尔逊区间下限（95%）由高到低；得分相同名次相同；样本不足时为空"),
    ("ranked", "是否参加排名", "true：参加排名；false：样本不足，单列"),
    ("key", "单位代码", "部门统一社会信用代码或行政区划代码"),
    ("name", "单位名称", "部门或行政区划名称"),
    ("evaluations", "评价数", "有效评价条数"),
    ("good", "好评数", "有效评价中的好评条数"),
    ("good_rate", "好评率", "好评数 ÷ 评价数，0–1 的小数"),
    ("score", "排名得分", "好评率的威尔逊区间下限（95%），0–1 的小数；样本不足时为空"),
]

RECTIFICATION_COLUMNS = SCOPE_COLUMNS + [
    ("group_by", "分组维度", "total（合计）或 department（责任部门）"),
    ("key", "部门代码", "责任部门统一社会信用代码；合计行为空"),
    ("name", "名称", "责任部门名称；合计行为“合计”"),
    ("cases", "案件数", "期间内立案的差评、投诉和集中问题案件数"),
    ("called_back", "已回访核实数", "已登记回访核实的案件数"),
    ("callback_rate", "回访率", "已回访核实数 ÷ 案件数"),
    ("counted", "计入整改的案件数", "申诉成立以外的案件数（整改率的分母）"),
    ("handled", "已处理数", "已立行立改、解释说明、完成限期整改或经确认不予采纳的案件数（申诉成立的除外）"),
    ("rectify_rate", "整改率", "已处理数 ÷ 计入整改的案件数"),
    ("on_time", "按时处理数", "已处理且处理日期不晚于处理期限的案件数"),
    ("on_time_rate", "按时办结率", "按时处理数 ÷ 已处理数"),
    ("finished", "办结数", "状态为已办结的案件数"),
    ("real_name", "实名案件数", "实名差评案件数（申诉成立的除外）"),
    ("real_name_done", "实名已回访并处理数", "实名案件中既已回访核实又已处理的案件数"),
    ("real_name_rate", "实名差评回访整改率", "实名已回访并处理数 ÷ 实名案件数，目标100%"),
    ("bad_reviews", "差评案件数", "差评案件数（申诉率的分母；投诉不能申诉）"),
    ("appeals", "申诉数", "提出过申诉的差评案件数"),
    ("appeal_rate", "申诉率", "申诉数 ÷ 差评案件数"),
    ("decided_appeals", "已决定的申诉数", "申诉成立或不成立的申诉数"),
    ("upheld", "申诉成立数", "申诉成立的案件数"),
    ("upheld_rate", "申诉成立率", "申诉成立数 ÷ 已决定的申诉数"),
    ("overdue_now", "当前逾期数", "今天仍在办理单位手中且有一项期限已过未完成的案件数"),
]

CASE_COLUMNS = [
    ("case_no", "案件编号", "整改案件编号（6位数字）"),
    ("kind", "类型代码", "bad_review（差评）、complaint（投诉）、focus_issue（集中问题）"),
    ("kind_text", "类型", "差评、投诉或集中问题"),
    ("region_code", "行政区划代码", "责任单位所在行政区划"),
    ("region_name", "行政区划", "行政区划名称"),
    ("department_code", "责任部门代码", "责任部门统一社会信用代码（谁办理、谁负责）"),
    ("department_name", "责任部门", "责任部门名称"),
    ("agency_name", "政务服务机构", "办理该办件的政务服务大厅或中心；网上办理等为空"),
    ("item_code", "事项实施编码", "被评价事项的实施编码；没有关联事项时为空"),
    ("item_name", "事项名称", "被评价事项名称"),
    ("level", "评价等级", "1–5，5 为非常满意（很好），1 为非常不满意（很差）；投诉和集中问题为空"),
    ("level_text", "评价等级文字", "评价等级的文字（按所在地区使用的等级文字）"),
    ("labels", "差评标签", "评价人选择的差评标签（全国评价标签代码和内容，以“；”分隔）"),
    ("opened_on", "立案日期", "案件立案日期（北京时间）"),
    ("called_back", "是否已回访核实", "true 或 false"),
    ("outcome", "处理方式代码", "fixed_now、deadline、explained、mistaken、malicious、appeal_upheld；尚未确定为空"),
    ("outcome_text", "处理方式", "立行立改、限期整改、解释说明、误评、恶意差评、申诉成立（不计入统计）或尚未确定"),
    ("handling_due", "处理期限", "立行立改、解释说明等为立行立改期限；限期整改为台账整改期限（超出限期整改期限的须经批准延期）"),
    ("handled_on", "处理日期", "处理完成的日期；尚未处理或申诉成立时为空"),
    ("on_time", "是否按时处理", "true：处理日期不晚于处理期限；false：逾期处理；尚未处理时为空"),
    ("state", "办理状态代码", "open、called_back、rectifying、rectified、explained、not_adopted、answered、reopened、closed"),
    ("state_text", "办理状态", "办理状态的文字"),
    ("closed_on", "办结日期", "案件办结的日期；未办结为空"),
]

DATASETS = {
    "figures": ("评价指标", FIGURE_COLUMNS),
    "rankings": ("公平排名", RANKING_COLUMNS),
    "rectification": ("差评整改指标", RECTIFICATION_COLUMNS),
    "cases": ("差评整改案件（匿名）", CASE_COLUMNS),
}
FIGURE_GROUPS = ("total", "region", "department", "month")
RANKING_BY = ("department", "region")
RECTIFICATION_GROUPS = ("total", "department")


def csv_value(value) -> str:
    """One CSV cell: rates with six decimals, booleans as true/false, dates ISO, nothing as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".") if value else "0"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
