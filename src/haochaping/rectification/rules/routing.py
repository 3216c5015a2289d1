"""Routing a case to the unit responsible for it (R4.1, 国办发〔2019〕51号 §四(一) 谁办理、谁负责), and transfers.

Pure: the caller passes the 办件's units as ids and the evaluation's label texts and comment. docs/routing.md
states the rule for people; the tests in tests/rectification/test_routing.py pin it.

The rule, in three sentences:

1. The 办件's handling department (``department_id``) is responsible for the service itself, and for every case
   whose reasons say nothing, or say something about the service (conditions, materials, time limits, approval).
2. Handled online (a platform, no window): the platform's operator (运营单位) is responsible only when every reason
   is about the platform itself — system faults, page errors, login and verification problems, uploads that fail.
3. Handled at a window whose stationed department (入驻部门) is another one: that department is responsible only
   when every reason is about the window itself — attitude, waiting, queueing, the hall's equipment.

A reason that names both the service and the platform (or the window) goes to the department: it handled the
service and is the one that can find out; a unit that receives a case that is not its own transfers it
(:func:`transfer_problems`), which is recorded and resets nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models.enums import TextChoices
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class Concern(TextChoices):
    """What a reason is about."""

    SERVICE = "service", gettext_lazy("办理事项本身（条件、材料、时限、审批）")
    PLATFORM = "platform", gettext_lazy("平台本身（系统故障、页面错误、登录）")
    ON_SITE = "on_site", gettext_lazy("窗口现场服务（态度、等候、秩序）")


# Words that mark a reason as being about each concern. Matched as substrings of the label texts and the comment
# (Chinese has no spaces to split on); the lists are short on purpose: a missed word routes to the department,
# which is the safe default (it handled the service and can transfer).
SERVICE_TERMS: tuple[str, ...] = (
    "材料", "条件", "证明", "指南", "时限", "超期", "超时", "逾期", "超过", "办结", "承诺", "审批", "审核",
    "补交", "补正", "复印", "收费", "费用", "退件", "退回", "驳回", "不予受理", "政策", "跑了", "办理时间",
    "办理时限", "多次跑", "来回跑",
)
PLATFORM_TERMS: tuple[str, ...] = (
    "系统", "页面", "网页", "网站", "登录", "登陆", "注册", "验证码", "密码", "卡顿", "闪退", "崩溃", "打不开",
    "无法打开", "加载", "报错", "故障", "上传", "提交失败", "提交不了", "app", "客户端", "入口", "界面", "链接",
    "人脸识别", "实名认证", "网络", "白屏", "死机",
)
ON_SITE_TERMS: tuple[str, ...] = (
    "态度", "不耐烦", "生硬", "排队", "等候", "等了", "等待", "叫号", "没有人", "没人", "午休", "脱岗", "推诿",
    "插队", "环境", "秩序", "解释不清", "工作人员",
)


def _mentions(text: str, terms: Iterable[str]) -> bool:
    return any(term in text for term in terms)


def concerns(label_texts: Iterable[str] = (), comment: str = "") -> frozenset[str]:
    """The concerns the reasons of a review name (empty when they name none of them).

    Label texts and the comment are read alike; Latin letters are compared in lower case ("App", "APP")."""
    texts = [t.lower() for t in (*label_texts, comment or "") if t]
    found = set()
    for text in texts:
        if _mentions(text, SERVICE_TERMS):
            found.add(Concern.SERVICE)
        if _mentions(text, PLATFORM_TERMS):
            found.add(Concern.PLATFORM)
        if _mentions(text, ON_SITE_TERMS):
            found.add(Concern.ON_SITE)
    return frozenset(found)


@dataclass(frozen=True)
class RecordUnits:
    """The units a 办件 names, as ids (``None`` when absent)."""

    region_id: str
    department_id: int
    agency_id: int | None = None
    window_id: int | None = None
    window_department_id: int | None = None
    platform_id: int | None = None
    platform_operator_id: int | None = None

    @property
    def online(self) -> bool:
        """Handled on a platform, not at a window."""
        return self.window_id is None and self.platform_id is not None


@dataclass(frozen=True)
class Responsible:
    region_id: str
    department_id: int
    agency_id: int | None
    platform_id: int | None


def responsible_for(units: RecordUnits, department_id: int) -> Responsible:
    """``department_id`` as the case's unit, with where the service happened kept beside it: the hall (so the
    hall's handlers see a case of theirs) or, online, the platform. The region is always the 办件's: its management
    agency supervises the case."""
    if units.online:
        return Responsible(units.region_id, department_id, None, units.platform_id)
    return Responsible(units.region_id, department_id, units.agency_id, None)


def route(units: RecordUnits, *, label_texts: Iterable[str] = (), comment: str = "") -> Responsible:
    """Who handles the case (see the module docstring): the 办件's department, unless every reason is about the
    platform (online: its operator) or about the window (a window stationed by another department: that one)."""
    found = concerns(label_texts, comment)
    if found and Concern.SERVICE not in found:
        if units.online and found == {Concern.PLATFORM} and units.platform_operator_id is not None:
            return responsible_for(units, units.platform_operator_id)
        # At a window, the hall's own equipment (叫号系统, 自助机) is the window's business too.
        if units.window_id is not None and units.window_department_id is not None:
            return responsible_for(units, units.window_department_id)
    return responsible_for(units, units.department_id)


def transfer_targets(units: RecordUnits | None) -> list[int]:
    """The units a case about this 办件 may be transferred to: the ones the 办件 names (its department, the
    window's stationed department, the platform's operator), each once, in that order. A complaint made directly
    about a department (no 办件) has none: the supervisor registers it again against the right department."""
    if units is None:
        return []
    out: list[int] = []
    for dept in (units.department_id, units.window_department_id if units.window_id is not None else None,
                 units.platform_operator_id if units.platform_id is not None else None):
        if dept is not None and dept not in out:
            out.append(dept)
    return out


# States in which the responsible unit may still hand the case on: before it has decided an outcome.
TRANSFERABLE = frozenset({"open", "called_back"})


def transfer_problems(*, state: str, current_department_id: int, target_department_id: int | None,
                      targets: list[int], reason: str, proposal_pending: bool = False,
                      max_text: int = 2000) -> list[tuple[str, str]]:
    """What stops a transfer to ``target_department_id``, as (field, Chinese message) pairs; empty when it may go.

    A transfer moves the case to one of ``targets`` (:func:`transfer_targets`) other than the current unit, before
    an outcome was decided, with a stated reason. The caller keeps every deadline and the state as they are."""
    if state not in TRANSFERABLE or proposal_pending:
        return [("state", _("案件已确定或提请处理结果，不能再转办；如确属转错，请联系政务服务管理机构"))]
    if target_department_id is None or target_department_id not in targets:
        return [("department", _("只能转给该办件的办理部门、窗口入驻部门或平台运营单位"))]
    if target_department_id == current_department_id:
        return [("department", _("案件已在该单位办理，无需转办"))]
    if not isinstance(reason, str) or not reason.strip():
        return [("reason", _("请写明转办理由，例如核实后发现问题属于哪个单位"))]
    if len(reason) > max_text:
        return [("reason", _("内容不能超过%(n)d字") % {"n": max_text})]
    return []
