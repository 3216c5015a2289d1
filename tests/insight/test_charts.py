"""The server-drawn SVG charts: valid XML, accessible names, points where the numbers say, an explicit empty chart,
no inline styles (strict CSP), and a table with the same numbers."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from haochaping.insight import charts
from haochaping.insight.charts import Series

SVG = "{http://www.w3.org/2000/svg}"


def parse(chart: charts.Chart) -> ET.Element:
    root = ET.fromstring(str(chart.svg))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text == chart.title
    assert desc is not None and desc.text == chart.desc
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "style" not in str(chart.svg)  # CSP style-src 'self': colours come from CSS classes
    return root


def frame(root):
    rect = root.find(f"{SVG}rect[@class='chart-frame']")
    return tuple(float(rect.get(k)) for k in ("x", "y", "width", "height"))


def test_nice_ticks_cover_the_maximum_with_round_steps():
    assert charts.ticks(3, integer=True) == [0, 1, 2, 3]
    assert charts.ticks(1234, integer=True) == [0, 500, 1000, 1500]
    assert charts.ticks(0.05) == pytest.approx([0, 0.02, 0.04, 0.06])
    assert charts.ticks(0.2) == pytest.approx([0, 0.05, 0.1, 0.15, 0.2])
    assert charts.ticks(0, integer=True) == [0, 1]
    for top in (1, 7, 19, 99, 101, 5000, 12345):
        t = charts.ticks(top, integer=True)
        assert t[0] == 0 and t[-1] >= top and t[-2] < top
        assert all(int(x) == x for x in t)  # never half an evaluation on a count axis


def test_line_points_scale_to_the_values():
    chart = charts.line_chart("c", "评价数趋势", ["2026-03-01", "2026-03-02", "2026-03-03"],
                              [Series("有效评价数", (0, 5, 10))])
    root = parse(chart)
    x, y, w, h = frame(root)
    points = [tuple(map(float, p.split(","))) for p in root.find(f"{SVG}polyline").get("points").split()]
    top = charts.ticks(10, integer=True)[-1]
    assert points == [(x, y + h), (x + w / 2, pytest.approx(y + h - 5 / top * h)), (x + w, pytest.approx(y + h - 10 / top * h))]
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert ticks == ["0", "5", "10"]
    assert chart.table.columns == ("日期", "有效评价数")
    assert chart.table.rows == (("2026-03-01", ("0",)), ("2026-03-02", ("5",)), ("2026-03-03", ("10",)))


def test_a_missing_rate_is_a_gap_not_a_zero():
    chart = charts.line_chart("r", "差评率趋势", ["a", "b", "c", "d", "e"],
                              [Series("差评率", (0.1, 0.2, None, 0.1, 0.05))], fmt=charts.fmt_percent, integer=False)
    root = parse(chart)
    lines = root.findall(f"{SVG}polyline")
    assert [len(p.get("points").split()) for p in lines] == [2, 2]
    assert len(root.findall(f"{SVG}circle")) == 4
    assert chart.table.rows[2] == ("c", ("—",))
    assert chart.table.rows[0] == ("a", ("10.0%",))
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert labels[-1] == "20.0%"


def test_short_axis_labels_and_full_labels_in_the_table():
    keys = [f"2026-03-{d:02d}" for d in range(1, 31)]
    chart = charts.line_chart("d", "趋势", keys, [Series("n", tuple(range(30)))], short_labels=[k[5:] for k in keys])
    root = parse(chart)
    axis = [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "middle"]
    assert axis[0] == "03-01" and len(axis) <= charts.MAX_X_LABELS
    assert chart.table.rows[0][0] == "2026-03-01"


@pytest.mark.parametrize("build", [
    lambda: charts.line_chart("e", "评价数趋势", ["2026-03-01"], [Series("n", (0,))]),
    lambda: charts.line_chart("e", "差评率趋势", ["2026-03-01", "2026-03-02"], [Series("n", (None, None))]),
    lambda: charts.bar_chart("e", "等级", [], []),
    lambda: charts.hbar_chart("e", "标签", [], []),
    lambda: charts.stacked_share_chart("e", "构成", ["甲"], [Series("好评", (0,)), Series("差评", (0,))]),
])
def test_empty_data_draws_a_no_data_chart(build):
    chart = build()
    root = parse(chart)
    assert chart.empty and chart.desc == "暂无数据"
    assert [t.text for t in root.iter(f"{SVG}text")] == ["暂无数据"]
    assert chart.table.rows == ()


def test_vertical_bars_are_as_tall_as_their_values():
    chart = charts.bar_chart("l", "评价等级分布", ["非常满意", "满意", "基本满意"], [8, 4, 0],
                             classes=["lv5", "lv4", "lv3"], share_of=12)
    root = parse(chart)
    x, y, w, h = frame(root)
    bars = root.findall(f"{SVG}rect[@class]")
    bars = [b for b in bars if b.get("class").startswith("bar")]
    assert [b.get("class") for b in bars] == ["bar lv5", "bar lv4", "bar lv3"]
    heights = [float(b.get("height")) for b in bars]
    top = charts.ticks(8, integer=True)[-1]
    assert heights == [pytest.approx(8 / top * h), pytest.approx(4 / top * h), 0]
    for b, hh in zip(bars, heights, strict=True):
        assert float(b.get("y")) + hh == pytest.approx(y + h)  # standing on the axis
    assert chart.table.rows[0] == ("非常满意", ("8", "66.7%"))


def test_horizontal_bars_scale_to_the_longest_and_escape_text():
    chart = charts.hbar_chart("h", "差评标签", ["110 <无理由> 超时", "209 未在承诺时间内办结"], [6, 3], share_of=8)
    root = parse(chart)  # a "<" in a label must not break the XML
    bars = [b for b in root.findall(f"{SVG}rect") if "bar" in b.get("class", "")]
    widths = [float(b.get("width")) for b in bars]
    assert widths[0] == pytest.approx(charts.WIDTH - charts.LABEL_WIDTH - charts.VALUE_WIDTH)
    assert widths[1] == pytest.approx(widths[0] / 2)
    assert bars[0].find(f"{SVG}title").text == "110 <无理由> 超时：6"
    assert chart.table.rows[1] == ("209 未在承诺时间内办结", ("3", "37.5%"))


def test_stacked_shares_fill_each_bar():
    chart = charts.stacked_share_chart("s", "构成", ["甲", "乙"], [
        Series("好评", (3, 0), "good"), Series("一般", (1, 0), "neutral"), Series("差评", (0, 2), "bad")])
    root = parse(chart)
    bars = [b for b in root.findall(f"{SVG}rect") if b.get("class", "").startswith("bar")]
    first = [float(b.get("width")) for b in bars if b.get("y") == bars[0].get("y")]
    length = charts.WIDTH - charts.LABEL_WIDTH - 20
    assert first == [pytest.approx(length * 0.75), pytest.approx(length * 0.25)]
    second = [b for b in bars if b.get("y") != bars[0].get("y")]
    assert [(b.get("class"), float(b.get("width"))) for b in second] == [("bar bad", pytest.approx(length))]
    assert chart.table.rows[0] == ("甲", ("3（75.0%）", "1（25.0%）", "0（0.0%）", "4"))


def test_formatting():
    assert charts.fmt_percent(None) == "—" and charts.fmt_percent(0) == "0.0%" and charts.fmt_percent(1) == "100.0%"
    assert charts.fmt_count(12345) == "12,345" and charts.fmt_count(None) == "—"
    assert charts.fmt_score(62.5) == "62.5" and charts.fmt_score(None) == "—"
