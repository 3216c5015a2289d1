"""The rules of a survey, pure: question kinds and themes, what a valid question and a valid answer are, and how a
scale answer becomes a 0–100 score."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models.enums import TextChoices
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MAX_OPTIONS = 20
MAX_TEXT = 2000
SCALE_MIN_MAX, SCALE_MAX_MAX = 3, 10  # a scale runs 1..n, n between these


class Kind(TextChoices):
    SINGLE = "single", gettext_lazy("单选")
    MULTIPLE = "multiple", gettext_lazy("多选")
    SCALE = "scale", gettext_lazy("量表打分")
    TEXT = "text", gettext_lazy("文字")


class Theme(TextChoices):
    POLICY = "policy", gettext_lazy("政策知悉度")
    CONVENIENCE = "convenience", gettext_lazy("办事便利度")
    SATISFACTION = "satisfaction", gettext_lazy("服务满意度")
    OTHER = "other", gettext_lazy("其他")


@dataclass(frozen=True)
class Question:
    id: int
    kind: str
    text: str
    required: bool = True
    options: tuple[str, ...] = ()
    scale_max: int = 5


@dataclass
class Answer:
    question_id: int
    choices: list[int] = field(default_factory=list)  # option indexes (single: one)
    scale: int | None = None
    text: str = ""

    @property
    def empty(self) -> bool:
        return not self.choices and self.scale is None and not self.text


def question_errors(kind: str, text: str, options: list[str], scale_max: int | None) -> dict[str, str]:
    """Errors by field of a question being added (empty when valid)."""
    errors = {}
    if kind not in Kind.values:
        errors["kind"] = _("请选择题型")
    if not text.strip():
        errors["text"] = _("请填写题目")
    elif len(text) > 500:
        errors["text"] = _("题目不能超过500字")
    if kind in (Kind.SINGLE, Kind.MULTIPLE):
        cleaned = [o.strip() for o in options if o.strip()]
        if len(cleaned) < 2:
            errors["options"] = _("选择题至少需要2个选项（每行一个）")
        elif len(cleaned) > MAX_OPTIONS:
            errors["options"] = _("选项不能超过%(n)s个") % {"n": MAX_OPTIONS}
        elif len(set(cleaned)) != len(cleaned):
            errors["options"] = _("选项不能重复")
    if kind == Kind.SCALE and (scale_max is None or not SCALE_MIN_MAX <= scale_max <= SCALE_MAX_MAX):
        errors["scale_max"] = _("量表最高分应在%(lo)s至%(hi)s之间") % {"lo": SCALE_MIN_MAX, "hi": SCALE_MAX_MAX}
    return errors


def field_name(question: Question) -> str:
    """The form field of a question's answer ("q12")."""
    return f"q{question.id}"


def _int(value: str) -> int | None:
    try:
        return int(value.strip())
    except (ValueError, AttributeError):
        return None


def parse_answers(questions: list[Question], data: dict[str, list[str]]) -> tuple[list[Answer], dict[str, str]]:
    """The answers in a submitted form (``data``: field name → submitted values) and the errors by field name.
    Every question is checked, so the page can show all errors at once; on any error nothing is to be stored."""
    answers, errors = [], {}
    for n, q in enumerate(questions, start=1):
        name = field_name(q)
        values = [v for v in data.get(name, []) if v is not None and str(v).strip() != ""]
        label = _("第%(n)s题") % {"n": n}
        a = Answer(q.id)
        if q.kind in (Kind.SINGLE, Kind.MULTIPLE):
            picked = [_int(v) for v in values]
            if any(p is None or not 0 <= p < len(q.options) for p in picked):
                errors[name] = _("%(q)s的选项无效，请重新选择") % {"q": label}
                continue
            if q.kind == Kind.SINGLE and len(picked) > 1:
                errors[name] = _("%(q)s只能选择一项") % {"q": label}
                continue
            a.choices = sorted(set(picked))
        elif q.kind == Kind.SCALE:
            if len(values) > 1:
                errors[name] = _("%(q)s只能打一个分") % {"q": label}
                continue
            if values:
                score = _int(values[0])
                if score is None or not 1 <= score <= q.scale_max:
                    errors[name] = _("%(q)s的分数应为1至%(max)s之间的整数") % {"q": label, "max": q.scale_max}
                    continue
                a.scale = score
        else:
            text = "\n".join(str(v) for v in values).strip()
            if len(text) > MAX_TEXT:
                errors[name] = _("%(q)s不能超过%(n)s字") % {"q": label, "n": MAX_TEXT}
                continue
            a.text = text
        if q.required and a.empty:
            errors[name] = _("%(q)s为必答题，请作答") % {"q": label}
            continue
        if not a.empty:
            answers.append(a)
    return answers, errors


def scale_score(value: int, scale_max: int) -> float:
    """A scale answer on 0–100: the lowest mark is 0, the highest 100, linear in between."""
    return (value - 1) * 100.0 / (scale_max - 1)
