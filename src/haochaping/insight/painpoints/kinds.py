"""The kinds a review can be classified into beyond the built-in taxonomy (promoted by supervisors) and the
classifier's version they imply. Reads only: the analysis, the snapshots and the worker all ask, and none of them
may import the module that writes (services) for it."""

from __future__ import annotations

from . import classify
from .models import PainPointKind
from .taxonomy import Kind


def promoted_kinds() -> tuple[Kind, ...]:
    return tuple(
        Kind(k.code, k.name, k.definition, tuple(e.strip() for e in k.examples.splitlines() if e.strip()))
        for k in PainPointKind.objects.order_by("code")
    )


def current_version(extra: tuple[Kind, ...]) -> str:
    """The classifier's version: the code's, plus the promoted kinds (promoting one reclassifies everything)."""
    return f"{classify.VERSION}+{len(extra)}:{'|'.join(k.code for k in extra)}"[:40]
