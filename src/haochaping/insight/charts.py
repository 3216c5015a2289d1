"""Server-side SVG charts for the dashboards: line, vertical bar, horizontal bar and 100 % stacked bar.

Rendered here, in Python, so the pages need no chart library, no CDN and no JavaScript, and pass the strict CSP:
the SVG carries geometry only (x, y, width …); colours come from CSS classes in insight/dashboard.css. Every chart
has a <title> and <desc> (its accessible name and a one-line summary) and carries the same numbers as a
:class:`Table`, which the template shows as a table view for screen readers and for anyone who wants the figures.

Pure: no I/O, no Django models. Callers pass labels and numbers that already come from ``insight.metrics``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
EMPTY_TEXT = "暂无数据"
Number = float | int | None


def fmt_count(value: Number) -> str:
    return "—" if value is None else f"{int(value):,}"


def fmt_percent(value: Number) -> str:
    """A share in [0, 1] as a percentage; "—" without a denominator (never 0 % or 100 %)."""
    return "—" if value is None else f"{value * 100:.1f}%"


def fmt_score(value: Number) -> str:
    return "—" if value is None else f"{value:.1f}"


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[Number, ...]
    css: str = "s0"  # CSS class giving the colour


@dataclass(frozen=True)
class Table:
    """The chart's numbers as a table: ``columns[0]`` heads the row headers, each row is (header, cells)."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    desc: str
    svg: SafeString
    table: Table

    @property
    def empty(self) -> bool:
        return not self.table.rows


# --- scales -------------------------------------------------------------------------------------------------------


def nice_step(raw: float, integer: bool = False) -> float:
    """The smallest of 1, 2, 5 × 10ⁿ that is at least ``raw`` (at least 1 for counts)."""
    if raw <= 0:
        return 1.0
    exponent = math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        step = factor * 10**exponent
        if step >= raw * (1 - 1e-9):
            break
    return max(step, 1.0) if integer else step


def ticks(maximum: float, count: int = 4, integer: bool = False) -> list[float]:
    """Axis ticks from 0 to a round top at or above ``maximum``, about ``count`` steps."""
    step = nice_step(maximum / count if maximum > 0 else 0, integer)
    top = step * max(1, math.ceil(maximum / step - 1e-9))
    n = int(round(top / step))
    return [round(i * step, 12) for i in range(n + 1)]


def scale(value: float, top: float, length: float) -> float:
    """``value`` on an axis from 0 to ``top`` mapped to 0…``length``."""
    return 0.0 if top <= 0 else value / top * length


def _n(x: float) -> str:
    """A coordinate, short and exact enough."""
    return f"{x:.1f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def _svg(chart_id: str, title: str, desc: str, height: int, body: list[str]) -> SafeString:
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" class="chart-svg" role="img" '
        f'aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d">'
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title><desc id="{escape(chart_id)}-d">{escape(desc)}</desc>'
        + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, content: str, css: str, anchor: str = "start") -> str:
    return f'<text x="{_n(x)}" y="{_n(y)}" class="{css}" text-anchor="{anchor}">{escape(content)}</text>'


def _empty(chart_id: str, title: str, table: Table) -> Chart:
    height = 120
    body = [
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" class="chart-frame"/>',
        _text(WIDTH / 2, height / 2 + 6, EMPTY_TEXT, "chart-empty", "middle"),
    ]
    return Chart(chart_id, title, EMPTY_TEXT, _svg(chart_id, title, EMPTY_TEXT, height, body), Table(table.caption, table.columns, ()))


