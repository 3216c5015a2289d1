"""Reading a survey's answers: the filtered responses, each question's tallies, bar charts drawn as SVG on the
server (no script, no CDN), the Excel export, and ``survey_scores`` for the appraisal indicators."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from html import escape

from django.db.models import Count
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from haochaping.org.models import Region

from . import rules
from .models import Survey, SurveyAnswer, SurveyQuestion, SurveyResponse

TEXTS_SHOWN = 50


@dataclass
class Filters:
    region: str = ""  # a region code: its subtree
    item: int | None = None
    channel: str = ""
    start: date | None = None
    end: date | None = None


def _aware(d: date):
    return timezone.make_aware(datetime.combine(d, time.min), timezone.get_current_timezone())


def responses(survey: Survey, filters: Filters | None = None):
    f = filters or Filters()
    qs = SurveyResponse.objects.filter(survey=survey)
    if f.region:
        qs = qs.filter(region__in=Region.objects.subtree(f.region))
    if f.item:
        qs = qs.filter(item_id=f.item)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.start:
        qs = qs.filter(submitted_at__gte=_aware(f.start))
    if f.end:
        qs = qs.filter(submitted_at__lt=_aware(f.end + timedelta(days=1)))
    return qs


@dataclass
class QuestionResult:
    question: SurveyQuestion
    answered: int = 0
    options: list[tuple[str, int]] = field(default_factory=list)  # (option, count)
    distribution: list[tuple[str, int]] = field(default_factory=list)  # scale: (mark, count)
    mean: float | None = None
    score: float | None = None  # mean on 0–100
    texts: list[str] = field(default_factory=list)

    @property
    def chart(self) -> SafeString:
        rows = self.options or self.distribution
        return bar_chart(self.question.text, rows, f"chart-q{self.question.pk}") if rows else mark_safe("")


def summary(survey: Survey, filters: Filters | None = None) -> tuple[int, list[QuestionResult]]:
    """(responses counted, each question's result) under the filters."""
    chosen = responses(survey, filters)
    total = chosen.count()
    answers = SurveyAnswer.objects.filter(response__in=chosen)
    out = []
    for q in survey.questions.order_by("position"):
        result = QuestionResult(q)
        mine = answers.filter(question=q)
        if q.kind in (rules.Kind.SINGLE, rules.Kind.MULTIPLE):
            counts: Counter[int] = Counter()
            for choices in mine.values_list("choices", flat=True):
                result.answered += 1
                counts.update(choices or [])
            result.options = [(option, counts.get(i, 0)) for i, option in enumerate(q.options)]
        elif q.kind == rules.Kind.SCALE:
            marks = dict(mine.exclude(scale=None).order_by().values_list("scale").annotate(n=Count("pk")))
            result.answered = sum(marks.values())
            result.distribution = [(str(m), marks.get(m, 0)) for m in range(1, q.scale_max + 1)]
            if result.answered:
                result.mean = sum(m * n for m, n in marks.items()) / result.answered
                result.score = rules.scale_score(result.mean, q.scale_max)
        else:
            texts = mine.exclude(text="").order_by("-response__submitted_at", "-pk")
            result.answered = texts.count()
            result.texts = list(texts.values_list("text", flat=True)[:TEXTS_SHOWN])
        out.append(result)
    return total, out


def bar_chart(title: str, rows: list[tuple[str, int]], ident: str = "chart") -> SafeString:
    """A horizontal bar chart as inline SVG: one bar per row with its count, titled for screen readers."""
    label_w, bar_w, row_h = 160, 160, 26
    top = max((n for _label, n in rows), default=0) or 1
    height = row_h * len(rows) + 4
    parts = [f'<svg class="survey-chart" viewBox="0 0 {label_w + bar_w + 60} {height}" role="img" '
             f'aria-labelledby="{escape(ident)}"><title id="{escape(ident)}">{escape(title)}</title>']
    for n, (label, count) in enumerate(rows):
        y = n * row_h + 2
        width = round(bar_w * count / top, 1)
        short = label if len(label) <= 10 else label[:9] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" font-size="13">{escape(short)}</text>'
                     f'<rect x="{label_w}" y="{y + 4}" width="{width}" height="{row_h - 8}" fill="#1d5fa8"/>'
                     f'<text x="{label_w + width + 6}" y="{y + 17}" font-size="13">{count}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def export_xlsx(survey: Survey, filters: Filters | None = None) -> bytes:
    """One row per response (time, channel, region, item, then each question's answer); a second sheet with the
    tallies. Names and phones are never exported."""
    from openpyxl import Workbook

    questions = list(survey.questions.order_by("position"))
    book = Workbook()
    sheet = book.active
    sheet.title = _("答卷")
    sheet.append([_("提交时间"), _("渠道"), _("行政区划"), _("事项")] + [f"{q.position}. {q.text}" for q in questions])
    chosen = responses(survey, filters).select_related("region", "item").order_by("submitted_at", "pk")
    by_response: dict[int, dict[int, SurveyAnswer]] = defaultdict(dict)
    for a in SurveyAnswer.objects.filter(response__in=chosen):
        by_response[a.response_id][a.question_id] = a
    for r in chosen:
        row = [timezone.localtime(r.submitted_at).strftime("%Y-%m-%d %H:%M"), r.get_channel_display(),
               r.region.name if r.region else "", r.item.name if r.item else ""]
        for q in questions:
            a = by_response[r.pk].get(q.pk)
            if a is None:
                row.append("")
            elif q.kind in (rules.Kind.SINGLE, rules.Kind.MULTIPLE):
                row.append("；".join(q.options[i] for i in a.choices if 0 <= i < len(q.options)))
            elif q.kind == rules.Kind.SCALE:
                row.append(a.scale)
            else:
                row.append(a.text)
        sheet.append(row)
    tally = book.create_sheet(_("统计"))
    total, results = summary(survey, filters)
    tally.append([_("答卷数"), total])
    for res in results:
        tally.append([])
        tally.append([f"{res.question.position}. {res.question.text}", res.question.get_kind_display(),
                      res.question.get_theme_display(), _("作答人数"), res.answered])
        for label, count in res.options or res.distribution:
            tally.append(["", label, count])
        if res.score is not None:
            tally.append(["", _("平均分"), round(res.mean, 2), _("折合百分制"), round(res.score, 1)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def survey_scores(unit_ids, start: date, end: date) -> dict[int, float | None]:
    """Per unit (department id): the mean of the 服务满意度 scale answers about it submitted in [start, end]
    (dates, inclusive), each on 0–100 (rules.scale_score); None for a unit without such answers. Answers from
    open links name no unit and are not counted."""
    rows = (SurveyAnswer.objects.filter(
        question__kind=rules.Kind.SCALE, question__theme=rules.Theme.SATISFACTION, scale__isnull=False,
        response__department_id__in=list(unit_ids), response__submitted_at__gte=_aware(start),
        response__submitted_at__lt=_aware(end + timedelta(days=1)))
        .order_by().values("response__department_id", "question__scale_max", "scale").annotate(n=Count("pk")))
    sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0])
    for r in rows:
        s = sums[r["response__department_id"]]
        s[0] += rules.scale_score(r["scale"], r["question__scale_max"]) * r["n"]
        s[1] += r["n"]
    return {u: (sums[u][0] / sums[u][1] if u in sums and sums[u][1] else None) for u in unit_ids}


__all__ = ["Filters", "QuestionResult", "bar_chart", "export_xlsx", "responses", "summary", "survey_scores"]
