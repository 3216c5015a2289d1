"""History import (R6.5, issue 16 item 3): a province switching to this system brings its past 办件 and evaluations
from CSV, XLSX or JSONL files, in this system's shape, the live national interface's or GB/T 39046's.

Every row goes through the same rules as a live push or submission (same validation, uniqueness, idempotency,
leaf hashes and rollups), with the evaluation's **original time** (the 补充评价 period is checked against it) and
``source = "import:<name>"``. The file is streamed a chunk of rows at a time (memory does not grow with it), and
each chunk goes through the set-based services of the batch endpoints (records.intake, evaluation.intake: answers
identical to the single services row by row, one query per kind of look-up, one COPY for the new rows).

It is idempotent (a rerun adds nothing: 办件 by their number and content, evaluations by their idempotency key,
which for foreign rows is the upstream's ``projectNo:assessNumber``) and resumable: a small progress file next to
the input records how many rows are done (after every chunk), so a killed import continues where it stopped. Every
refused row is written, with its row number, field and reason (never its values), to a CSV file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, islice
from pathlib import Path
from typing import TextIO

import pydantic

from haochaping.core.problems import DomainError, validation_errors
from haochaping.evaluation import intake
from haochaping.evaluation import services as evaluation_services
from haochaping.evaluation.api import EvaluationIn, evaluation_input
from haochaping.records import intake as record_intake
from haochaping.records import services as record_services
from haochaping.records.api import RecordIn, record_input

from . import rules

KINDS = ("records", "evaluations")
SHAPES = ("internal", "national", "national-pf7-default", "gbt39046")
PROFILES = {"national": rules.NATIONAL, "national-pf7-default": rules.NATIONAL_PF7_DEFAULT, "gbt39046": rules.NATIONAL}
# Rows are read, checked and written a chunk at a time, with a checkpoint after each: the first chunk is small
# (the first progress line and checkpoint come at once), each next one twice as long, up to CHUNK (--chunk).
FIRST_CHUNK = 200
CHUNK = 2000
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
    refused_before: int = 0  # refusals of the rows an earlier run did (still in the refused-rows file)


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


def read_rows(path: Path, skip: int = 0) -> Iterator[dict]:
    """The file's rows as dicts, in order, streamed (never the whole file in memory); the first ``skip`` rows are
    passed over without being parsed further than needed to count them (a resumed import). Numbering (row 1 = the
    first data row) is the caller's."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            while header == []:  # as csv.DictReader: blank lines before the header are passed over
                header = next(reader, None)
            if not header:
                raise ImportFileError("文件没有表头行")
            names = [h.strip() for h in header]
            width = len(names)
            for values in reader:
                if not values:  # csv.DictReader skips blank lines: so do we
                    continue
                if skip:
                    skip -= 1
                    continue
                # As csv.DictReader: missing cells are empty, extra cells are dropped (no name).
                values = values[:width] + [""] * (width - len(values))
                yield _unflatten({n: v.strip() for n, v in zip(names, values, strict=True)})
    elif suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)  # read-only: rows streamed from the zip
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
                if skip:
                    skip -= 1
                    continue
                yield _unflatten({n: _cell(v).strip() for n, v in zip(names, values, strict=False) if n})
        finally:
            book.close()
    elif suffix in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                if skip:
                    skip -= 1
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
    _, created = record_services.push_record(_record_input(row, shape), source=source, region_scope=region_scope)
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


def _record_input(row: dict, shape: str) -> record_services.RecordInput:
    if "__unreadable__" in row:
        raise rules.Refused("row", row["__unreadable__"])
    if shape == "gbt39046":
        raise rules.Refused("kind", "GB/T 39046 评价数据集不含办件")
    return record_input(RecordIn.model_validate(row if shape == "internal" else rules.record_from_national(row)))


def _record_block(block: list[tuple[int, dict]], shape: str, source: str, result: ImportResult, refuse) -> None:
    inputs, numbers = [], []
    for number, row in block:
        try:
            inputs.append(_record_input(row, shape))
        except (rules.Refused, pydantic.ValidationError, DomainError) as exc:
            refuse(number, exc)
            continue
        numbers.append(number)
    if not inputs:
        return
    for number, outcome in zip(numbers, record_intake.push_records(inputs, source=source), strict=True):
        if isinstance(outcome, DomainError):
            refuse(number, outcome)
        elif outcome[1]:
            result.created += 1
        else:
            result.replayed += 1


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


