"""Builders for the pain-point tests: bad reviews written straight to the table (no rectification case is
opened, which these tests do not need), with labels, comments, times and — to prove they never show — the
evaluator's name and phone."""

from __future__ import annotations

import uuid

from django.utils import timezone

from haochaping.evaluation.models import Evaluation, Label
from haochaping.insight.painpoints import Review
from tests import factories

THEMES = {
    "queue": ("窗口排队时间太长", "排队等了一个多小时才轮到", "取号以后排队很久", "排长队，窗口只开了两个",
              "排队时间长，叫号太慢"),
    "system": ("系统卡顿无法提交", "网上申报系统经常卡顿，提交失败", "系统崩溃了，提交不了", "页面打不开，系统卡顿",
               "系统故障，无法提交申请"),
    "attitude": ("工作人员态度差", "工作人员态度生硬，很不耐烦", "窗口工作人员态度恶劣", "工作人员服务态度很差",
                 "工作人员态度冷淡，爱答不理"),
}


def theme_reviews(repeat: int = 4, month: str = "2026-01") -> list[Review]:
    """Three obvious themes, each comment said ``repeat`` times, ids in a fixed order."""
    out, n = [], 0
    for theme, comments in THEMES.items():
        for _ in range(repeat):
            for comment in comments:
                n += 1
                out.append(Review(n, comment, ("109",) if theme == "queue" else (), n % 3 + 1, n % 2 + 1, month))
    return out


def ensure_labels() -> None:
    # Live-server tests flush every table, the seeded label dictionary too.
    for code, text in (("109", "需提供办事指南之外的申报材料"), ("110", "无理由超过法定办理时间"),
                       ("209", "未在承诺时间内办结")):
        Label.objects.get_or_create(code=code, defaults={"text": text, "level": int(code[0])})


def bad_review(org, item, *, comment: str = "", labels=(), level: int = 1, when=None, department=None, agency=None,
               name: str = "", phone: str = "", channel: str = "pc") -> Evaluation:
    department = department or org.department
    record = factories.make_record(org, item, department=department, agency=agency,
                                   window=org.window if agency is org.agency else None,
                                   staff=org.staff if agency is org.agency else None)
    ev = Evaluation.objects.create(
        record=record, stage="complete", type="active", channel=channel, level=level, is_bad=level <= 2,
        comment=comment, item=item, region=department.region, department=department, agency=agency,
        idempotency_key=uuid.uuid4().hex, request_hash="0" * 64, receipt_code=uuid.uuid4().hex[:16].upper(),
        leaf_hash="0" * 64, created_at=when or timezone.now(), evaluator_name=name, evaluator_phone=phone,
        is_real_name=bool(phone),
    )
    if labels:
        ev.labels.set(labels)
    return ev
