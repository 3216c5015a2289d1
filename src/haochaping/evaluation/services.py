"""Use cases for evaluations: the only code that writes Evaluation rows."""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC

from django.db import transaction
from django.utils import timezone

from haochaping.core import calendar, crypto
from haochaping.core.models import AuditEntry
from haochaping.core.problems import DomainError, conflict, invalid, not_found
from haochaping.org import policy
from haochaping.org.models import Region
from haochaping.org.rules import region_prefix
from haochaping.records.models import ServiceRecord

from . import lookups, rules
from .fingerprint import ClientFingerprint
from .models import (
    Channel,
    Evaluation,
    EvaluationExclusion,
    EvaluationType,
    ExclusionReason,
    KioskDevice,
    Label,
)
from .signals import evaluation_excluded, evaluation_replayed, evaluation_writing, evaluation_written

log = logging.getLogger(__name__)

RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed by hand
RECEIPT_LENGTH = 12  # 60 bits: unguessable, still short enough to copy from a phone


def new_receipt_code() -> str:
    # 32 letters, 5 bits each: one draw of 60 random bits gives all twelve, uniformly (secrets, not random).
    bits = secrets.randbits(5 * RECEIPT_LENGTH)
    return "".join(RECEIPT_ALPHABET[(bits >> (5 * i)) & 31] for i in range(RECEIPT_LENGTH))


@dataclass
class EvaluationInput:
    idempotency_key: str
    project_no: str
    stage: str
    channel: str
    level: int
    type: str = EvaluationType.ACTIVE
    labels: list[str] = field(default_factory=list)
    comment: str = ""
    questionnaire: dict = field(default_factory=dict)
    evaluator_name: str = ""
    evaluator_phone: str = ""


@dataclass
class SubmitResult:
    evaluation: Evaluation
    case_id: object | None
    replayed: bool


def request_hash(data: EvaluationInput) -> str:
    """Keyed digest of a request, to tell a retry (same key, same request) from a reused key."""
    canonical = json.dumps(data.__dict__, sort_keys=True, ensure_ascii=False, default=str)
    return crypto.blind_index(canonical, kind="evaluation-request")


def canonical_bytes(ev: Evaluation, label_codes: list[str]) -> bytes:
    """What the verifiable log hashes (R8.1): the evaluation's content, no personal data."""
    doc = {
        "receipt_code": ev.receipt_code,
        "project_no": ev.record.project_no,
        "stage": ev.stage,
        "type": ev.type,
        "channel": ev.channel,
        "level": ev.level,
        "labels": sorted(label_codes),
        "comment": ev.comment,
        "region": ev.region_id,
        "created_at": ev.created_at.isoformat(),
    }
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _case_id(responses) -> object | None:
    for _receiver, response in responses:
        if isinstance(response, dict) and response.get("case_id") is not None:
            return response["case_id"]
    return None


def _replay(existing: Evaluation, digest: str) -> SubmitResult:
    if existing.request_hash != digest:
        raise conflict("该幂等键已用于另一条不同的评价", "idempotency_key")
    # A retry must get the first answer, including the case the first submit opened.
    return SubmitResult(existing, _case_id(evaluation_replayed.send(sender=Evaluation, evaluation=existing)), replayed=True)


def _by_idempotency_key(key: str) -> Evaluation | None:
    # After a lost race or for a retry only. Where the table is partitioned, the key table says whether the key is
    # taken and in which month, and only that month's partition is read (core.pruning.month_filter).
    return Evaluation.objects.one_by(idempotency_key=key).order_by().first()


_CHANNELS = frozenset(Channel.values)
_TYPES = frozenset(EvaluationType.values)


def check_fields(data: EvaluationInput, *, imported: bool = False) -> None:
    """What an evaluation must be on its own, before any 办件 is looked at (no database)."""
    # A "system default" evaluation is never made here (R3.8, R8.4); only history brings them, kept apart.
    if data.channel not in _CHANNELS or (data.channel == Channel.SYSTEM_DEFAULT and not imported):
        raise invalid("未知的评价渠道", "channel")
    if data.type not in _TYPES:
        raise invalid("评价类型应为 active（主动评价）或 followup（追加评价）", "type")
    for problem in (
        rules.reason_problem(data.level, data.labels, data.comment),
        rules.questionnaire_problem(data.questionnaire),
        rules.phone_problem(data.evaluator_phone),
    ):
        if problem:
            raise invalid(problem[1], problem[0])


