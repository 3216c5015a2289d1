"""The upper node's side (R6.2, DESIGN.md "the same software is the upper node"): a lower node is an API client
bound to its region, registered as a LowerNode with its SM2 public key. Its pushes are checked (key, app id,
timestamp, signature, encryption), and each item goes through the same services as history import: original
times kept, no case opened here (the lower node handles its cases and reports their outcomes), and nothing
outside the node's region accepted."""

from __future__ import annotations

from datetime import datetime

import pydantic
from django.db import transaction
from django.utils import timezone

from haochaping.accounts.models import ApiKey
from haochaping.core.problems import DomainError, not_found
from haochaping.evaluation.models import Evaluation
from haochaping.org.rules import region_prefix
from haochaping.records import services as record_services
from haochaping.records.api import RecordIn, record_input
from haochaping.records.models import ServiceRecord

from .. import importer, rules, wire
from ..models import LowerNode, ReportedCaseOutcome

KINDS = ("record", "evaluation", "case_outcome")
CHANGEABLE = ("status", "accepted_at", "completed_at", "promised_days")


def node_for(api_key: ApiKey, headers, body: bytes, *, now: datetime | None = None) -> LowerNode:
    """The lower node a push comes from, once its app id, timestamp and signature check out (401 otherwise)."""
    node = LowerNode.objects.filter(api_key=api_key).first()
    if node is None:
        raise DomainError(403, "禁止操作", "该接口密钥未登记为下级节点", "Authorization", code="forbidden")
    app_id = headers.get(wire.APP_ID, "")
    if app_id != node.app_id:
        raise DomainError(401, "未通过认证", "应用标识与接口密钥不符", wire.APP_ID, code="unauthenticated")
    now = now or timezone.now()
    try:
        wire.check_signature(body, app_id=app_id, timestamp=headers.get(wire.TIMESTAMP, ""),
                             signature=headers.get(wire.SIGNATURE, ""), public_key=node.public_key,
                             now_ms=int(now.timestamp() * 1000))
    except wire.WireError as exc:
        raise DomainError(401, "未通过认证", f"{exc.field}：{exc.message}", exc.field, code="unauthenticated") from None
    return node


def items_of(node: LowerNode, headers, body: bytes, max_items: int) -> list:
    """The items of a checked push, decrypted where the node and this one agreed a payload key."""
    try:
        data = wire.open_body(body, app_id=node.app_id, timestamp=headers.get(wire.TIMESTAMP, ""),
                              payload_key=node.payload_key())
    except wire.WireError as exc:
        raise DomainError(422, "请求内容有误", f"{exc.field}：{exc.message}", exc.field, code="invalid") from None
    items = data.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= max_items:
        raise DomainError(422, "请求内容有误", f"items：应为 1 至 {max_items} 条", "items", code="invalid")
    return items


def _record(node: LowerNode, shape: str, row: dict, source: str) -> str:
    region = node.api_key.region
    try:
        created = importer.import_row("records", shape, row, source, region_scope=region)
        return "created" if created else "replayed"
    except DomainError as exc:
        if exc.code != "conflict":
            raise
    # The same 办件 again with a later state (accepted, completed): a change, applied as the 办件 API applies one.
    data = record_input(RecordIn.model_validate(row if shape == "internal" else rules.record_from_national(row)))
    existing = ServiceRecord.objects.by_number(data.project_no).first()
    if existing is None or (region and not existing.region_id.startswith(region_prefix(region.code))):
        raise not_found("办件不存在", "project_no")
    changes = {f: getattr(data, f) for f in CHANGEABLE if getattr(data, f) != getattr(existing, f)}
    if not changes:
        return "replayed"
    record_services.update_record(data.project_no, changes, actor=source, region_scope=region)
    return "updated"


def _case_outcome(node: LowerNode, row: dict, now: datetime) -> str:
    out = CaseOutcomeIn.model_validate(row)
    region = node.api_key.region
    ev = Evaluation.objects.select_related("record").one_by(idempotency_key=out.evaluation_key).first()
    if ev is None or ev.record.project_no != out.project_no or (
            region and not ev.region_id.startswith(region_prefix(region.code))):
        raise not_found("评价不存在（须先报送评价）", "evaluation_key")
    fields = {"node": node, "state": out.state, "outcome": out.outcome, "opened_at": out.opened_at,
              "closed_at": out.closed_at, "reported_at": now}
    with transaction.atomic():
        current = ReportedCaseOutcome.objects.select_for_update().filter(evaluation=ev).first()
        if current is None:
            ReportedCaseOutcome.objects.create(evaluation=ev, **fields)
            return "created"
        if all(getattr(current, k) == v for k, v in fields.items() if k not in ("reported_at", "node")):
            return "replayed"
        for k, v in fields.items():
            setattr(current, k, v)
        current.save()
        return "updated"


class CaseOutcomeIn(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    evaluation_key: str = pydantic.Field(min_length=1, max_length=100)
    project_no: str = pydantic.Field(min_length=1, max_length=64)
    state: str = pydantic.Field(min_length=1, max_length=20)
    outcome: str = pydantic.Field("", max_length=20)
    opened_at: pydantic.AwareDatetime
    closed_at: pydantic.AwareDatetime | None = None


def receive_item(node: LowerNode, shape: str, item, *, now: datetime) -> dict:
    """One pushed item: ``{"status": created|updated|replayed}``; raises what the batch answer turns into refusals."""
    if not isinstance(item, dict) or item.get("kind") not in KINDS or not isinstance(item.get("data"), dict):
        raise rules.Refused("kind", "每条应为 {kind: record|evaluation|case_outcome, data: {…}}")
    source = f"node:{node.name}"[:100]
    kind, row = item["kind"], item["data"]
    if kind == "record":
        return {"status": _record(node, shape, row, source)}
    if kind == "evaluation":
        created = importer.import_row("evaluations", shape, row, source, region_scope=node.api_key.region)
        return {"status": "created" if created else "replayed"}
    if shape != "internal":
        raise rules.Refused("kind", "国家平台接口格式没有差评整改结果")
    return {"status": _case_outcome(node, row, now)}


def touch(node: LowerNode, now: datetime) -> None:
    LowerNode.objects.filter(pk=node.pk).update(last_push_at=now)
