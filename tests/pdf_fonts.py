"""What a PDF's fonts are: used by the tests of every PDF the system makes (reports, paper forms, QR signs)."""

from __future__ import annotations

import io

import pypdf


def _descriptor(font):
    if "/FontDescriptor" in font:
        return font["/FontDescriptor"].get_object()
    for descendant in font.get("/DescendantFonts", []):  # Type0 (CID) fonts keep it on their descendant
        return _descriptor(descendant.get_object())
    return None


def fonts(data: bytes) -> dict[str, bool]:
    """Every font the pages use (its /BaseFont) → whether its outlines are embedded (FontFile, FontFile2 or
    FontFile3 in its descriptor). The 14 standard fonts and a named-only CID font such as STSong-Light have none."""
    out: dict[str, bool] = {}
    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        resources = page.get("/Resources")
        font_dict = resources.get_object().get("/Font") if resources else None
        for ref in (font_dict.get_object().values() if font_dict else []):
            font = ref.get_object()
            descriptor = _descriptor(font)
            embedded = descriptor is not None and any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            name = str(font.get("/BaseFont"))
            out[name] = out.get(name, True) and embedded
    return out


def assert_fonts_embedded(data: bytes) -> None:
    used = fonts(data)
    assert used, "the PDF uses no font at all"
    missing = [name for name, embedded in used.items() if not embedded]
    assert not missing, f"fonts named but not embedded: {missing}"
