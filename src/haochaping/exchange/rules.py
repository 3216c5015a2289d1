"""Foreign shapes at the border (R6.2, DESIGN.md "Exchange"): the live national/provincial interface and the
GB/T 39046-2020 evaluation data set, mapped to this system's one internal shape and back. Pure: no database, no
I/O. Nothing inside the system knows these shapes; every code table here is also a table in docs/exchange.md.

The internal shape is the evaluation and 办件 API's own JSON (snake_case, level 5 = 非常满意), plus what only a
foreign or historical row carries: ``evaluated_at`` (the original time), ``assess_number`` (评价次数, the
upstream's key with the 办件编号) and the evaluator's type. A row that cannot be mapped raises :class:`Refused`
naming the foreign field, in Chinese, without echoing the value (it may be personal data).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))
# No 办件 or evaluation is older than the regime's predecessors or from the future's far side: a time outside
# this range is a format or unit error at the source, and is refused rather than stored.
EARLIEST = datetime(2000, 1, 1, tzinfo=BEIJING)
LATEST = datetime(2100, 1, 1, tzinfo=BEIJING)

CHANNEL_BY_PF = {"1": "pc", "2": "mobile", "3": "qr", "4": "kiosk", "5": "terminal", "6": "phone", "7": "sms"}
# 书面评价表 has no pf code: a paper form is entered in the hall, so it leaves as 5 政务大厅其他终端.
PF_FOR_PAPER = "5"
TYPE_BY_EVALUATE_TYPE = {"1": "active", "2": "followup"}
EVALUATE_TYPE_BY_TYPE = {v: k for k, v in TYPE_BY_EVALUATE_TYPE.items()}
APPLICANT_TYPES = frozenset({1, 2, 3, 4, 5, 6, 9})  # userProp: 1 自然人 … 6 行政机关, 9 其他
RECORD_STATUSES = frozenset({1, 2, 3})  # proStatus: 1 待受理, 2 办理中, 3 已办结
LABEL_RE = re.compile(r"^[1-5]\d{2}$")
DIGITS_RE = re.compile(r"^\d+$")

NATIONAL_TIME = "%Y-%m-%d %H:%M:%S"
GBT_TIME = "%Y%m%dT%H%M%S"
TIME_HINTS = {NATIONAL_TIME: "yyyy-MM-dd HH:mm:ss", GBT_TIME: "YYYYMMDDThhmmss"}

# GB/T 39046-2020 evaluation data set: the standard's data element names, as column headers of a file.
GBT_FIELDS = ("办件编号", "评价渠道", "评价人", "评价时间", "评价次数", "满意度代码", "文字评价", "行政区划")


class Refused(ValueError):
    """A foreign row that cannot be mapped: ``field`` is the foreign field's name, ``message`` says why."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Profile:
    """How one upstream or source spells the national shape. Provinces differ: some send pf 7 for 系统默认评价
    instead of 短信; the stage a serviceNumber names is set per interface document."""

    name: str = "national"
    pf7: str = "sms"  # or "system_default"
    stage_by_service_number: dict[str, str] = field(default_factory=lambda: {"1": "accept", "2": "complete"})

    def channel(self, pf: str) -> str:
        if pf == "7":
            return self.pf7
        return CHANNEL_BY_PF[pf]

    def pf(self, channel: str) -> str:
        if channel == self.pf7:
            return "7"
        if channel == "paper":
            return PF_FOR_PAPER
        for code, name in CHANNEL_BY_PF.items():
            if name == channel and code != "7":
                return code
        raise Refused("pf", f"渠道 {channel} 在该接口中没有对应代码")

    def service_number(self, stage: str) -> str:
        for number, name in self.stage_by_service_number.items():
            if name == stage:
                return number
        raise Refused("serviceNumber", f"评价环节 {stage} 在该接口中没有对应的服务次数")


NATIONAL = Profile()
# The provinces' variant: pf 7 is an evaluation the system made by default, never counted as satisfaction (R8.4).
NATIONAL_PF7_DEFAULT = Profile(name="national-pf7-default", pf7="system_default")


# -- values -------------------------------------------------------------------------------------------------------

def _text(row: dict, name: str, *, required: bool = True, max_length: int | None = None) -> str:
    value = row.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Refused(name, "缺少该字段")
        return ""
    value = str(value).strip()
    if "\x00" in value:
        raise Refused(name, "含有不允许的控制字符")
    if max_length is not None and len(value) > max_length:
        raise Refused(name, f"长度超过{max_length}个字符")
    return value


def _code(row: dict, name: str, table, *, required: bool = True) -> str:
    value = _text(row, name, required=required)
    if not value and not required:
        return ""
    value = value.lstrip("0") or "0" if DIGITS_RE.match(value) else value
    if value not in table:
        raise Refused(name, f"代码不在允许的取值内（{'、'.join(sorted(table))}）")
    return value


