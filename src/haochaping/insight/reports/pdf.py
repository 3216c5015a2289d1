"""A report as a PDF: title, period and region, then each section as a titled table. Text is set in the system's
CJK font, embedded in the file (core.pdf_fonts), so the report renders the same on any machine it is sent to.
Long tables stop at ``MAX_ROWS`` rows with a note that the workbook has them all. Pure: content in, bytes out."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from django.utils import timezone

from haochaping.core.pdf_fonts import CJK_FONT, register_cjk_font

from .content import ReportContent
from .sections import INT, RATE, SCORE, Section

MAX_ROWS = 40
NONE = "—"


def _text(kind: str, value) -> str:
    if value is None:
        return NONE
    if kind == RATE:
        return f"{value * 100:.1f}%"
    if kind == SCORE:
        return f"{value:.1f}"
    if kind == INT:
        return f"{value:d}" if isinstance(value, int) else str(value)
    return str(value)


def _styles():
    from reportlab.lib.styles import ParagraphStyle

    base = ParagraphStyle("cjk", fontName=CJK_FONT, fontSize=8, leading=10, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=24, alignment=1, spaceAfter=6),
        "meta": ParagraphStyle("meta", parent=base, fontSize=10, leading=14, alignment=1),
        "h2": ParagraphStyle("h2", parent=base, fontSize=12, leading=16, spaceBefore=10, spaceAfter=4),
        "cell": base,
        "head": ParagraphStyle("head", parent=base, textColor="#1f2d3d"),
        "note": ParagraphStyle("note", parent=base, fontSize=8, leading=11, textColor="#444444", spaceBefore=3),
    }


def _table(section: Section, styles, width: float):
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    def para(text, style):
        return Paragraph(escape(text), style)

    rows = [[para(c.title, styles["head"]) for c in section.columns]]
    for raw_row in section.rows[:MAX_ROWS]:
        cells = []
        for column, raw in zip(section.columns, raw_row, strict=True):
            kind, value = raw if column.kind == "mixed" else (column.kind, raw)
            cells.append(para(_text(kind, value), styles["cell"]))
        rows.append(cells)
    if not section.rows:
        rows.append([para("（无）", styles["cell"])] + [""] * (len(section.columns) - 1))
    # Text columns get more room than figures.
    weights = [3 if c.kind in ("text", "mixed") else 1.4 for c in section.columns]
    total = sum(weights)
    table = Table(rows, colWidths=[width * w / total for w in weights], repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), CJK_FONT),  # plain-string cells too, or reportlab names Helvetica
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa5b1")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde5f0")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


def render(content: ReportContent) -> bytes:
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    register_cjk_font()
    styles = _styles()
    buffer = io.BytesIO()
    # Landscape: the figure tables have up to 13 columns.
    page = landscape(A4)
    doc = SimpleDocTemplate(buffer, pagesize=page, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, initialFontName=CJK_FONT, title=content.title,
                            author="政务服务“好差评”系统")
    generated = timezone.localtime(content.generated_at).strftime("%Y-%m-%d %H:%M")
    story = [
        Paragraph(escape(content.title), styles["title"]),
        Paragraph(escape(f"行政区划：{content.region_name}（{content.region_code}）"), styles["meta"]),
        Paragraph(escape(f"统计期间：{content.period.label}（{content.period.start.isoformat()} 至 "
                         f"{content.period.end.isoformat()}）"), styles["meta"]),
        Paragraph(escape(f"生成时间：{generated}　内部资料，注意保管"), styles["meta"]),
        Spacer(1, 6 * mm),
    ]
    for section in content.sections:
        story.append(Paragraph(escape(section.title), styles["h2"]))
        story.append(_table(section, styles, doc.width))
        notes = [section.note] if section.note else []
        if len(section.rows) > MAX_ROWS:
            notes.append(f"共{len(section.rows)}行，此处列出前{MAX_ROWS}行，完整内容见Excel文件“{section.name}”工作表。")
        for note in notes:
            story.append(Paragraph(escape(f"说明：{note}"), styles["note"]))

    def footer(canvas, doc_):
        canvas.saveState()
        canvas.setFont(CJK_FONT, 8)
        canvas.drawCentredString(page[0] / 2, 8 * mm, f"{content.title}　第{doc_.page}页")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
