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
