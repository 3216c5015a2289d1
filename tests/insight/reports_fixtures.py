"""Builders for the report tests: evaluations of last month written through the evaluation service (so the counters,
cases and everything else are as in production), each with an evaluator's name and phone that must never reach a
report file."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, time, timedelta

import openpyxl
import pypdf
from django.utils import timezone

from haochaping.evaluation import services as evaluation_services
from haochaping.evaluation.models import Evaluation
from haochaping.insight.reports import periods
from tests import factories

EVALUATOR_NAMES = ("欧阳娜娜", "司马相如", "诸葛孔明", "上官婉儿")
EVALUATOR_PHONES = ("13911112222", "13833334444", "13755556666", "13600007777")
BAD_LABELS = {1: ["110"], 2: ["209"]}


def last_month() -> periods.ReportPeriod:
    return periods.last_finished(periods.MONTH, timezone.localdate())


def moment(period: periods.ReportPeriod, day: int = 10, hour: int = 10, minute: int = 0) -> datetime:
    """A moment inside ``period`` (Beijing time)."""
    start = datetime.combine(period.start + timedelta(days=day - 1), time(hour, minute))
    return timezone.make_aware(start, timezone.get_current_timezone())


def rated(org, item, level: int, at: datetime, *, n: int = 0, channel: str = "pc", comment: str = "",
          phone: str | None = None, name: str | None = None, **record) -> Evaluation:
    """A 办件 completed at ``at`` minus a few minutes and rated at ``at`` by evaluator ``n`` (name and phone)."""
    rec = factories.make_record(org, item, accepted_at=at - timedelta(hours=1, minutes=5), **record)
    data = evaluation_services.EvaluationInput(
        idempotency_key=uuid.uuid4().hex, project_no=rec.project_no, stage="complete", channel=channel, level=level,
        labels=BAD_LABELS.get(level, []), comment=comment,
        evaluator_name=EVALUATOR_NAMES[n % 4] if name is None else name,
        evaluator_phone=EVALUATOR_PHONES[n % 4] if phone is None else phone,
    )
    return evaluation_services.submit_evaluation(data, source="test", now=at).evaluation


def workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def sheet_rows(wb, name: str) -> list[tuple]:
    """The table's rows under its header (row 3), up to the first empty row."""
    rows = []
    for row in wb[name].iter_rows(min_row=4, values_only=True):
        if all(v is None for v in row):
            break
        rows.append(row)
    return rows


def headline(wb) -> dict:
    return {row[0]: row[1] for row in sheet_rows(wb, "概况")}


def all_cell_text(wb) -> str:
    return "\n".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row
                     if v is not None)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