def _short(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _legend(series: Sequence[Series], y: float) -> list[str]:
    out, x = [], 60.0
    for s in series:
        out.append(f'<rect x="{_n(x)}" y="{_n(y - 10)}" width="12" height="12" class="swatch {s.css}"/>')
        out.append(_text(x + 18, y, s.name, "legend"))
        x += 36 + 14 * len(s.name)
    return out


# --- line ---------------------------------------------------------------------------------------------------------

LINE_HEIGHT = 260
LINE_MARGIN = {"left": 64, "right": 20, "top": 28, "bottom": 40}
MAX_X_LABELS = 8
MAX_MARKERS = 62


def line_chart(chart_id: str, title: str, x_labels: Sequence[str], series: Sequence[Series], *,
               fmt: Callable[[Number], str] = fmt_count, x_name: str = "日期", integer: bool = True,
               short_labels: Sequence[str] | None = None) -> Chart:
    """One polyline per series over ``x_labels``; a None value is a gap (no denominator), not a zero.
    ``short_labels`` (e.g. "03-01" for "2026-03-01") label the axis; the table keeps ``x_labels``."""
    table = Table(title, (x_name, *(s.name for s in series)),
                  tuple((x, tuple(fmt(s.values[i]) for s in series)) for i, x in enumerate(x_labels)))
    values = [v for s in series for v in s.values if v is not None]
    if not x_labels or not values or not any(values):
        return _empty(chart_id, title, table)
    m = LINE_MARGIN
    plot_w, plot_h = WIDTH - m["left"] - m["right"], LINE_HEIGHT - m["top"] - m["bottom"]
    axis = ticks(max(values), integer=integer)
    top = axis[-1]
    n = len(x_labels)

    def x_at(i: int) -> float:
        return m["left"] + (plot_w / 2 if n == 1 else i * plot_w / (n - 1))

    def y_at(v: float) -> float:
        return m["top"] + plot_h - scale(v, top, plot_h)

    body = [f'<rect x="{m["left"]}" y="{m["top"]}" width="{plot_w}" height="{plot_h}" class="chart-frame"/>']
    for t in axis:
        y = y_at(t)
        body.append(f'<line x1="{m["left"]}" y1="{_n(y)}" x2="{m["left"] + plot_w}" y2="{_n(y)}" class="grid"/>')
        body.append(_text(m["left"] - 6, y + 4, fmt(t), "tick", "end"))
    axis_labels = short_labels or x_labels
    every = max(1, math.ceil(n / MAX_X_LABELS))
    for i in range(0, n, every):
        body.append(_text(x_at(i), LINE_HEIGHT - m["bottom"] + 18, axis_labels[i], "tick", "middle"))
    for s in series:
        segment: list[str] = []
        segments = [segment]
        for i, v in enumerate(s.values):
            if v is None:
                segment = []
                segments.append(segment)
            else:
                segment.append(f"{_n(x_at(i))},{_n(y_at(v))}")
        for seg in segments:
            if len(seg) > 1:
                body.append(f'<polyline points="{" ".join(seg)}" class="line {s.css}"/>')
        if n <= MAX_MARKERS or any(len(seg) == 1 for seg in segments):
            for i, v in enumerate(s.values):
                if v is not None:
                    body.append(f'<circle cx="{_n(x_at(i))}" cy="{_n(y_at(v))}" r="3" class="point {s.css}">'
                                f"<title>{escape(s.name)} {escape(x_labels[i])}：{escape(fmt(v))}</title></circle>")
    if len(series) > 1:
        body += _legend(series, 18)
    desc = _line_desc(x_labels, series, fmt)
    return Chart(chart_id, title, desc, _svg(chart_id, title, desc, LINE_HEIGHT, body), table)


def _line_desc(x_labels: Sequence[str], series: Sequence[Series], fmt) -> str:
    parts = []
    for s in series:
        known = [(x, v) for x, v in zip(x_labels, s.values, strict=True) if v is not None]
        if known:
            high = max(known, key=lambda xv: xv[1])
            parts.append(f"{s.name}：最高 {fmt(high[1])}（{high[0]}），最近 {fmt(known[-1][1])}（{known[-1][0]}）")
    return f"{x_labels[0]} 至 {x_labels[-1]}，共 {len(x_labels)} 个时点。" + "；".join(parts)


# --- vertical bars ------------------------------------------------------------------------------------------------

BAR_HEIGHT = 240
BAR_MARGIN = {"left": 64, "right": 16, "top": 24, "bottom": 40}


def _category_table(title: str, categories: Sequence[str], values: Sequence[Number], fmt: Callable[[Number], str],
                    name: str, x_name: str, share_of: int | None) -> Table:
    """The table view of a bar chart: category, value, and with ``share_of`` each value's share of it."""
    columns = (x_name, name) + (("占比",) if share_of is not None else ())
    rows = tuple(
        (c, (fmt(v),) + ((fmt_percent(None if not share_of else (v or 0) / share_of),) if share_of is not None else ()))
        for c, v in zip(categories, values, strict=True)
    )
    return Table(title, columns, rows)


def bar_chart(chart_id: str, title: str, categories: Sequence[str], values: Sequence[Number], *,
              fmt: Callable[[Number], str] = fmt_count, name: str = "数量", x_name: str = "类别",
              classes: Sequence[str] | None = None, integer: bool = True, share_of: int | None = None) -> Chart:
    """One vertical bar per category (a handful: e.g. the five levels). ``share_of`` adds a share column."""
    table = _category_table(title, categories, values, fmt, name, x_name, share_of)
    if not categories or not any(v for v in values if v):
        return _empty(chart_id, title, table)
    m = BAR_MARGIN
    plot_w, plot_h = WIDTH - m["left"] - m["right"], BAR_HEIGHT - m["top"] - m["bottom"]
    axis = ticks(max(v or 0 for v in values), integer=integer)
    top = axis[-1]
    band = plot_w / len(categories)
    body = [f'<rect x="{m["left"]}" y="{m["top"]}" width="{plot_w}" height="{plot_h}" class="chart-frame"/>']
    for t in axis:
        y = m["top"] + plot_h - scale(t, top, plot_h)
        body.append(f'<line x1="{m["left"]}" y1="{_n(y)}" x2="{m["left"] + plot_w}" y2="{_n(y)}" class="grid"/>')
        body.append(_text(m["left"] - 6, y + 4, fmt(t), "tick", "end"))
    for i, (c, v) in enumerate(zip(categories, values, strict=True)):
        h = scale(v or 0, top, plot_h)
        x = m["left"] + i * band + band * 0.2
        y = m["top"] + plot_h - h
        css = classes[i] if classes else "s0"
        body.append(f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(band * 0.6)}" height="{_n(h)}" class="bar {css}">'
                    f"<title>{escape(c)}：{escape(fmt(v))}</title></rect>")
        body.append(_text(x + band * 0.3, y - 5, fmt(v), "value", "middle"))
        body.append(_text(x + band * 0.3, BAR_HEIGHT - m["bottom"] + 18, _short(c, 8), "tick", "middle"))
    desc = "；".join(f"{c} {fmt(v)}" for c, v in zip(categories, values, strict=True))
    return Chart(chart_id, title, desc, _svg(chart_id, title, desc, BAR_HEIGHT, body), table)