def check_labels(data: EvaluationInput, known: set[str]) -> None:
    """``known``: the active label codes among (at least) ``data.labels``."""
    missing = [c for c in data.labels if c not in known]
    if missing:
        raise invalid(f"评价标签不存在或已停用：{', '.join(missing)}", "labels")


def last_rating_day(record: ServiceRecord, stage: str, *, last_days: dict | None = None):
    """The last day the 办件's stage can be rated (its 补充评价 period, counted in the region's working days from
    the stage's day), or None when the 办件 has not reached the stage. ``last_days``: a memo by (stage day, region)
    for many 办件."""
    stage_time = record.stage_time(stage)
    if stage_time is None:
        return None
    stage_day = timezone.localtime(stage_time).date()
    memo = (stage_day, record.region_id)
    last_day = last_days.get(memo) if last_days is not None else None
    if last_day is None:
        last_day = rules.period_end(
            stage_day, policy.supplementary_days(record.region_id),
            lambda d, n: calendar.add_working_days(d, n, record.region_id),
        )
        if last_days is not None:
            last_days[memo] = last_day
    return last_day


def rating_closed(record: ServiceRecord, stage: str, today=None) -> str | None:
    """Why nobody can rate the 办件's stage today, in the evaluator's words (it has not reached the stage, or its
    period has ended), or None. What a rating page says before anyone picks a level."""
    today = today or timezone.localdate()
    stage_time = record.stage_time(stage)
    problem = rules.timing_problem(
        stage_day=timezone.localtime(stage_time).date() if stage_time else None, today=today,
        last_day=last_rating_day(record, stage), type_=EvaluationType.ACTIVE, has_active=False,
    )
    return problem[1] if problem else None


def check_timing(data: EvaluationInput, record: ServiceRecord, today, *, has_active: bool,
                 last_days: dict | None = None) -> None:
    """The stage and the 补充评价 period, counted from the stage's day (``has_active``: the 办件 already has an
    active evaluation of this stage). ``last_days``: a memo of period ends by (stage day, region) for many checks."""
    if data.stage not in ("accept", "complete"):
        raise invalid("评价环节应为 accept（受理）或 complete（办结）", "stage")
    stage_time = record.stage_time(data.stage)
    stage_day = timezone.localtime(stage_time).date() if stage_time else None
    last_day = last_rating_day(record, data.stage, last_days=last_days) if stage_day is not None else None
    problem = rules.timing_problem(stage_day=stage_day, today=today, last_day=last_day, type_=data.type,
                                   has_active=has_active and data.type == EvaluationType.FOLLOWUP)
    if problem:
        raise invalid(problem[1], problem[0])


def _refuse_insider(actor, *, paper_entry: bool = False) -> None:
    if paper_entry:
        # R3.2: a filled paper form is typed in by a permitted colleague who relays the evaluator's own marks;
        # whether they are the rated staff member is checked once the 办件 is known (_refuse_own_record).
        if actor is None or not getattr(actor, "is_authenticated", False) or not actor.has_perm("evaluation.enter_paper_form"):
            raise DomainError(403, "禁止操作", "没有录入书面评价表的权限", code="forbidden")
        return
    # R7.1: people who work inside the system never rate, neither themselves nor on an evaluator's behalf.
    if actor is not None and getattr(actor, "is_authenticated", False) and actor.is_insider:
        log.warning("evaluation refused: signed-in insider user_id=%s role=%s", actor.pk, actor.role)
        raise DomainError(403, "禁止操作", "工作人员不能提交评价（不得代评、自评）", code="forbidden")


def _refuse_own_record(actor, record: ServiceRecord) -> None:
    # R7.1: nobody enters the paper form that rates their own work.
    if record.staff_id is not None and getattr(actor, "staff_id", None) == record.staff_id:
        log.warning("paper entry refused: user_id=%s is the rated staff member", actor.pk)
        raise DomainError(403, "禁止操作", "不能录入评价本人所办办件的书面评价表（不得自评）", "project_no", code="forbidden")


def _refuse_other_window(kiosk: KioskDevice | None, window_id) -> None:
    if kiosk is not None and window_id != kiosk.window_id:
        log.warning("evaluation refused: kiosk prefix=%s rated a 办件 of another window", kiosk.prefix)
        raise DomainError(403, "禁止操作", "该办件不属于本窗口，评价器不能评价", "project_no", code="forbidden")


