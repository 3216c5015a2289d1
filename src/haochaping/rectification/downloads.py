"""Evidence files as downloads: one response for the workbench pages and the API.

A file is only ever sent to someone who may open its case (or appeal); the caller checks that. It is always an
attachment, never rendered inline, and never cached by a shared proxy, because evidence may show people.
"""

from __future__ import annotations

import mimetypes

from django.http import FileResponse

from haochaping.rectification.models import CaseAttachment


def attachment_response(item: CaseAttachment) -> FileResponse:
    """The file of ``item`` as a download under its original name. Raises FileNotFoundError when the stored file
    has gone (the caller answers 404 in its own way)."""
    try:
        handle = item.file.open("rb")
    except ValueError as exc:  # a row without a file name
        raise FileNotFoundError(item.pk) from exc
    content_type = mimetypes.guess_type(item.original_name)[0] or "application/octet-stream"
    response = FileResponse(handle, as_attachment=True, filename=item.original_name, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