def _int(row: dict, name: str, low: int, high: int, *, required: bool = True) -> int | None:
    value = _text(row, name, required=required)
    if not value:
        return None
    if not DIGITS_RE.match(value):
        raise Refused(name, "应为整数")
    number = int(value)
    if not low <= number <= high:
        raise Refused(name, f"应在{low}到{high}之间")
    return number


def parse_time(value: str, fmt: str, name: str) -> datetime:
    """A Beijing wall-clock time in ``fmt`` (the foreign shapes carry no offset) as an aware datetime."""
    try:
        moment = datetime.strptime(value, fmt).replace(tzinfo=BEIJING)
    except ValueError:
        raise Refused(name, f"时间格式应为 {TIME_HINTS[fmt]}（北京时间）") from None
    if not EARLIEST <= moment < LATEST:
        raise Refused(name, "时间不在合理范围内（2000年至2099年）")
    return moment


def format_time(moment: datetime, fmt: str) -> str:
    if moment.tzinfo is None:
        raise ValueError("an outbound time must be aware")
    return moment.astimezone(BEIJING).strftime(fmt)


def region_code_from_area(area: str, name: str = "areaCode") -> str:
    """The 12-digit area code of the live interfaces as this system's 6/9/12-digit GB/T 2260 code."""
    if not DIGITS_RE.match(area) or len(area) not in (6, 9, 12):
        raise Refused(name, "行政区划代码应为6、9或12位数字")
    padded = area.ljust(12, "0")
    if padded[6:] == "000000":
        return padded[:6]
    if padded[9:] == "000":
        return padded[:9]
    return padded


def area_from_region_code(code: str) -> str:
    return code.ljust(12, "0")


def _labels(value: str, name: str) -> list[str]:
    codes = [c.strip() for c in re.split(r"[,，;；|\s]+", value) if c.strip()]
    for code in codes:
        if not LABEL_RE.match(code):
            raise Refused(name, "评价标签代码应为3位数字，首位为星级1-5")
    return list(dict.fromkeys(codes))


# -- the national / provincial live interface -------------------------------------------------------------------

def evaluation_from_national(row: dict, profile: Profile = NATIONAL) -> dict:
    """One evaluation row of the live interface as the internal shape."""
    pf = _code(row, "pf", CHANNEL_BY_PF)
    level = _int(row, "satisfaction", 1, 5)  # 1 = 非常不满意 … 5 = 非常满意: the internal direction already
    service_number = _code(row, "serviceNumber", profile.stage_by_service_number)
    evaluate_type = _code(row, "evaluateType", TYPE_BY_EVALUATE_TYPE)
    user_prop = _int(row, "userProp", 1, 9, required=False)
    if user_prop is not None and user_prop not in APPLICANT_TYPES:
        raise Refused("userProp", "评价人类型代码应为1-6或9")
    project_no = _text(row, "projectNo", max_length=64)
    assess_number = _int(row, "assessNumber", 1, 999)
    return {
        "project_no": project_no,
        "stage": profile.stage_by_service_number[service_number],
        "channel": profile.channel(pf),
        "level": level,
        "type": TYPE_BY_EVALUATE_TYPE[evaluate_type],
        "labels": _labels(_text(row, "evalDetail", required=False), "evalDetail"),
        "comment": _text(row, "writingEvaluation", required=False, max_length=2000),
        "evaluated_at": parse_time(_text(row, "assessTime"), NATIONAL_TIME, "assessTime"),
        "assess_number": assess_number,
        "idempotency_key": upstream_key(project_no, assess_number),
        "evaluator_type": user_prop,
        "department_credit_code": _text(row, "deptCode", required=False, max_length=18),
        "implementation_code": _text(row, "taskCode", required=False, max_length=60),
        "handle_item_code": _text(row, "taskHandleItem", required=False, max_length=60),
        "data_source": _text(row, "dataSource", required=False, max_length=40),
    }


def evaluation_to_national(ev: dict, profile: Profile = NATIONAL) -> dict:
    """The internal shape as one evaluation row of the live interface (what is reported upward)."""
    out = {
        "projectNo": ev["project_no"],
        "pf": profile.pf(ev["channel"]),
        "satisfaction": str(ev["level"]),
        "serviceNumber": profile.service_number(ev["stage"]),
        "evaluateType": EVALUATE_TYPE_BY_TYPE[ev["type"]],
        "evalDetail": ",".join(ev.get("labels") or []),
        "writingEvaluation": ev.get("comment") or "",
        "assessTime": format_time(ev["evaluated_at"], NATIONAL_TIME),
        "assessNumber": str(ev["assess_number"]),
        "deptCode": ev.get("department_credit_code") or "",
        "taskCode": ev.get("implementation_code") or "",
        "taskHandleItem": ev.get("handle_item_code") or "",
        "dataSource": ev.get("data_source") or "",
    }
    if ev.get("evaluator_type") is not None:
        out["userProp"] = str(ev["evaluator_type"])
    return out