def submit_evaluation(
    data: EvaluationInput, *, source: str, now=None, region_scope: Region | None = None, actor=None,
    kiosk: KioskDevice | None = None, paper_entry: bool = False, by_api_key: bool = False, imported: bool = False,
    client: ClientFingerprint | None = None,
) -> SubmitResult:
    """Record one evaluation of a 办件 stage.

    Idempotent on ``idempotency_key``: a retry with the same request returns the first result; the same key
    with a different request is a conflict. One active and one follow-up per (办件, stage), enforced by the
    database. The row and everything receivers of ``evaluation_written`` do (e.g. open a case) commit together.
    ``region_scope`` (an API key's region) hides records outside that region's subtree.
    ``actor`` is the signed-in user, if any: insiders (staff, handlers, supervisors, administrators) are
    refused with 403 (R7.1). ``kiosk`` is the submitting 评价器, if any: it rates only its own window's 办件,
    on the kiosk channel. ``paper_entry`` marks the typing-in of a filled paper form (channel paper): then
    ``actor`` must hold ``evaluation.enter_paper_form`` and must not be the 办件's staff member (R3.2, R7.1).
    ``by_api_key``: a platform's API key submits; it may not claim the kiosk channel (403).
    ``imported``: history brought over from a former system (`haochaping import`): ``now`` is the evaluation's
    original time (the 补充评价 period is checked against it), channel ``system_default`` is accepted and kept
    apart, and receivers know it by ``source`` (``import:…``).
    ``client``: blind indexes of the evaluator's address and device cookie (evaluation.fingerprint), kept for the
    fraud detectors.
    """
    _refuse_insider(actor, paper_entry=paper_entry)
    if paper_entry and data.channel != Channel.PAPER:
        raise invalid("书面评价表录入的评价，评价渠道必须为 paper（书面评价表）", "channel")
    if kiosk is not None or by_api_key:
        problem = rules.channel_claim_problem(data.channel, by_device=kiosk is not None)
        if problem and kiosk is not None:
            raise invalid(problem, "channel")
        if problem:
            log.warning("evaluation refused: an API key claimed the kiosk channel")
            raise DomainError(403, "禁止操作", problem, "channel", code="forbidden")
    digest = request_hash(data)
    try:
        with transaction.atomic():
            # The checks and the write in one transaction: on PostgreSQL the probe locks the 办件 and draws the
            # new row's id, so the row, its counters and its outbox entries are then ONE statement (lookups.write).
            result = _submit_checked(data, digest, source=source, now=now, region_scope=region_scope, actor=actor,
                                     kiosk=kiosk, paper_entry=paper_entry, imported=imported, client=client)
    except lookups.DuplicateRow:
        # Lost a race: either the same idempotency key (a concurrent retry) or the same (办件, stage, type).
        again = _by_idempotency_key(data.idempotency_key)
        if again is not None:
            return _replay(again, digest)
        raise conflict(_duplicate_message(data.type), "type") from None
    return result


def _submit_checked(data: EvaluationInput, digest: str, *, source, now, region_scope, actor, kiosk, paper_entry,
                    imported, client) -> SubmitResult:
    # One statement: the idempotency key, the 办件 and the stage's evaluations (evaluation.lookups).
    found = lookups.probe(data.idempotency_key, data.project_no, data.stage, for_write=True)
    if found.existing_id is not None:
        existing = Evaluation.objects.one_by(id=found.existing_id).order_by().first()
        if existing is None:
            # The key's evaluation lies in a month detached for archive: its key row stays (core.partitions).
            raise conflict("该幂等键已用于一条已归档的评价", "idempotency_key")
        # A device may not read another window's receipt by replaying its idempotency key.
        _refuse_other_window(kiosk, existing.window_id)
        return _replay(existing, digest)
    record = found.record
    if record is None or (region_scope is not None and not record.region_id.startswith(region_prefix(region_scope.code))):
        raise not_found("办件不存在", "project_no")
    _refuse_other_window(kiosk, record.window_id)
    if paper_entry:
        _refuse_own_record(actor, record)
    # In UTC, as the database gives it back: the leaf hash covers created_at's ISO text, so a caller's own offset
    # (an imported row's +08:00) must not make the stored row hash differently from what a verifier recomputes.
    now = (now or timezone.now()).astimezone(UTC)
    today = timezone.localtime(now).date()
    check_fields(data, imported=imported)
    if data.labels:
        check_labels(data, set(Label.objects.filter(code__in=data.labels, is_active=True).values_list("code", flat=True)))
    check_timing(data, record, today, has_active=found.active_key is not None)
    taken_key = found.active_key if data.type == EvaluationType.ACTIVE else found.followup_key
    if taken_key is not None:
        # A concurrent retry of this very request may have committed since the probe read the key.
        if taken_key == data.idempotency_key:
            return _replay(_by_idempotency_key(taken_key), digest)
        raise conflict(_duplicate_message(data.type), "type")
    ev = new_evaluation(data, record, now=now, today=today, digest=digest, source=source, client=client)
    ev.pk = found.new_id
    # No savepoint: the row is this transaction's first write, so a unique violation of the row rolls back nothing
    # else; lookups.write tells it (DuplicateRow) from a receiver's fault (which propagates as it is).
    lookups.write(ev, data.labels, lambda written: [
        statement for _receiver, statements in evaluation_writing.send(sender=Evaluation, evaluation=written,
                                                                      labels=data.labels)
        for statement in statements or ()
    ])
    case_id = _case_id(evaluation_written.send(sender=Evaluation, evaluation=ev, composed=True))
    return SubmitResult(ev, case_id, replayed=False)


