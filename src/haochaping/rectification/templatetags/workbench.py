"""Small display helpers for the workbench templates."""

from django import template

from haochaping.evaluation.rules import level_text as _level_text

register = template.Library()


@register.filter
def case_no(case) -> str:
    """案件编号 as staff quote it: six digits."""
    return f"{case.pk:06d}"


@register.filter
def level_text(level) -> str:
    try:
        return _level_text(int(level))
    except (TypeError, ValueError, KeyError, IndexError):
        return ""


@register.filter
def percent(value) -> str:
    """A rate in [0, 1] as a percentage; "—" when there is no denominator (never 0 % or 100 %)."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}%"
