"""Batch intake (R6.2, issue 16): up to MAX_ITEMS 办件 or evaluations a request, in this system's shape or a foreign
one (exchange.rules). Each item is validated by the single endpoint's own schema, goes through the same service
in its own transaction (evaluations: together through the set-based evaluation.intake, as if one after the other),
and is answered on its own: created, replayed (the same item again, harmless) or refused
with problem details naming its index and field. One refused item never stops or undoes the others."""

from __future__ import annotations

import json
from typing import Literal

import pydantic
from django.http import HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.responses import NinjaJSONEncoder

from haochaping.accounts.auth import ApiKeyAuth
from haochaping.accounts.models import Scope
from haochaping.core.problems import DomainError, problem_body, validation_errors
from haochaping.core.schemas import InputSchema, QuerySchema
from haochaping.evaluation import intake
from haochaping.evaluation.api import EvaluationIn, EvaluationInPlain, evaluation_input
from haochaping.records import intake as record_intake
from haochaping.records.api import RecordIn, record_input

from .. import rules

router = Router(tags=["数据汇聚"])

MAX_ITEMS = 1000
Shape = Literal["internal", "national", "national-pf7-default", "gbt39046"]
PROFILES = {"national": rules.NATIONAL, "national-pf7-default": rules.NATIONAL_PF7_DEFAULT,
            "gbt39046": rules.NATIONAL}
# What a foreign row carries that a live submission does not take: a live item is stamped with the time it
# arrives (history keeps its own time through `haochaping import`), and the upstream's own codes are not ours.
NOT_LIVE = ("evaluated_at", "assess_number", "evaluator_type", "department_credit_code", "implementation_code",
            "handle_item_code", "data_source", "region_code", "evaluator_name")


class BatchIn(InputSchema):
    items: list[dict] = Field(..., min_length=1, max_length=MAX_ITEMS, description=f"1 至 {MAX_ITEMS} 条")


class ShapeFilter(QuerySchema):
    shape: Shape = Field("internal", description="条目格式：internal 本系统格式；national 国家平台接口格式；"
                         "national-pf7-default 同上但 pf=7 为系统默认评价；gbt39046 GB/T 39046-2020 评价数据集（仅评价）")


class ItemResult(Schema):
    index: int
    status: Literal["created", "replayed", "refused"]
    id: int | None = None
    project_no: str | None = None
    case_id: int | None = None
    problem: dict | None = None


class BatchOut(Schema):
    created: int
    replayed: int
    refused: int
    results: list[ItemResult]


def _refused(index: int, status: int, detail: str, field: str | None, code: str, errors=None) -> dict:
    body = problem_body(status=status, detail=detail, field=field, code=code, errors=errors)
    return {"index": index, "status": "refused", "problem": body}


def _answer(results: list[dict]) -> dict:
    counts = {s: sum(r["status"] == s for r in results) for s in ("created", "replayed", "refused")}
    return {**counts, "results": results}


def _refusal(kind: str, shape: str):
    def refused(index, status, detail, field, code, errors=None):
        # A foreign shape's sender reads its own field names (agencyCode, satisfaction), not ours.
        named = rules.foreign_field(kind, shape, field)
        if named != field and detail.startswith(f"{field}："):
            detail = f"{named}：{detail[len(field) + 1:]}"
        errors = [{**e, "field": rules.foreign_field(kind, shape, e["field"])} for e in errors or []]
        return _refused(index, status, detail, named, code, errors or None)
    return refused


def _refuse(index: int, exc: Exception, refused) -> dict:
    """The refusal of an item that raised ``exc`` (one of the expected kinds; anything else propagates)."""
    if isinstance(exc, rules.Refused):
        return _refused(index, 422, f"{exc.field}：{exc.message}", exc.field, "invalid")
    if isinstance(exc, pydantic.ValidationError):
        errors = validation_errors(exc.errors(include_input=False))
        first = errors[0]
        return refused(index, 422, f"{first['field']}：{first['message']}", first["field"], "invalid", errors)
    if isinstance(exc, DomainError):
        return refused(index, exc.status, exc.detail, exc.field, exc.code)
    raise exc


def _each(items: list[dict], handle, *, kind: str, shape: str) -> dict:
    refused = _refusal(kind, shape)
    results = []
    for index, raw in enumerate(items):
        try:
            results.append({"index": index, **handle(raw)})
        except (rules.Refused, pydantic.ValidationError, DomainError) as exc:
            results.append(_refuse(index, exc, refused))
    return _answer(results)


def _internal_evaluation(raw: dict, shape: str) -> dict:
    if shape == "internal":
        return raw
    profile = PROFILES[shape]
    mapped = rules.evaluation_from_gbt(raw, profile) if shape == "gbt39046" else rules.evaluation_from_national(
        raw, profile)
    return {k: v for k, v in mapped.items() if k not in NOT_LIVE}


