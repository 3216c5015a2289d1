"""Formatting of published figures: one decimal, "—" without a denominator (never 0 % or 100 %)."""

from django import template

from haochaping.disclosure import rules

register = template.Library()


@register.filter
def pct(share):
    return rules.percent(share)


@register.filter
def points(value):
    return rules.score(value)


@register.filter
def score3(value):
    return rules.score(value, 3)


@register.filter
def yesno_dash(value):
    return "—" if value is None else ("是" if value else "否")


@register.filter
def label_texts(labels: str) -> str:
    """A published case's labels as a reader reads them: "108 在办事指南之外…；207 …" without the national codes,
    which the open data keeps for machines."""
    return "；".join(part.split(" ", 1)[-1] for part in labels.split("；")) if labels else labels