def new_evaluation(data: EvaluationInput, record: ServiceRecord, *, now, today, digest: str, source: str,
                   client: ClientFingerprint | None = None) -> Evaluation:
    """The unsaved row of a checked evaluation, its leaf hash computed (R8.1)."""
    stage_day = timezone.localtime(record.stage_time(data.stage)).date()
    ev = Evaluation(
        record=record,
        stage=data.stage,
        type=data.type,
        channel=data.channel,
        level=data.level,
        is_bad=rules.is_bad(data.level),
        is_supplementary=rules.is_supplementary(stage_day, today),
        comment=data.comment,
        questionnaire=data.questionnaire,
        evaluator_name=data.evaluator_name,
        evaluator_phone=data.evaluator_phone,
        evaluator_phone_index=crypto.blind_index(data.evaluator_phone, kind="phone") if data.evaluator_phone else "",
        is_real_name=bool(data.evaluator_phone),
        item_id=record.item_id,
        region_id=record.region_id,
        department_id=record.department_id,
        agency_id=record.agency_id,
        window_id=record.window_id,
        staff_id=record.staff_id,
        platform_id=record.platform_id,
        idempotency_key=data.idempotency_key,
        request_hash=digest,
        receipt_code=new_receipt_code(),
        source=source,
        client_address_index=client.address_index if client else "",
        client_device_index=client.device_index if client else "",
        created_at=now,
    )
    ev.leaf_hash = crypto.sm3_hex(canonical_bytes(ev, data.labels))
    ev.local_day = today  # the local day of created_at (= now), as the counters key it (rows.local_day)
    return ev


def _duplicate_message(type_: str) -> str:
    if type_ == EvaluationType.FOLLOWUP:
        return "该办件的这一环节已有追加评价，每个环节只能追加评价一次"
    return "该办件的这一环节已评价过，每个环节只能主动评价一次；如需补充意见请使用追加评价"


def evaluation_with_record(**unique) -> Evaluation | None:
    """One evaluation (its item and labels too) and its 办件, by the evaluation's id or a unique key, each read from its
    own month's partition (core.pruning; a join would open every month's 办件); None when either is not there (or is
    archived)."""
    ev = Evaluation.objects.select_related("item").prefetch_related("labels").one_by(**unique).first()
    record = ServiceRecord.objects.one_by(id=ev.record_id).first() if ev is not None else None
    if record is None:
        return None
    ev.record = record
    return ev


def find_by_receipt(code: str) -> Evaluation:
    ev = evaluation_with_record(receipt_code=code.strip().upper())
    if ev is None:
        raise DomainError(404, "未找到", "没有这个评价回执码，请核对后重试", "code", code="not_found")
    return ev


def followup_taken(evaluation: Evaluation) -> bool:
    """Whether the stage of ``evaluation``'s 办件 already has its 追加评价 (one per stage; a unique key)."""
    return Evaluation.objects.one_by(record_id=evaluation.record_id, stage=evaluation.stage,
                                     type=EvaluationType.FOLLOWUP).exists()


