"""History import (R6.5, issue 16 item 3): a province switching to this system brings its past 办件 and evaluations
from CSV, XLSX or JSONL files, in this system's shape, the live national interface's or GB/T 39046's.

Every row goes through the same services as a live push or submission (same validation, uniqueness, idempotency,
leaf hashes and rollups), with the evaluation's **original time** (the 补充评价 period is checked against it) and
``source = "import:<name>"``. It is idempotent (a rerun adds nothing: 办件 by their number and content, evaluations
by their idempotency key, which for foreign rows is the upstream's ``projectNo:assessNumber``) and resumable: a
small progress file next to the input records how many rows are done, so a killed import continues where it
stopped. Every refused row is written, with its row number, field and reason (never its values), to a CSV file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pydantic

from haochaping.core.problems import DomainError, validation_errors
from haochaping.evaluation import intake
from haochaping.evaluation import services as evaluation_services
from haochaping.evaluation.api import EvaluationIn, evaluation_input
from haochaping.records import services as record_services
from haochaping.records.api import RecordIn, record_input

from . import rules

KINDS = ("records", "evaluations")
SHAPES = ("internal", "national", "national-pf7-default", "gbt39046")
PROFILES = {"national": rules.NATIONAL, "national-pf7-default": rules.NATIONAL_PF7_DEFAULT, "gbt39046": rules.NATIONAL}
CHECKPOINT_EVERY = 200
REFUSED_HEADER = ["行号", "字段", "原因"]


class ImportFileError(ValueError):
    """The file as a whole cannot be read (unknown type, no header): nothing is imported."""


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    replayed: int = 0
    refused: int = 0
    skipped: int = 0  # done by an earlier, interrupted run
    refused_path: Path | None = None
    refusals: list[tuple[int, str, str]] = field(default_factory=list)


# -- reading ------------------------------------------------------------------------------------------------------

def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(rules.NATIONAL_TIME)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _unflatten(row: dict) -> dict:
    """CSV and XLSX headers spell nested fields with dots (``applicant.type``); JSON needs no help."""
    out: dict = {}
    for key, value in row.items():
        if key is None:
            continue
        target = out
        *parents, last = str(key).strip().split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
    return out


def read_rows(path: Path) -> Iterator[dict]:
    """The file's rows as dicts, in order. Numbering (row 1 = the first data row) is the caller's."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            if not reader.fieldnames:
                raise ImportFileError("文件没有表头行")
            for row in reader:
                yield _unflatten({k: (v or "").strip() for k, v in row.items()})
    elif suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            lines = sheet.iter_rows(values_only=True)
            header = next(lines, None)
            if not header or not any(header):
                raise ImportFileError("文件没有表头行")
            names = [_cell(h).strip() for h in header]
            for values in lines:
                if values is None or not any(v not in (None, "") for v in values):
                    continue
                yield _unflatten({n: _cell(v).strip() for n, v in zip(names, values, strict=False) if n})
        finally:
            book.close()
    elif suffix in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    yield {"__unreadable__": f"第{number}行不是合法的 JSON"}
                    continue
                yield row if isinstance(row, dict) else {"__unreadable__": "每行应为一个 JSON 对象"}
    else:
        raise ImportFileError("只能导入 .csv、.xlsx 或 .jsonl 文件")


# -- one row ------------------------------------------------------------------------------------------------------

def _record(row: dict, shape: str, source: str, region_scope=None) -> bool:
    if shape == "gbt39046":
        raise rules.Refused("kind", "GB/T 39046 评价数据集不含办件")
    body = row if shape == "internal" else rules.record_from_national(row)
    _, created = record_services.push_record(record_input(RecordIn.model_validate(body)), source=source,
                                             region_scope=region_scope)
    return created


def _evaluation(row: dict, shape: str, source: str, region_scope=None) -> bool:
    data, evaluated_at = _evaluation_input(row, shape)
    result = evaluation_services.submit_evaluation(data, source=source, now=evaluated_at, imported=True,
                                                   region_scope=region_scope)
    return not result.replayed


def _evaluation_input(row: dict, shape: str) -> tuple[evaluation_services.EvaluationInput, datetime]:
    """The service's input and the original time of an evaluation row (Refused / ValidationError when bad)."""
    if "__unreadable__" in row:
        raise rules.Refused("row", row["__unreadable__"])
    if shape == "internal":
        row = dict(row)
        when = row.pop("evaluated_at", None)
        if not when:
            raise rules.Refused("evaluated_at", "历史评价须给出原评价时间（ISO 8601，带时区）")
        try:
            evaluated_at = datetime.fromisoformat(str(when))
        except ValueError:
            raise rules.Refused("evaluated_at", "时间格式应为 ISO 8601，带时区") from None
        if evaluated_at.tzinfo is None or not rules.EARLIEST <= evaluated_at < rules.LATEST:
            raise rules.Refused("evaluated_at", "时间须带时区，且在2000年至2099年之间")
        channel = row.get("channel")
        if channel == "system_default":  # the API schema does not take it; history does, kept apart
            row["channel"] = "pc"
        data = evaluation_input(EvaluationIn.model_validate(row))
        if channel == "system_default":
            data.channel = "system_default"
    else:
        profile = PROFILES[shape]
        mapped = rules.evaluation_from_gbt(row, profile) if shape == "gbt39046" else rules.evaluation_from_national(
            row, profile)
        evaluated_at = mapped["evaluated_at"]
        data = evaluation_services.EvaluationInput(
            idempotency_key=mapped["idempotency_key"], project_no=mapped["project_no"], stage=mapped["stage"],
            channel=mapped["channel"], level=mapped["level"], type=mapped["type"], labels=mapped["labels"],
            comment=mapped["comment"], evaluator_name=mapped.get("evaluator_name", ""),
        )
    return data, evaluated_at