def upstream_key(project_no: str, assess_number: int) -> str:
    """projectNo + assessNumber: the upstream's key for one evaluation, so a redelivery is harmless."""
    return f"{project_no}:{assess_number}"


# The live interface names no hall, window, staff member or platform, yet 谁办理、谁负责 routes a 差评 to them: a
# province sends them in these extension fields (docs/exchange.md); a 办件 with none of them is refused.
RECORD_UNIT_EXTENSIONS = (("agencyCode", "agency_code"), ("windowCode", "window_code"), ("staffNo", "staff_no"),
                          ("platformCode", "platform_code"))


def record_from_national(row: dict) -> dict:
    """One 办件 row of the live interface as the internal shape (the 办件 API's JSON)."""
    status = _int(row, "proStatus", 1, 3)
    promise_day = _int(row, "promiseDay", 0, 3650, required=False) or 0
    accepted = _text(row, "acceptDate", required=False)
    completed = _text(row, "finishDate", required=False)
    user_prop = _int(row, "userProp", 1, 9)
    if user_prop not in APPLICANT_TYPES:
        raise Refused("userProp", "申请人类型代码应为1-6或9")
    units = {internal: _text(row, foreign, required=False, max_length=40) or None
             for foreign, internal in RECORD_UNIT_EXTENSIONS}
    return {
        **units,
        "project_no": _text(row, "projectNo", max_length=64),
        "implementation_code": _text(row, "taskCode", max_length=60),
        "region_code": region_code_from_area(_text(row, "areaCode")),
        "department_credit_code": _text(row, "deptCode", max_length=18),
        "applicant": {"type": user_prop},
        # A promise of working days makes a 承诺件; without one it was done on the spot (即办件).
        "record_type": "promised" if promise_day > 0 else "immediate",
        "promised_days": promise_day,
        "status": status,
        "accepted_at": parse_time(accepted, NATIONAL_TIME, "acceptDate") if accepted else None,
        "completed_at": parse_time(completed, NATIONAL_TIME, "finishDate") if completed else None,
    }


def record_to_national(record: dict) -> dict:
    units = {foreign: record[internal] for foreign, internal in RECORD_UNIT_EXTENSIONS if record.get(internal)}
    return {
        **units,
        "projectNo": record["project_no"],
        "taskCode": record["implementation_code"],
        "areaCode": area_from_region_code(record["region_code"]),
        "deptCode": record["department_credit_code"],
        "userProp": str(record["applicant"]["type"]),
        "promiseDay": str(record.get("promised_days") or 0),
        "proStatus": str(record["status"]),
        "acceptDate": format_time(record["accepted_at"], NATIONAL_TIME) if record.get("accepted_at") else "",
        "finishDate": format_time(record["completed_at"], NATIONAL_TIME) if record.get("completed_at") else "",
    }


# -- GB/T 39046-2020 evaluation data set ------------------------------------------------------------------------

def level_from_gbt(code: int) -> int:
    """满意度代码 1 = 非常满意 … 5 = 非常不满意 (the standard's order) as the internal level (5 = 非常满意)."""
    return 6 - code


def gbt_from_level(level: int) -> int:
    return 6 - level


def evaluation_from_gbt(row: dict, profile: Profile = NATIONAL) -> dict:
    """One row of the GB/T 39046 evaluation data set as the internal shape. The standard has no stage and no
    type: a row is a 办结 evaluation, active on its first 评价次数 and a follow-up after."""
    pf = _code(row, "评价渠道", CHANNEL_BY_PF)
    level = level_from_gbt(_int(row, "满意度代码", 1, 5))
    assess_number = _int(row, "评价次数", 1, 999)
    project_no = _text(row, "办件编号", max_length=64)
    region = _text(row, "行政区划", required=False)
    return {
        "project_no": project_no,
        "stage": "complete",
        "channel": profile.channel(pf),
        "level": level,
        "type": "active" if assess_number == 1 else "followup",
        "labels": [],
        "comment": _text(row, "文字评价", required=False, max_length=2000),
        "evaluated_at": parse_time(_text(row, "评价时间"), GBT_TIME, "评价时间"),
        "assess_number": assess_number,
        "idempotency_key": upstream_key(project_no, assess_number),
        "evaluator_name": _text(row, "评价人", required=False, max_length=40),
        "region_code": region_code_from_area(region, "行政区划") if region else "",
    }


