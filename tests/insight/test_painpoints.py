"""Pain points (R5.1): segmentation with the government-services dictionary, topics that recover obvious themes,
the label-only view, determinism, and what each actor's analysis is made of (scope, countable, period)."""

from __future__ import annotations

import os
import random
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import jieba
import pytest
from django.utils import timezone

from haochaping.accounts.models import User
from haochaping.accounts.roles import Role
from haochaping.evaluation.models import EvaluationExclusion
from haochaping.insight import painpoints
from haochaping.insight.painpoints import Names, Period, Review, analyse, services, text, topics
from tests import factories

from .painpoints_fixtures import THEMES, bad_review, theme_reviews

PERIOD = Period(date(2026, 1, 1), date(2026, 3, 31))


@pytest.fixture(autouse=True)
def _no_cached_analysis():
    # Rolled-back tests reuse primary keys, so an analysis cached by another test could match this one's key.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


# --- text -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("phrase, word", [
    ("不动产登记排队时间太长", "不动产登记"),
    ("营业执照办了三次", "营业执照"),
    ("说好的一窗受理没有落实", "一窗受理"),
    ("系统卡顿无法提交", "系统卡顿"),
    ("来回跑腿好几趟", "跑腿"),
])
def test_the_user_dictionary_keeps_government_service_terms_whole(phrase, word):
    assert word in text.segment(phrase)


def test_terms_drop_stop_words_and_add_the_parts_of_a_compound():
    terms = text.terms("我们的系统卡顿了，真的很慢！")
    assert terms == ["系统卡顿", "系统", "卡顿", "慢"]
    assert text.terms("的了吗，。！") == []


def test_jieba_caches_outside_its_package_and_stays_quiet(capfd):
    seg = text.segmenter()
    cache_dir = Path(seg._tokenizer.tmp_dir).resolve()
    assert Path(jieba.__file__).resolve().parent not in (cache_dir, *cache_dir.parents)
    assert os.access(cache_dir, os.W_OK)
    text.segment("营业执照")
    assert "Building prefix dict" not in capfd.readouterr().err


def test_contact_details_typed_into_a_comment_are_redacted():
    shown = text.redact("工作人员态度差，我的电话13812345678，身份证370102199001011234，邮箱a.b@example.com")
    assert "13812345678" not in shown and "370102199001011234" not in shown and "example.com" not in shown
    assert shown.startswith("工作人员态度差，我的电话***")


# --- topics -----------------------------------------------------------------------------------------------------


def test_three_obvious_themes_come_out_as_three_topics():
    reviews = theme_reviews()
    result = analyse(reviews, PERIOD, Names(labels={"109": "需提供办事指南之外的申报材料"}))
    assert len(result.topics) == 3
    assert result.commented == result.reviews == len(reviews)
    # Each theme's reviews all land in one topic, and each topic holds one theme.
    members = topics.find({r.comment for r in reviews}, Counter(r.comment for r in reviews))
    theme_of = {c: theme for theme, comments in THEMES.items() for c in comments}
    assert sorted(sorted({theme_of[c] for c in cl.comments}) for cl in members) == [["attitude"], ["queue"], ["system"]]
    by_theme = {theme_of[t.examples[0]]: t for t in result.topics}
    for theme, topic in by_theme.items():
        assert topic.size == 20 and topic.share == pytest.approx(1 / 3)
        assert len(topic.examples) == 3 and all(theme_of[e] == theme for e in topic.examples)
    assert "排队" in by_theme["queue"].terms
    assert "系统" in by_theme["system"].terms or "系统卡顿" in by_theme["system"].terms
    assert "态度" in by_theme["attitude"].terms or "态度差" in by_theme["attitude"].terms
    # Named also by the label chosen most with it.
    assert [n.name for n in by_theme["queue"].labels] == ["需提供办事指南之外的申报材料"]
    assert by_theme["system"].labels == ()


def test_the_same_reviews_in_any_order_give_the_same_result():
    reviews = theme_reviews()
    first = analyse(reviews, PERIOD)
    shuffled = list(reviews)
    random.Random(7).shuffle(shuffled)
    assert analyse(shuffled, PERIOD) == first
    assert [t.number for t in first.topics] == [1, 2, 3]


def test_topic_items_units_and_monthly_trend():
    reviews = [Review(i, "窗口排队时间太长", (), 7 if i < 4 else 8, 3, "2026-01" if i < 5 else "2026-03")
               for i in range(1, 7)]
    result = analyse(reviews, PERIOD, Names(items={7: "食品经营许可证核发", 8: "营业执照"}, units={3: "市场监管局"}))
    (topic,) = result.topics
    # Equal counts come out in a fixed order (by id).
    assert [(n.name, n.count) for n in topic.items] == [("食品经营许可证核发", 3), ("营业执照", 3)]
    assert [(n.name, n.count) for n in topic.units] == [("市场监管局", 6)]
    assert [(m.month, m.count) for m in topic.trend] == [("2026-01", 4), ("2026-02", 0), ("2026-03", 2)]
    assert topic.examples == ("窗口排队时间太长",)  # one distinct comment, shown once


