"""A report as an Excel workbook: one sheet per section, Chinese headers, numbers stored as numbers (rates as
shares formatted as percentages, 满意度 with one decimal), "—" where a figure has no denominator. Pure rendering:
content in, bytes out."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .content import ReportContent
from .sections import INT, RATE, SCORE, Section

NONE = "—"
FORMATS = {INT: "0", RATE: "0.0%", SCORE: "0.0"}
_HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")


def _cell(kind: str, value):
    """(value, number format) of one cell."""
    if value is None:
        return NONE, None
    if kind in FORMATS:
        return value, FORMATS[kind]
    return str(value), None


def _width(value) -> int:
    # CJK characters take about two columns.
    text = str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _sheet(wb: Workbook, content: ReportContent, section: Section, first: bool) -> None:
    ws = wb.active if first else wb.create_sheet()
    ws.title = section.name[:31]
    ws.append([section.title])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([f"{content.title}　统计期间：{content.period.start.isoformat()} 至 {content.period.end.isoformat()}"])
    header_row = 3
    ws.append([c.title for c in section.columns])
    for col in range(1, len(section.columns) + 1):
        cell = ws.cell(row=header_row, column=col)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    widths = [_width(c.title) for c in section.columns]
    for r, row in enumerate(section.rows, start=header_row + 1):
        for c, (column, raw) in enumerate(zip(section.columns, row, strict=True), start=1):
            kind, value = raw if column.kind == "mixed" else (column.kind, raw)
            value, fmt = _cell(kind, value)
            cell = ws.cell(row=r, column=c, value=value)
            if fmt:
                cell.number_format = fmt
            widths[c - 1] = max(widths[c - 1], min(_width(value), 60))
    if not section.rows:
        ws.cell(row=header_row + 1, column=1, value="（无）")
    if section.note:
        ws.cell(row=ws.max_row + 2, column=1, value=f"说明：{section.note}")
    for c, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = max(8, w + 2)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)


def render(content: ReportContent) -> bytes:
    wb = Workbook()
    wb.properties.title = content.title
    wb.properties.creator = "政务服务“好差评”系统"
    for i, section in enumerate(content.sections):
        _sheet(wb, content, section, first=i == 0)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