def evaluation_to_gbt(ev: dict, profile: Profile = NATIONAL) -> dict:
    return {
        "办件编号": ev["project_no"],
        "评价渠道": profile.pf(ev["channel"]),
        "评价人": ev.get("evaluator_name") or "",
        "评价时间": format_time(ev["evaluated_at"], GBT_TIME),
        "评价次数": str(ev["assess_number"]),
        "满意度代码": str(gbt_from_level(ev["level"])),
        "文字评价": ev.get("comment") or "",
        "行政区划": ev.get("region_code") or "",
    }


# -- naming a refused field in the sender's words ----------------------------------------------------------------

NATIONAL_RECORD_NAMES = {
    "project_no": "projectNo", "implementation_code": "taskCode", "region_code": "areaCode",
    "department_credit_code": "deptCode", "applicant": "userProp", "applicant.type": "userProp",
    "record_type": "promiseDay", "promised_days": "promiseDay", "status": "proStatus", "accepted_at": "acceptDate",
    "completed_at": "finishDate", **{internal: foreign for foreign, internal in RECORD_UNIT_EXTENSIONS},
}
NATIONAL_EVALUATION_NAMES = {
    "project_no": "projectNo", "channel": "pf", "level": "satisfaction", "stage": "serviceNumber",
    "type": "evaluateType", "labels": "evalDetail", "comment": "writingEvaluation", "idempotency_key": "assessNumber",
}
GBT_EVALUATION_NAMES = {
    "project_no": "办件编号", "channel": "评价渠道", "level": "满意度代码", "type": "评价次数", "comment": "文字评价",
    "idempotency_key": "评价次数", "evaluator_name": "评价人", "stage": "评价时间",
}


def foreign_field(kind: str, shape: str, field: str | None) -> str | None:
    """The sender's name for an internal field a refusal names (``labels.1`` → ``evalDetail``), so a platform
    that sent the national shape reads ``agencyCode``, not ``agency_code``. Unknown names pass through."""
    if not field or shape == "internal":
        return field
    names = (NATIONAL_RECORD_NAMES if kind == "records" else
             GBT_EVALUATION_NAMES if shape == "gbt39046" else NATIONAL_EVALUATION_NAMES)
    return names.get(field) or names.get(field.split(".")[0]) or field


# -- reporting upward ----------------------------------------------------------------------------------------------

SIGNATURE_WINDOW_SECONDS = 300  # a push whose timestamp is further from the receiver's clock is refused
BACKOFF_BASE_SECONDS = 5
BACKOFF_CAP_SECONDS = 900


def signing_string(app_id: str, timestamp: str, body_digest: str) -> bytes:
    """What a push's SM2 signature covers: the live interfaces sign app id and timestamp; the body's SM3 digest is
    added so that a signature cannot be lifted onto another body."""
    return f"{app_id}\n{timestamp}\n{body_digest}".encode()


def timestamp_problem(timestamp: str, now_ms: int) -> str | None:
    """Why a push's timestamp (milliseconds since the epoch, as text) is refused, or None."""
    if not DIGITS_RE.match(timestamp or "") or len(timestamp) > 15:
        return "应为毫秒时间戳（数字）"
    if abs(int(timestamp) - now_ms) > SIGNATURE_WINDOW_SECONDS * 1000:
        return f"与接收方时间相差超过{SIGNATURE_WINDOW_SECONDS}秒"
    return None


def backoff_seconds(attempts: int, *, base: int = BACKOFF_BASE_SECONDS) -> int:
    """Wait before the next try after ``attempts`` failed ones: base, 2×base, 4×base … up to 15 minutes."""
    if attempts < 1:
        return 0
    return min(BACKOFF_CAP_SECONDS, base * 2 ** min(attempts - 1, 20))


ASSESS_ORDER = {("accept", "active"): 1, ("accept", "followup"): 2, ("complete", "active"): 3,
                ("complete", "followup"): 4}


def assess_number(project_no: str, idempotency_key: str, stage: str, type_: str) -> int:
    """The upstream's assessNumber of an evaluation: kept as it came when it arrived in the national shape (its
    idempotency key is ``projectNo:assessNumber``), otherwise the evaluation's place among the at most four a 办件
    can have (受理 then 办结, each 主动 then 追加), which is stable, so a redelivery has the same key."""
    head, sep, tail = idempotency_key.rpartition(":")
    if sep and head == project_no and DIGITS_RE.match(tail) and 1 <= int(tail) <= 999:
        return int(tail)
    return ASSESS_ORDER[(stage, type_)]


def count_differences(local: dict[tuple[str, str], int], upstream: dict[tuple[str, str], int]) -> list[dict]:
    """Per (region code, kind) where the two nodes' counts of one day differ: what each side has."""
    return [
        {"region_code": region, "kind": kind, "local": local.get((region, kind), 0),
         "upstream": upstream.get((region, kind), 0)}
        for region, kind in sorted(set(local) | set(upstream))
        if local.get((region, kind), 0) != upstream.get((region, kind), 0)
    ]
