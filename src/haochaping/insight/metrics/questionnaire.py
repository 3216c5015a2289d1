"""The online questionnaire's answers (服务指引、办事程序、材料手续、操作界面 是/否) summed per item, department, hall
or platform, and the improvement suggestions behind them — read from the questionnaire counters and the redacted
suggestion rows (insight.rollups.questionnaire), never from the evaluations. Caller's scope first, as every
metrics function."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Sum

from haochaping.core.problems import invalid
from haochaping.core.scoping import scope
from haochaping.evaluation.rules import QUESTIONNAIRE

from .. import rules
from ..models import QUESTIONNAIRE_VALUES, QUESTIONS, QuestionnaireCounter, Suggestion
from . import names
from .filters import StatsFilter

BY = ("item", "department", "agency", "platform")
_COLUMNS = {"region": "region", "department": "department", "agency": "agency", "item": "item", "platform": "platform"}


@dataclass
class Answer:
    question: str
    text: str
    yes: int
    no: int

    @property
    def yes_rate(self) -> float | None:
        return rules.rate(self.yes, self.yes + self.no)


@dataclass
class QuestionnaireGroup:
    key: str
    name: str
    answered: int = 0
    suggestions: int = 0
    answers: list[Answer] = field(default_factory=list)


def _rows(actor, model, filters: StatsFilter):
    if filters.windows is not None or filters.staff is not None:
        raise invalid("问卷汇总不按窗口或工作人员筛选", "window")
    return scope(model.objects.all(), actor).filter(filters._units(_COLUMNS)).in_days(filters.date_from, filters.date_to)


def _group(key: str, name: str, sums: dict) -> QuestionnaireGroup:
    answers = [Answer(q, QUESTIONNAIRE[q], sums[f"s_{q}_yes"] or 0, sums[f"s_{q}_no"] or 0) for q in QUESTIONS]
    return QuestionnaireGroup(key, name, sums["s_answered"] or 0, sums["s_suggestions"] or 0, answers)


def summary(actor, filters: StatsFilter, by: str = "item") -> tuple[QuestionnaireGroup, list[QuestionnaireGroup]]:
    """(the total, one group per ``by`` value with answers, most answered first). One grouped query."""
    if by not in BY:
        raise invalid(f"分组维度应为以下之一：{'、'.join(BY)}", "by")
    sums = {f"s_{c}": Sum(c) for c in QUESTIONNAIRE_VALUES}
    qs = _rows(actor, QuestionnaireCounter, filters).order_by()
    rows = [(row.pop(by), row) for row in qs.values(by).annotate(**sums) if row["s_answered"]]
    labels = names.names_for(by, [k for k, _row in rows])
    groups = [_group(*labels.get(k, (str(k), str(k))), row) for k, row in rows]
    groups.sort(key=lambda g: (-g.answered, g.key))
    total_sums = {k: sum((row[k] or 0) for _k, row in rows) for k in sums}
    return _group("", "合计", total_sums), groups


@dataclass(frozen=True)
class SuggestionRow:
    day: object
    item: str
    unit: str
    text: str


def suggestions(actor, filters: StatsFilter, limit: int = 50) -> tuple[int, list[SuggestionRow]]:
    """(how many, the newest ``limit``) improvement suggestions, contact details already redacted at write time."""
    qs = _rows(actor, Suggestion, filters)
    newest = list(qs.order_by("-created_at", "-pk")[:limit])
    items = names.names_for("item", {s.item for s in newest})
    departments = names.names_for("department", {s.department for s in newest})
    agencies = names.names_for("agency", {s.agency for s in newest if s.agency})
    out = []
    for s in newest:
        unit = agencies[s.agency][1] if s.agency else departments.get(s.department, ("", ""))[1]
        out.append(SuggestionRow(s.day, items.get(s.item, ("", ""))[1], unit, s.text))
    return qs.count(), out