def import_row(kind: str, shape: str, row: dict, source: str, *, region_scope=None) -> bool:
    """Import one row; True when it was new, False when it was there already. Raises Refused,
    pydantic.ValidationError or DomainError for a row that cannot be imported (nothing of it is written).
    ``region_scope``: a lower node's region; rows outside it are refused as the API refuses them."""
    if "__unreadable__" in row:
        raise rules.Refused("row", row["__unreadable__"])
    return (_record if kind == "records" else _evaluation)(row, shape, source, region_scope)


def _evaluation_block(block: list[tuple[int, dict]], shape: str, source: str, result: ImportResult, refuse) -> None:
    inputs, times, numbers = [], [], []
    for number, row in block:
        try:
            data, evaluated_at = _evaluation_input(row, shape)
        except (rules.Refused, pydantic.ValidationError, DomainError) as exc:
            refuse(number, exc)
            continue
        inputs.append(data)
        times.append(evaluated_at)
        numbers.append(number)
    if not inputs:
        return
    outcomes = intake.submit_evaluations(inputs, source=source, times=times, imported=True)
    for number, outcome in zip(numbers, outcomes, strict=True):
        if isinstance(outcome, DomainError):
            refuse(number, outcome)
        elif outcome.replayed:
            result.replayed += 1
        else:
            result.created += 1


def refusal(exc: Exception) -> tuple[str, str]:
    """(field, reason) of a refused row, in Chinese, without the row's values."""
    if isinstance(exc, rules.Refused):
        return exc.field, exc.message
    if isinstance(exc, pydantic.ValidationError):
        first = validation_errors(exc.errors(include_input=False))[0]
        return first["field"], first["message"]
    if isinstance(exc, DomainError):
        return exc.field or "", exc.detail or exc.title
    raise exc


# -- the file -----------------------------------------------------------------------------------------------------

def progress_path(path: Path) -> Path:
    return path.with_name(path.name + ".progress.json")


def refused_path(path: Path) -> Path:
    return path.with_name(path.name + ".refused.csv")


def _load_progress(path: Path, kind: str, shape: str) -> int:
    try:
        state = json.loads(progress_path(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return 0
    if state.get("kind") != kind or state.get("shape") != shape:
        return 0
    return int(state.get("done", 0))


def _save_progress(path: Path, kind: str, shape: str, done: int, finished: bool = False) -> None:
    target = progress_path(path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps({"kind": kind, "shape": shape, "done": done, "finished": finished}), encoding="utf-8")
    tmp.replace(target)  # atomic: a kill never leaves half a progress file


def _earlier_refusals(path: Path, done: int) -> list[tuple[int, str, str]]:
    """Refusals an interrupted run wrote for rows it had finished (rows after its checkpoint are read again)."""
    try:
        with refused_path(path).open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))[1:]
    except FileNotFoundError:
        return []
    return [(int(n), fld, why) for n, fld, why in rows if n.isdigit() and int(n) <= done]


def import_file(path: Path, *, kind: str, shape: str = "internal", name: str = "",
                progress: Callable[[int], None] | None = None) -> ImportResult:
    """Import ``path`` (see the module docstring). ``progress`` is called with the number of rows handled."""
    if kind not in KINDS:
        raise ImportFileError("kind 应为 records 或 evaluations")
    if shape not in SHAPES:
        raise ImportFileError(f"shape 应为 {'、'.join(SHAPES)} 之一")
    source = f"import:{name or path.stem}"[:100]
    done = _load_progress(path, kind, shape)
    result = ImportResult(skipped=done, refused_path=refused_path(path))
    result.refusals = _earlier_refusals(path, done)
    def refuse(number: int, exc: Exception) -> None:
        field_, reason = refusal(exc)
        named = field_ if isinstance(exc, rules.Refused) else rules.foreign_field(kind, shape, field_)
        result.refusals.append((number, named, reason))

    block: list[tuple[int, dict]] = []

    def finish_block() -> None:
        # Evaluations go in a block at a time through the set-based service (evaluation.intake), in row order,
        # with the same answers as row by row; 办件 one by one (their pushes are few beside their evaluations).
        if kind == "evaluations":
            _evaluation_block(block, shape, source, result, refuse)
        else:
            for number, row in block:
                try:
                    if import_row(kind, shape, row, source):
                        result.created += 1
                    else:
                        result.replayed += 1
                except (rules.Refused, pydantic.ValidationError, DomainError) as exc:
                    refuse(number, exc)
        block.clear()
        result.refusals.sort(key=lambda r: r[0])  # row order, however the block was answered

    for number, row in enumerate(read_rows(path), 1):
        result.rows = number
        if number <= done:
            continue
        block.append((number, row))
        if number % CHECKPOINT_EVERY == 0:
            finish_block()
            _write_refusals(path, result.refusals)
            _save_progress(path, kind, shape, number)
            if progress:
                progress(number)
    finish_block()
    _write_refusals(path, result.refusals)
    _save_progress(path, kind, shape, result.rows, finished=True)
    result.refused = len(result.refusals) - sum(1 for n, *_ in result.refusals if n <= done)
    if progress:
        progress(result.rows)
    return result


def _write_refusals(path: Path, refusals: list[tuple[int, str, str]]) -> None:
    target = refused_path(path)
    tmp = target.with_name(target.name + ".tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(REFUSED_HEADER)
        writer.writerows(refusals)
    tmp.replace(target)
