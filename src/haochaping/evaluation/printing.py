"""Printed matter: the QR sign at each window (SVG and PDF) and the numbered paper evaluation forms (PDF).

Pure rendering: data in, bytes out. PDFs are set in the system's CJK font, embedded in the file (core.pdf_fonts),
so a sign or form prints the same on any machine.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from xml.sax.saxutils import escape

import segno

from haochaping.core.pdf_fonts import CJK_FONT, register_cjk_font

from . import rules

SIGN_INSTRUCTIONS = "请用手机扫描二维码，输入办件回执上的办件编号和验证码，对本次服务作出评价"
SIGN_TITLE = "政务服务“好差评”"


@dataclass(frozen=True)
class Sign:
    window_name: str
    agency_name: str
    url: str


def qr_modules(url: str) -> list[tuple[int, int]]:
    """(column, row) of every dark module of the QR code for ``url`` (error correction M, no quiet zone)."""
    qr = segno.make(url, error="m", micro=False)
    return [(x, y) for y, row in enumerate(qr.matrix) for x, dark in enumerate(row) if dark]


def qr_size(url: str) -> int:
    return segno.make(url, error="m", micro=False).symbol_size(border=0)[0]


def sign_svg(sign: Sign) -> str:
    """An A5-proportioned sign (148×210 user units, i.e. millimetres)."""
    size = qr_size(sign.url)
    box = 100.0  # the QR code's printed width in mm
    scale = box / size
    left, top = (148 - box) / 2, 58.0
    path = "".join(f"M{x},{y}h1v1h-1z" for x, y in qr_modules(sign.url))
    lines = _wrap(SIGN_INSTRUCTIONS, 18)
    text_lines = "".join(
        f'<text x="74" y="{172 + 8 * n}" font-size="6" text-anchor="middle">{escape(line)}</text>' for n, line in enumerate(lines)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" width="148mm" height="210mm" viewBox="0 0 148 210" '
        'font-family="Noto Sans CJK SC, Source Han Sans SC, SimHei, sans-serif" role="img" '
        f'aria-label="{escape(sign.window_name)} 评价二维码">'
        '<rect width="148" height="210" fill="#fff"/>'
        f'<text x="74" y="20" font-size="10" font-weight="bold" text-anchor="middle" fill="#b3261e">{escape(SIGN_TITLE)}</text>'
        f'<text x="74" y="36" font-size="9" font-weight="bold" text-anchor="middle">{escape(sign.window_name)}</text>'
        f'<text x="74" y="47" font-size="6" text-anchor="middle">{escape(sign.agency_name)}</text>'
        f'<g class="qr" transform="translate({left:g},{top:g}) scale({scale:.6g})">'
        f'<path d="{path}" fill="#000" shape-rendering="crispEdges"/></g>'
        f"{text_lines}"
        "</svg>\n"
    )


def _wrap(text: str, width: int) -> list[str]:
    # Chinese has no spaces to break at: cut every ``width`` characters.
    return [text[i : i + width] for i in range(0, len(text), width)]


def _canvas(buffer, title: str):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    register_cjk_font()
    c = canvas.Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=CJK_FONT)
    c.setTitle(title)
    c.setAuthor("政务服务“好差评”系统")
    return c, A4


def _draw_qr(c, url: str, x: float, y: float, width: float) -> None:
    size = qr_size(url)
    module = width / size
    c.setFillColorRGB(0, 0, 0)
    for col, row in qr_modules(url):
        # PDF's y axis points up; the QR matrix's row 0 is the top.
        c.rect(x + col * module, y + (size - row - 1) * module, module, module, stroke=0, fill=1)


def _centred(c, text: str, y: float, size: float, page_width: float) -> None:
    c.setFont(CJK_FONT, size)
    c.drawCentredString(page_width / 2, y, text)


def sign_pdf(sign: Sign) -> bytes:
    from reportlab.lib.units import mm

    buffer = io.BytesIO()
    c, (width, height) = _canvas(buffer, f"{sign.window_name} 评价二维码")
    c.setFillColorRGB(0.7, 0.15, 0.12)
    _centred(c, SIGN_TITLE, height - 35 * mm, 28, width)
    c.setFillColorRGB(0, 0, 0)
    _centred(c, sign.window_name, height - 55 * mm, 24, width)
    _centred(c, sign.agency_name, height - 67 * mm, 14, width)
    box = 120 * mm
    _draw_qr(c, sign.url, (width - box) / 2, height - 75 * mm - box, box)
    for n, line in enumerate(_wrap(SIGN_INSTRUCTIONS, 22)):
        _centred(c, line, height - 75 * mm - box - (14 + 9 * n) * mm, 15, width)
    c.showPage()
    c.save()
    return buffer.getvalue()


@dataclass(frozen=True)
class FormPage:
    number: str
    agency_name: str


def paper_forms_pdf(forms: list[FormPage], *, levels: list[str], labels: list[tuple[str, str]]) -> bytes:
    """One A4 page per form: number, 办件编号 box, five levels with boxes, the bad-review labels, comment lines.

    ``levels`` are the region's level texts, best first; ``labels`` are (code, text) of the bad levels' labels.
    """
    from reportlab.lib.units import mm

    buffer = io.BytesIO()
    c, (width, height) = _canvas(buffer, "政务服务书面评价表")
    margin = 18 * mm
    for form in forms:
        y = height - 22 * mm
        _centred(c, "政务服务“好差评”书面评价表", y, 20, width)
        y -= 9 * mm
        _centred(c, form.agency_name, y, 12, width)
        c.setFont(CJK_FONT, 11)
        y -= 10 * mm
        c.drawString(margin, y, f"表单编号：{form.number}")
        y -= 10 * mm
        c.drawString(margin, y, "办件编号：")
        c.rect(margin + 22 * mm, y - 2 * mm, 100 * mm, 8 * mm)
        y -= 12 * mm
        c.setFont(CJK_FONT, 12)
        c.drawString(margin, y, "一、评价等级（请在一个方框内打“√”）")
        y -= 9 * mm
        c.setFont(CJK_FONT, 12)
        x = margin
        for text in levels:
            c.rect(x, y - 1 * mm, 5 * mm, 5 * mm)
            c.drawString(x + 7 * mm, y, text)
            x += (width - 2 * margin) / len(levels)
        y -= 12 * mm
        c.drawString(margin, y, f"二、如选择“{levels[-2]}”或“{levels[-1]}”，请勾选原因（可多选）")
        y -= 8 * mm
        c.setFont(CJK_FONT, 9)
        column = (width - 2 * margin) / 2
        for n, (code, text) in enumerate(labels):
            col, row = n % 2, n // 2
            lx, ly = margin + col * column, y - row * 6 * mm
            c.rect(lx, ly - 0.8 * mm, 3.5 * mm, 3.5 * mm)
            c.drawString(lx + 5 * mm, ly, f"{code} {text}"[:40])
        y -= ((len(labels) + 1) // 2) * 6 * mm + 6 * mm
        c.setFont(CJK_FONT, 12)
        c.drawString(margin, y, "三、意见和建议")
        y -= 4 * mm
        for _ in range(6):
            y -= 9 * mm
            c.line(margin, y, width - margin, y)
        y -= 12 * mm
        c.setFont(CJK_FONT, 9)
        c.drawString(margin, y, "本表由评价人本人填写；工作人员不得代填。填好后请投入评价箱或交给大厅值班人员（非办理本件的工作人员）。")
        c.drawString(margin, 12 * mm, f"表单编号 {form.number}  每张评价表只能录入一次")
        c.showPage()
    c.save()
    return buffer.getvalue()


def level_texts(label_set: str) -> list[str]:
    return [rules.level_text(n, label_set) for n in reversed(rules.LEVELS)]