# --- horizontal bars ----------------------------------------------------------------------------------------------

ROW = 30
LABEL_WIDTH = 190
VALUE_WIDTH = 80
H_TOP, H_BOTTOM = 10, 10


def hbar_chart(chart_id: str, title: str, categories: Sequence[str], values: Sequence[Number], *,
               fmt: Callable[[Number], str] = fmt_count, name: str = "数量", x_name: str = "类别",
               share_of: int | None = None, css: str = "s0") -> Chart:
    """One horizontal bar per category, longest scale = the largest value; for ranked lists (channels, labels)."""
    table = _category_table(title, categories, values, fmt, name, x_name, share_of)
    if not categories or not any(v for v in values if v):
        return _empty(chart_id, title, table)
    height = H_TOP + ROW * len(categories) + H_BOTTOM
    length = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    top = max(v or 0 for v in values)
    body = []
    for i, (c, v) in enumerate(zip(categories, values, strict=True)):
        y = H_TOP + i * ROW
        w = scale(v or 0, top, length)
        body.append(_text(LABEL_WIDTH - 8, y + ROW / 2 + 5, _short(c, 13), "tick", "end"))
        body.append(f'<rect x="{LABEL_WIDTH}" y="{_n(y + 6)}" width="{_n(w)}" height="{ROW - 12}" class="bar {css}">'
                    f"<title>{escape(c)}：{escape(fmt(v))}</title></rect>")
        body.append(_text(LABEL_WIDTH + w + 6, y + ROW / 2 + 5, fmt(v), "value"))
    body.append(f'<line x1="{LABEL_WIDTH}" y1="{H_TOP}" x2="{LABEL_WIDTH}" y2="{height - H_BOTTOM}" class="axis"/>')
    desc = "；".join(f"{c} {fmt(v)}" for c, v in zip(categories, values, strict=True))
    return Chart(chart_id, title, desc, _svg(chart_id, title, desc, height, body), table)


# --- 100 % stacked horizontal bars --------------------------------------------------------------------------------

STACK_TOP = 34


def stacked_share_chart(chart_id: str, title: str, categories: Sequence[str], series: Sequence[Series], *,
                        x_name: str = "类别") -> Chart:
    """Each category's composition (counts in ``series``, e.g. 好评/一般/差评) as one bar of 100 %; the table
    gives the counts and shares. A category with nothing counted is listed with an empty bar."""
    totals = [sum((s.values[i] or 0) for s in series) for i in range(len(categories))]
    columns = (x_name, *(f"{s.name}（占比）" for s in series), "合计")
    rows = tuple(
        (c, (*(f"{fmt_count(s.values[i])}（{fmt_percent(None if not totals[i] else (s.values[i] or 0) / totals[i])}）"
               for s in series), fmt_count(totals[i])))
        for i, c in enumerate(categories)
    )
    table = Table(title, columns, rows)
    if not categories or not any(totals):
        return _empty(chart_id, title, table)
    height = STACK_TOP + ROW * len(categories) + 26
    length = WIDTH - LABEL_WIDTH - 20
    body = _legend(series, 18)
    for i, c in enumerate(categories):
        y = STACK_TOP + i * ROW
        body.append(_text(LABEL_WIDTH - 8, y + ROW / 2 + 5, _short(c, 13), "tick", "end"))
        x = float(LABEL_WIDTH)
        for s in series:
            v = s.values[i] or 0
            w = scale(v, totals[i], length)
            if w > 0:
                body.append(f'<rect x="{_n(x)}" y="{_n(y + 6)}" width="{_n(w)}" height="{ROW - 12}" class="bar {s.css}">'
                            f"<title>{escape(c)} {escape(s.name)}：{fmt_count(v)}（{fmt_percent(v / totals[i])}）</title></rect>")
            x += w
    bottom = STACK_TOP + ROW * len(categories)
    for share in (0, 0.5, 1):
        x = LABEL_WIDTH + share * length
        body.append(f'<line x1="{_n(x)}" y1="{STACK_TOP}" x2="{_n(x)}" y2="{bottom}" class="grid"/>')
        body.append(_text(x, bottom + 18, f"{int(share * 100)}%", "tick", "middle"))
    desc = "；".join(
        f"{c}：" + "，".join(f"{s.name} {fmt_percent(None if not totals[i] else (s.values[i] or 0) / totals[i])}" for s in series)
        for i, c in enumerate(categories)
    )
    return Chart(chart_id, title, desc, _svg(chart_id, title, desc, height, body), table)
