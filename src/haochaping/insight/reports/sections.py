"""The shape of a report's tables: columns and sections, shared by what a report says (content.py, lists.py) and
how it is laid out (xlsx.py, pdf.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

TEXT, INT, RATE, SCORE = "text", "int", "rate", "score"


@dataclass(frozen=True)
class Column:
    title: str
    kind: str = TEXT  # text | int | rate (a share shown as a percentage) | score (满意度, 0–100)


@dataclass
class Section:
    """One table: a sheet of the workbook, a titled table of the PDF."""

    name: str  # the sheet's name (≤ 31 characters)
    title: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    note: str = ""