def rows_done(path: Path, kind: str, shape: str) -> int:
    """How many rows of ``path`` an earlier run of the same import did (0 when none): where a rerun starts."""
    return _load_progress(path, kind, shape)


def _save_progress(path: Path, kind: str, shape: str, done: int, finished: bool = False) -> None:
    target = progress_path(path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps({"kind": kind, "shape": shape, "done": done, "finished": finished}), encoding="utf-8")
    tmp.replace(target)  # atomic: a kill never leaves half a progress file


def _open_refusals(path: Path, done: int) -> tuple[TextIO, int]:
    """The refused-rows file, open for appending, holding only the refusals of the rows an earlier (interrupted)
    run had finished (rows after its checkpoint are read again); and how many those are. Streamed: never the whole
    file in memory."""
    target = refused_path(path)
    kept = 0
    tmp = target.with_name(target.name + ".tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(REFUSED_HEADER)
        if done:
            try:
                with target.open(encoding="utf-8-sig", newline="") as f:
                    rows = csv.reader(f)
                    next(rows, None)
                    for row in rows:
                        if len(row) == 3 and row[0].isdigit() and int(row[0]) <= done:
                            writer.writerow(row)
                            kept += 1
            except FileNotFoundError:
                pass
    tmp.replace(target)
    return target.open("a", encoding="utf-8", newline=""), kept


def _chunks(rows: Iterator[dict], first: int, size: int, largest: int) -> Iterator[list[tuple[int, dict]]]:
    """(row number, row) lists: the first of ``size`` rows, each next one twice as long up to ``largest``, so the
    first checkpoint and progress line come soon and the rest goes in big sets."""
    numbered = enumerate(rows, first)
    while block := list(islice(numbered, size)):
        yield block
        size = min(size * 2, largest)


def import_file(path: Path, *, kind: str, shape: str = "internal", name: str = "",
                progress: Callable[[int], None] | None = None, chunk: int = CHUNK) -> ImportResult:
    """Import ``path`` (see the module docstring). ``progress`` is called with the number of rows handled after
    every checkpoint. ``chunk``: the most rows read, checked and written together (and between two checkpoints)."""
    if kind not in KINDS:
        raise ImportFileError("kind 应为 records 或 evaluations")
    if shape not in SHAPES:
        raise ImportFileError(f"shape 应为 {'、'.join(SHAPES)} 之一")
    if chunk < 1:
        raise ImportFileError("chunk 至少为 1")
    source = f"import:{name or path.stem}"[:100]
    done = _load_progress(path, kind, shape)
    rows = read_rows(path, skip=done)
    first = next(rows, None)  # the file's type and header are checked before anything is written
    rows = chain([first] if first is not None else [], rows)
    result = ImportResult(rows=done, skipped=done, refused_path=refused_path(path))
    handle = _evaluation_block if kind == "evaluations" else _record_block
    refused_file, result.refused_before = _open_refusals(path, done)
    try:
        writer = csv.writer(refused_file)
        for block in _chunks(rows, done + 1, min(FIRST_CHUNK, chunk), chunk):
            refusals: list[tuple[int, str, str]] = []

            def refuse(number: int, exc: Exception, refusals=refusals) -> None:
                field_, reason = refusal(exc)
                named = field_ if isinstance(exc, rules.Refused) else rules.foreign_field(kind, shape, field_)
                refusals.append((number, named, reason))

            # The whole block through the set-based service (records.intake / evaluation.intake), answered row
            # by row as if imported one after the other.
            handle(block, shape, source, result, refuse)
            refusals.sort(key=lambda r: r[0])  # row order, however the block was answered
            writer.writerows(refusals)
            refused_file.flush()  # the refusals of the rows done before the checkpoint that says they are done
            result.refused += len(refusals)
            result.rows = block[-1][0]
            _save_progress(path, kind, shape, result.rows)
            if progress:
                progress(result.rows)
    finally:
        refused_file.close()
    _save_progress(path, kind, shape, result.rows, finished=True)
    if progress:
        progress(result.rows)
    return result
