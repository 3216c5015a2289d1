"""The CJK font every PDF of the system is set in, embedded in the file (R5.2 reports, paper forms, QR signs).

A PDF that only names a font (reportlab's built-in CID font STSong-Light) renders Chinese only where a reader has
that font installed; a report sent to another office must render anywhere. reportlab embeds TrueType outlines
(``glyf``) only, not the CFF outlines of Noto/Source Han Sans, so the font is WenQuanYi Micro Hei (文泉驿微米黑,
Apache-2.0, TrueType outlines, Latin and CJK in one face), shipped inside the package (core/fonts/, its licence
beside it). reportlab embeds the glyphs a document uses as TrueType subsets (``/FontFile2``).
"""

from __future__ import annotations

from pathlib import Path

CJK_FONT = "WenQuanYiMicroHei"
FONT_FILE = Path(__file__).resolve().parent / "fonts" / "wqy-microhei.ttc"


def register_cjk_font() -> str:
    """Register the embedded CJK font with reportlab once per process; returns its name for ``setFont``/styles."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        # Face 0 of the collection is the proportional 微米黑 (face 1 is the monospaced variant).
        pdfmetrics.registerFont(TTFont(CJK_FONT, str(FONT_FILE), subfontIndex=0))
    return CJK_FONT
