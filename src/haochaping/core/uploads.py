"""Checks on uploaded spreadsheets (issue 3, item 7): type by extension AND content, and size.

Only the two formats offices use are accepted: CSV (UTF-8, with or without BOM) and Excel .xlsx (a zip package
with ``[Content_Types].xml``). A renamed executable or picture is refused before any parser touches it.
"""

from __future__ import annotations

import zipfile
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError

CSV, XLSX = "csv", "xlsx"
ALLOWED = (CSV, XLSX)
# An .xlsx is compressed XML; a package that inflates far beyond the upload limit is a zip bomb, not a roster.
MAX_INFLATION = 20


def max_upload_bytes() -> int:
    return int(settings.HAOCHAPING_MAX_UPLOAD_MB * 1024 * 1024)


def extension(name: str) -> str:
    return PurePath(name or "").suffix.lower().lstrip(".")


def check_spreadsheet(upload, *, label: str = "导入文件") -> str:
    """Refuse ``upload`` unless it is a CSV or .xlsx file within the size limit; returns ``"csv"`` or ``"xlsx"``.

    Errors are Chinese and name the field (``label``). The file is left rewound for whoever reads it next.
    """
    kind = extension(upload.name)
    if kind not in ALLOWED:
        raise ValidationError(f"“{label}”只接受 CSV（.csv）或 Excel（.xlsx）文件", code="file_type")
    limit = max_upload_bytes()
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            f"“{label}”过大：文件不能超过 {settings.HAOCHAPING_MAX_UPLOAD_MB} MB，请分批导入", code="file_size"
        )
    if upload.size == 0:
        raise ValidationError(f"“{label}”是空文件", code="file_empty")
    try:
        if kind == CSV:
            _check_csv(upload, label)
        else:
            _check_xlsx(upload, label, limit)
    finally:
        upload.seek(0)
    return kind


def _check_csv(upload, label: str) -> None:
    upload.seek(0)
    data = upload.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(
            f"“{label}”不是 UTF-8 编码的 CSV 文本文件（如用 Excel 另存，请选择“CSV UTF-8（逗号分隔）”）", code="file_content"
        ) from None
    # Valid UTF-8 can still be binary (NUL bytes, control characters): a text table has none of them.
    if any(ch in text for ch in "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0e\x0f\x7f"):
        raise ValidationError(f"“{label}”的内容不是 CSV 文本，文件可能被改了扩展名", code="file_content")


def _check_xlsx(upload, label: str, limit: int) -> None:
    upload.seek(0)
    refused = ValidationError(f"“{label}”的内容不是 Excel（.xlsx）文件，文件可能被改了扩展名或已损坏", code="file_content")
    try:
        with zipfile.ZipFile(upload) as package:
            infos = package.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise refused from None
    if "[Content_Types].xml" not in {info.filename for info in infos}:
        raise refused
    if sum(info.file_size for info in infos) > limit * MAX_INFLATION:
        raise ValidationError(f"“{label}”解压后过大，请分批导入", code="file_size")


# Scanned documents (e.g. a filled paper evaluation form): a photo or a scanner's PDF, recognised by content.
SCAN_SIGNATURES = {
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "pdf": (b"%PDF-",),
}


def check_scan(upload, *, label: str = "扫描件") -> str:
    """Refuse ``upload`` unless it is a JPEG, PNG or PDF within the size limit, by extension AND content.

    Returns the normalised extension (``"jpg"``, ``"png"`` or ``"pdf"``); errors are Chinese and name the field.
    """
    if upload is None:
        raise ValidationError(f"请上传“{label}”（JPG、PNG 图片或 PDF 文件）", code="file_missing")
    kind = extension(upload.name)
    if kind not in SCAN_SIGNATURES:
        raise ValidationError(f"“{label}”只接受 JPG、PNG 图片或 PDF 文件", code="file_type")
    if upload.size is not None and upload.size > max_upload_bytes():
        raise ValidationError(
            f"“{label}”过大：文件不能超过 {settings.HAOCHAPING_MAX_UPLOAD_MB} MB", code="file_size"
        )
    if upload.size == 0:
        raise ValidationError(f"“{label}”是空文件", code="file_empty")
    try:
        upload.seek(0)
        head = upload.read(16)
    finally:
        upload.seek(0)
    if not any(head.startswith(sig) for sig in SCAN_SIGNATURES[kind]):
        raise ValidationError(f"“{label}”的内容不是{kind.upper()}文件，文件可能被改了扩展名或已损坏", code="file_content")
    return "jpg" if kind == "jpeg" else kind
