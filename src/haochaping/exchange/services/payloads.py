"""What an outbox row sends: the 办件, evaluation or case outcome as it is now, in the upstream's shape.

Personal data stays here: a 办件 goes up with its applicant's type only, an evaluation without the evaluator's
name or phone (the upper node counts and supervises; callbacks are the lower node's work)."""

from __future__ import annotations

from haochaping.evaluation.models import Evaluation
from haochaping.records.models import ServiceRecord
from haochaping.rectification.models import RectificationCase

from .. import rules
from ..models import OutboxEntry, Upstream

Kind = OutboxEntry.Kind
PROFILES = {Upstream.Profile.NATIONAL: rules.NATIONAL, Upstream.Profile.NATIONAL_PF7_DEFAULT: rules.NATIONAL_PF7_DEFAULT}


def _iso(moment):
    return moment.isoformat() if moment else None


def record_item(record: ServiceRecord) -> dict:
    return {
        "project_no": record.project_no,
        "implementation_code": record.item.implementation_code,
        "region_code": record.region_id,
        "department_credit_code": record.department.credit_code,
        "agency_code": record.agency.code if record.agency_id else None,
        "window_code": record.window.code if record.window_id else None,
        "staff_no": record.staff.staff_no if record.staff_id else None,
        "platform_code": record.platform.code if record.platform_id else None,
        "applicant": {"type": record.applicant_type},
        "record_type": record.record_type,
        "promised_days": record.promised_days,
        "status": record.status,
        "accepted_at": _iso(record.accepted_at),
        "completed_at": _iso(record.completed_at),
    }


def evaluation_item(ev: Evaluation) -> dict:
    item = {
        "idempotency_key": ev.idempotency_key,
        "project_no": ev.record.project_no,
        "stage": ev.stage,
        "channel": ev.channel,
        "level": ev.level,
        "type": ev.type,
        "labels": sorted(label.code for label in ev.labels.all()),
        "comment": ev.comment,
        "evaluated_at": _iso(ev.created_at),
    }
    if ev.questionnaire:
        item["questionnaire"] = ev.questionnaire
    return item


def case_outcome_item(case: RectificationCase) -> dict:
    return {
        "evaluation_key": case.evaluation.idempotency_key,
        "project_no": case.evaluation.record.project_no,
        "state": case.state,
        "outcome": case.outcome,
        "opened_at": _iso(case.opened_at),
        "closed_at": _iso(case.closed_at),
    }


def _national_evaluation(item: dict, ev: Evaluation, profile: rules.Profile) -> dict:
    # History imported as pf 7 "系统默认评价" can only travel where the upstream's profile has a code for it.
    mapped = {
        **item,
        "assess_number": rules.assess_number(item["project_no"], item["idempotency_key"], item["stage"], item["type"]),
        "evaluated_at": ev.created_at,
        "department_credit_code": ev.department.credit_code,
        "implementation_code": ev.item.implementation_code,
    }
    return rules.evaluation_to_national(mapped, profile)


def _national_record(item: dict, record: ServiceRecord) -> dict:
    return rules.record_to_national({**item, "accepted_at": record.accepted_at, "completed_at": record.completed_at})


def build(upstream: Upstream, entries: list[OutboxEntry]) -> tuple[list[dict], dict[int, str]]:
    """The items of one push for ``entries`` (in order), and the entries that cannot be sent with the reason."""
    ids = {kind: [e.object_id for e in entries if e.kind == kind] for kind in Kind.values}
    records = ServiceRecord.objects.select_related("item", "department", "agency", "window", "staff", "platform")
    records = records.in_bulk(ids[Kind.RECORD])
    evaluations = Evaluation.objects.select_related("record", "department", "item").prefetch_related("labels")
    evaluations = evaluations.in_bulk(ids[Kind.EVALUATION])
    cases = RectificationCase.objects.select_related("evaluation__record").in_bulk(ids[Kind.CASE_OUTCOME])
    profile = PROFILES.get(upstream.profile)
    items, unsendable = [], {}
    for entry in entries:
        try:
            if entry.kind == Kind.RECORD:
                record = records[entry.object_id]
                data = record_item(record)
                data = _national_record(data, record) if profile else data
            elif entry.kind == Kind.EVALUATION:
                ev = evaluations[entry.object_id]
                data = evaluation_item(ev)
                data = _national_evaluation(data, ev, profile) if profile else data
            else:
                if profile:
                    raise rules.Refused("kind", "国家平台接口格式没有差评整改结果的报送项")
                case = cases[entry.object_id]
                data = case_outcome_item(case)
        except KeyError:
            unsendable[entry.pk] = "要报送的对象已不存在"
            continue
        except rules.Refused as exc:
            unsendable[entry.pk] = f"{exc.field}：{exc.message}"
            continue
        items.append({"ref": entry.pk, "kind": entry.kind, "data": data})
    return items, unsendable