def test_labels_are_counted_per_item_and_unit_even_without_comments():
    reviews = [
        Review(1, "", ("109",), 1, 10, "2026-01"),
        Review(2, "", ("109", "110"), 1, 11, "2026-02"),
        Review(3, "", ("109",), 2, 10, "2026-02"),
        Review(4, "  ", (), 2, 10, "2026-03"),
    ]
    result = analyse(reviews, PERIOD, Names(items={1: "事项甲", 2: "事项乙"}, units={10: "部门甲", 11: "部门乙"},
                                            labels={"109": "指南外材料", "110": "超时"}))
    assert result.topics == () and result.commented == 0 and result.unlabelled == 1
    assert [(row.text, row.count) for row in result.labels] == [("指南外材料", 3), ("超时", 1)]
    materials = result.labels[0]
    assert materials.percent == "75.0%"
    assert [(m.month, m.count) for m in materials.trend] == [("2026-01", 1), ("2026-02", 2), ("2026-03", 0)]
    assert [(n.name, n.count) for n in materials.items] == [("事项甲", 2), ("事项乙", 1)]
    assert [(n.name, n.count) for n in materials.units] == [("部门甲", 2), ("部门乙", 1)]
    assert [(row.name, row.count) for row in result.units] == [("部门甲", 3), ("部门乙", 1)]
    assert [(n.name, n.count) for n in result.items[0].labels] == [("指南外材料", 2), ("超时", 1)]


def test_small_and_empty_inputs():
    assert analyse([], PERIOD).topics == ()
    # One unclassified comment is no topic (no topics from tiny samples); five alike are an emerging topic.
    assert analyse([Review(1, "系统卡顿", (), 1, 1, "2026-01")], PERIOD).topics == ()
    (one,) = analyse([Review(i, "系统卡顿", (), 1, 1, "2026-01") for i in range(1, 6)], PERIOD).topics
    assert one.size == 5 and one.emerging and one.terms[0] in ("系统卡顿", "系统", "卡顿")
    # A classified comment counts under its kind, however few.
    (kind,) = analyse([Review(1, "系统卡顿", (), 1, 1, "2026-01", "online", 0.9)], PERIOD).topics
    assert (kind.code, kind.name, kind.size, kind.ids) == ("online", "系统故障、网上办不了", 1, (1,))


def test_the_number_of_topics_is_bounded():
    words = ["排队", "卡顿", "态度", "材料", "收费", "停车", "超期", "咨询", "证明", "邮寄", "预约", "指引"]
    reviews = [Review(i, f"{words[i % 12]}{words[(i * 5) % 12]}问题", (), 1, 1, "2026-01") for i in range(400)]
    assert 2 <= len(analyse(reviews, PERIOD).topics) <= topics.MAX_TOPICS


def test_period_months_and_the_default_period():
    assert Period(date(2025, 11, 15), date(2026, 2, 1)).months() == ["2025-11", "2025-12", "2026-01", "2026-02"]
    default = Period.last_months(6, date(2026, 3, 10))
    assert (default.start, default.end) == (date(2025, 10, 1), date(2026, 3, 10))


# --- from the database ------------------------------------------------------------------------------------------


@pytest.fixture
def two_units(org, item):
    other = factories.department(org.county, "历下区人社局")
    mine = [bad_review(org, item, comment=c, labels=["109"]) for c in THEMES["queue"]]
    theirs = [bad_review(org, item, comment=c, department=other) for c in THEMES["system"]]
    services.assign_pending()  # the worker's periodic task
    return other, mine, theirs


def _comments(result) -> set[str]:
    return {e for t in result.topics for e in t.examples}


@pytest.mark.django_db
def test_a_handler_analyses_only_their_units_bad_reviews(org, two_units):
    other, mine, theirs = two_units
    handler = User.objects.create(username="h1", role=Role.HANDLER, region=org.county, department=org.department)
    supervisor = User.objects.create(username="s1", role=Role.SUPERVISOR, region=org.county)
    far = User.objects.create(username="s2", role=Role.SUPERVISOR, region=org.other_county)
    period = Period.last_months(1)
    seen = painpoints.pain_points(handler, period)
    assert seen.reviews == len(mine)
    assert _comments(seen) <= set(THEMES["queue"])
    assert [r.name for r in seen.units] == [org.department.name]
    assert painpoints.pain_points(supervisor, period).reviews == len(mine) + len(theirs)
    assert painpoints.pain_points(far, period).reviews == 0
    # The unit filter narrows within the scope, never beyond it.
    assert painpoints.pain_points(handler, period, department_id=other.pk).reviews == 0
    assert painpoints.pain_points(supervisor, period, department_id=other.pk).reviews == len(theirs)


@pytest.mark.django_db
def test_only_countable_bad_reviews_of_the_period_are_analysed(org, item):
    counted = bad_review(org, item, comment="窗口排队时间太长")
    bad_review(org, item, comment="态度很好", level=5)
    bad_review(org, item, comment="系统默认差评", channel="system_default")
    old = bad_review(org, item, comment="去年排了三个小时的队", when=timezone.now() - timedelta(days=400))
    excluded = bad_review(org, item, comment="恶意差评内容")
    EvaluationExclusion.objects.create(evaluation=excluded, reason="malicious", source="case:1", at=timezone.now())
    superuser = User.objects.create(username="root", is_superuser=True)
    assert painpoints.pain_points(superuser, Period.last_months(1)).pending == 1  # the worker has not run yet
    assert services.assign_pending() == 2  # the counted one and the old one; never the excluded or the good
    result = painpoints.pain_points(superuser, Period.last_months(1))
    assert result.reviews == 1 and result.pending == 0 and _comments(result) == {counted.comment}
    wide = painpoints.pain_points(superuser, Period(timezone.localdate() - timedelta(days=500), timezone.localdate()))
    assert wide.reviews == 2 and old.comment in _comments(wide)


@pytest.mark.django_db
def test_nobody_sees_anything_without_a_scope(org, item):
    bad_review(org, item, comment="窗口排队时间太长")
    evaluator = User.objects.create(username="e1", role=Role.EVALUATOR)
    assert painpoints.pain_points(evaluator, Period.last_months(1)).reviews == 0