@router.post(
    "evaluations", response=BatchOut, auth=ApiKeyAuth(Scope.EVALUATIONS_WRITE), summary="批量提交评价",
    description=(f"一次最多 {MAX_ITEMS} 条，逐条校验、逐条入库（与单条接口同一服务、同样的幂等与范围规则），"
                 "逐条答复 created / replayed / refused；refused 的 problem 指明字段。外部格式见 docs/exchange.md。"),
)
def submit_evaluations(request, payload: BatchIn, filters: Query[ShapeFilter], response: HttpResponse):
    # Every item is validated on its own, then all valid ones go through the set-based service together
    # (evaluation.intake: one query per kind of look-up, multi-row writes), answered item by item.
    refused = _refusal("evaluations", filters.shape)
    results: list[dict | None] = [None] * len(payload.items)
    valid: list[tuple[int, object]] = []
    for index, raw in enumerate(payload.items):
        try:
            valid.append((index, evaluation_input(_validated(_internal_evaluation(raw, filters.shape)))))
        except (rules.Refused, pydantic.ValidationError, DomainError) as exc:
            results[index] = _refuse(index, exc, refused)
    key = request.api_key
    outcomes = intake.submit_evaluations([data for _i, data in valid], source=f"apikey:{key.prefix}",
                                         region_scope=key.region, by_api_key=True)
    for (index, data), outcome in zip(valid, outcomes, strict=True):
        if isinstance(outcome, DomainError):
            results[index] = _refuse(index, outcome, refused)
            continue
        results[index] = {"index": index, "status": "replayed" if outcome.replayed else "created",
                          "id": outcome.row.id if isinstance(outcome, intake.Created) else outcome.evaluation.pk,
                          "project_no": data.project_no, "case_id": outcome.case_id}
    # Rendered here, in BatchOut's shape: validating a thousand answers we built ourselves against the response
    # schema cost more than the intake of an item (issue 16 item 6).
    # (The API's renderer's JSON: UTF-8 as is; ``response`` already carries its content type and any header set.)
    response.status_code = 200
    response.content = json.dumps(_answer([_item(r) for r in results]), ensure_ascii=False, cls=NinjaJSONEncoder)
    return response


def _validated(raw):
    """``raw`` validated as EvaluationIn by its plain twin (core.schemas.plain_twin: the same fields and rules,
    without ninja's per-object overhead); a refused item again by EvaluationIn itself, whose error is the answer."""
    try:
        return EvaluationInPlain.model_validate(raw)
    except pydantic.ValidationError:
        return EvaluationIn.model_validate(raw)


_ITEM_KEYS = tuple(ItemResult.model_fields)


def _item(result: dict) -> dict:
    """An answer as ItemResult dumps it: every field, in order, None where not given."""
    return {k: result.get(k) for k in _ITEM_KEYS}


@router.post(
    "records", response=BatchOut, auth=ApiKeyAuth(Scope.RECORDS_WRITE), summary="批量推送办件",
    description=(f"一次最多 {MAX_ITEMS} 条，逐条校验、逐条入库（与单条接口同一服务、同样的幂等与范围规则），"
                 "逐条答复 created / replayed / refused。外部格式（national）见 docs/exchange.md。"),
)
def push_records(request, payload: BatchIn, filters: Query[ShapeFilter]):
    # As for evaluations: every item validated on its own, then all valid ones through the set-based service
    # (records.intake, the one history import uses too), answered item by item as if pushed one after the other.
    refused = _refusal("records", filters.shape)
    results: list[dict | None] = [None] * len(payload.items)
    valid: list[tuple[int, object]] = []
    for index, raw in enumerate(payload.items):
        try:
            if filters.shape == "gbt39046":
                raise rules.Refused("shape", "GB/T 39046 评价数据集不含办件")
            body = raw if filters.shape == "internal" else rules.record_from_national(raw)
            valid.append((index, record_input(RecordIn.model_validate(body))))
        except (rules.Refused, pydantic.ValidationError, DomainError) as exc:
            results[index] = _refuse(index, exc, refused)
    key = request.api_key
    outcomes = record_intake.push_records([data for _i, data in valid], source=f"apikey:{key.prefix}",
                                          region_scope=key.region)
    for (index, _data), outcome in zip(valid, outcomes, strict=True):
        if isinstance(outcome, DomainError):
            results[index] = _refuse(index, outcome, refused)
            continue
        record, created = outcome
        results[index] = {"index": index, "status": "created" if created else "replayed", "id": record.pk,
                          "project_no": record.project_no}
    return _answer(results)