def exclude_evaluation(evaluation_id, *, reason: str, source: str, actor, note: str = "", now=None) -> EvaluationExclusion:
    """Take an evaluation out of statistics (R7.3: upheld appeal; R4.3: confirmed 误评/恶意差评).

    Writes an :class:`EvaluationExclusion` row (the evaluation itself stays as it was) and sends
    ``evaluation_excluded`` in the same transaction. An evaluation is excluded at most once."""
    if reason not in ExclusionReason.values:
        raise invalid("不计入统计的原因无效", "reason")
    with transaction.atomic():
        evaluation = Evaluation.objects.select_for_update().filter(pk=evaluation_id).first()
        if evaluation is None:
            raise not_found("没有这条评价", "evaluation_id")
        if EvaluationExclusion.objects.filter(evaluation_id=evaluation.pk).exists():
            raise conflict("该评价已不计入统计", "evaluation_id")
        exclusion = EvaluationExclusion.objects.create(
            evaluation=evaluation, reason=reason, source=source, note=note.strip(),
            actor_id=getattr(actor, "pk", None), at=now or timezone.now(),
        )
        AuditEntry.objects.create(
            actor=getattr(actor, "username", None) or "system", action="evaluation.exclude",
            object_type="evaluation.Evaluation", object_id=str(evaluation.pk),
            data={"reason": reason, "source": source},
        )
        evaluation_excluded.send(sender=Evaluation, evaluation=evaluation, exclusion=exclusion)
    return exclusion


# --- paper forms (书面评价表, R3.2) ------------------------------------------------------------------------

PAPER_FORM_DIGITS = 6
MAX_PAPER_FORMS_PER_PRINT = 200


def create_paper_forms(agency, count: int) -> list:
    """Create ``count`` numbered paper forms for ``agency`` ("<agency code>-000001" upwards), in one transaction.

    The agency row is locked so two prints at once never draw the same numbers (the unique number backs it up).
    """
    from haochaping.org.models import ServiceAgency

    from .models import PaperForm

    if not 1 <= count <= MAX_PAPER_FORMS_PER_PRINT:
        raise invalid(f"打印份数应为 1 至 {MAX_PAPER_FORMS_PER_PRINT} 之间的整数", "count")
    with transaction.atomic():
        agency = ServiceAgency.objects.select_for_update().get(pk=agency.pk)
        prefix = f"{agency.code}-"
        last = 0
        for number in PaperForm.objects.filter(agency=agency, number__startswith=prefix).values_list("number", flat=True):
            tail = number[len(prefix):]
            if tail.isdigit():
                last = max(last, int(tail))
        forms = [PaperForm(agency=agency, number=f"{prefix}{last + n:0{PAPER_FORM_DIGITS}d}") for n in range(1, count + 1)]
        return PaperForm.objects.bulk_create(forms)


def enter_paper_form(form_id: int, data: EvaluationInput, *, actor, scan, scan_name: str, now=None) -> SubmitResult:
    """Enter a filled paper form: write its evaluation (channel paper) and mark the form entered, together.

    ``form_id`` is a form the caller may enter (the view checked scope). Each form is entered once: a second
    entry is a conflict and writes nothing. The 办件 must be one of the form's agency; ``actor`` must hold
    ``evaluation.enter_paper_form`` and must not be the 办件's staff member (R3.2, R7.1). ``scan`` (already
    checked for type and size) is stored as ``scan_name``.
    """
    from .models import PaperForm

    now = now or timezone.now()
    with transaction.atomic():
        form = PaperForm.objects.select_for_update().get(pk=form_id)
        if form.evaluation_id is not None:
            raise conflict("该评价表编号已录入过，每张评价表只能录入一次", "form_number")
        record = ServiceRecord.objects.by_number(data.project_no).only("agency_id").first()
        if record is None or record.agency_id != form.agency_id:
            raise not_found("该政务服务机构没有这个办件编号，请核对评价表上填写的办件编号", "project_no")
        result = submit_evaluation(data, source=f"paper:{form.number}", actor=actor, paper_entry=True, now=now)
        if result.replayed:
            raise conflict("该评价表编号已录入过，每张评价表只能录入一次", "form_number")
        form.evaluation = result.evaluation
        form.entered_by = actor
        form.entered_at = now
        form.scan.save(scan_name, scan, save=False)
        try:
            form.save(update_fields=["evaluation", "entered_by", "entered_at", "scan"])
        except Exception:
            # The rows roll back; the stored file must not outlive them.
            form.scan.delete(save=False)
            raise
    return result
