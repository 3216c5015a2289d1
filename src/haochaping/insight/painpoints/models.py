"""Stored pain-point data: each bad review's kind (computed by the worker, read by the pages and the API), and the
kinds supervisors promoted from emerging topics."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PainPointAssignment(models.Model):
    """The problem kind of one bad review's comment, with the classifier's confidence and the comment's embedding
    (float16, for clustering the unclassified ones into emerging topics). ``kind`` is "" for unclassified.
    Recomputed when ``version`` is older than the classifier's (:data:`.classify.VERSION` plus promoted kinds)."""

    evaluation = models.OneToOneField(
        "evaluation.Evaluation", on_delete=models.CASCADE, primary_key=True, related_name="pain_point",
        verbose_name=_("评价"),
    )
    kind = models.CharField(_("问题类型"), max_length=40, blank=True, db_index=True)
    confidence = models.FloatField(_("置信度"), default=0.0)
    version = models.CharField(_("分类器版本"), max_length=40)
    vector = models.BinaryField(_("文本向量"), blank=True, default=b"")
    assigned_at = models.DateTimeField(_("分类时间"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("差评问题分类")
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"{self.evaluation_id}: {self.kind or '-'}"


class PainPointKind(models.Model):
    """A problem kind a supervisor promoted from an emerging topic; added to the built-in taxonomy."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100, unique=True)
    definition = models.TextField(_("定义"), blank=True)
    examples = models.TextField(_("示例表述"), help_text=_("每行一条"))
    created_by = models.CharField(_("提出人"), max_length=150)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("新增问题类型")
        verbose_name_plural = verbose_name
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class PainPointSnapshot(models.Model):
    """The default-period analysis of one whole-region scope, computed by the worker (``insight.tasks``) so that the
    page reads one row instead of analysing up to 100,000 bad reviews per request (issue 14). ``scope`` is "*" for
    everything or the region prefix ("3701"); ``version`` the classifier's and the analysis's versions, so a
    promoted kind or a new method is never served from an older snapshot. ``result`` is the analysis, the filter
    choices and the regions, serialised by :mod:`.snapshots` (plain JSON: no code is loaded from the database);
    ``ids`` the evaluations behind each topic, not read by the page."""

    scope = models.CharField(_("范围"), max_length=12)
    period_start = models.DateField(_("开始日期"))
    period_end = models.DateField(_("结束日期"))
    version = models.CharField(_("版本"), max_length=60)
    computed_at = models.DateTimeField(_("分析时间"))
    result = models.JSONField(_("分析结果"))
    # The evaluation ids of each topic, apart: up to 200,000 numbers the page never shows (it reads ``result`` only).
    ids = models.JSONField(_("各问题的评价"), default=dict)

    class Meta:
        verbose_name = _("差评痛点分析快照")
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["scope", "period_start", "period_end", "version"],
                                               name="painpoint_snapshot_unique")]

    def __str__(self) -> str:
        return f"{self.scope} {self.period_start}..{self.period_end} @ {self.computed_at:%Y-%m-%d %H:%M}"
