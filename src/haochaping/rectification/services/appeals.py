"""Use cases of appeals (申诉, R7.3): the rated staff member or unit contests a 差评; a supervisor of the
management agency over the case's region reviews it.

Each service is one transaction: it locks the case row and then the appeal row (``select_for_update``, always in
that order, like the case services), checks the step against :mod:`.rules`, writes the change, one
:class:`CaseTransition` (the case's state unchanged, except the close of an upheld appeal) and one
``core.AuditEntry`` without free text. A refused step raises ``DomainError`` with a Chinese message naming the
field and writes nothing — evidence files included.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haochaping.accounts.roles import Role
from haochaping.core import calendar, uploads
from haochaping.core.models import AuditEntry
from haochaping.core.problems import DomainError, conflict, invalid, not_found
from haochaping.core.scoping import can_see, scope
from haochaping.evaluation.models import Evaluation, EvaluationExclusion, ExclusionReason
from haochaping.evaluation.services import exclude_evaluation
from haochaping.org import policy
from haochaping.rectification import rules
from haochaping.rectification.models import Appeal, CaseAttachment, CaseTransition, RectificationCase
from haochaping.rectification.rules import AppealState, Kind, State

SYSTEM = "system"
MAX_FILES = 5
FILES_LABEL = gettext_lazy("申诉证据")


def _active(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def _is_rated_staff(user, case: RectificationCase) -> bool:
    if user.role != Role.STAFF or not user.staff_id or case.evaluation_id is None:
        return False
    return case.evaluation.staff_id == user.staff_id


def is_rated_party(user, case: RectificationCase) -> bool:
    """Whether ``user`` may appeal the 差评 of ``case``: the rated staff member (their 工号 is the evaluation's) or
    a handler of the unit responsible for the case."""
    if not _active(user) or case.kind != Kind.BAD_REVIEW or case.evaluation_id is None:
        return False
    if _is_rated_staff(user, case):
        return True
    return user.role == Role.HANDLER and can_see(user, case)


def _in_scope(user, case: RectificationCase) -> bool:
    """The case is visible to ``user``: through the case's unit and region, or as the rated staff member."""
    return _active(user) and (can_see(user, case) or _is_rated_staff(user, case))


def may_review(user, case: RectificationCase) -> bool:
    """A supervisor whose region covers the case (the same-level management agency or one above it)."""
    if not _active(user):
        return False
    return user.is_superuser or (user.role == Role.SUPERVISOR and can_see(user, case))


def appeal_period_problems(user, case: RectificationCase, today=None) -> list[tuple[str, str]]:
    """Why ``user`` cannot appeal ``case`` now (everything but the explanation), or [] (for pages' lists)."""
    today = today or timezone.localdate()
    return rules.appeal_problems(
        is_rated_party=is_rated_party(user, case), case_state=case.state, kind=case.kind,
        has_appeal=Appeal.objects.filter(case_id=case.pk).exists(), today=today,
        appeal_due=case.appeal_due or today, explanation="-",
    )


def appealable_cases(user):
    """Cases whose 差评 ``user`` might appeal as the rated party (whatever the period), for the pages."""
    if not _active(user):
        return RectificationCase.objects.none()
    cases = RectificationCase.objects.filter(kind=Kind.BAD_REVIEW, evaluation__isnull=False)
    if user.role == Role.STAFF and user.staff_id:
        # Cases carry no staff path; a staff member's scope is their own evaluations.
        return cases.filter(evaluation__in=scope(Evaluation.objects.all(), user).values("pk"))
    if user.role == Role.HANDLER:
        return scope(cases, user)
    return cases.none()


def _forbidden(detail: str, field: str) -> DomainError:
    return DomainError(403, _("无权操作"), detail, field, code="forbidden")


def _actor_name(actor) -> str:
    return getattr(actor, "username", None) or SYSTEM


def _record(case: RectificationCase, appeal: Appeal, *, action: str, actor, at, to_state: str | None = None,
            from_appeal: str = "", note: str = "", data: dict | None = None) -> None:
    """The case's transition row and the audit entry of one appeal step (notes stay out of the audit)."""
    CaseTransition.objects.create(
        case=case, at=at, actor_id=getattr(actor, "pk", None), action=action, from_state=case.state,
        to_state=to_state or case.state, note=note,
    )
    AuditEntry.objects.create(
        actor=_actor_name(actor), action=f"appeal.{action.removeprefix('appeal_')}", object_type="rectification.Appeal",
        object_id=str(appeal.pk),
        data={"case": case.pk, "from": from_appeal, "to": appeal.state, **(data or {})},
    )


def _checked_files(files) -> list[tuple[object, str]]:
    """Each evidence file with its normalised extension; a bad one refuses the whole appeal before anything is
    written."""
    files = [f for f in files if f is not None]
    if len(files) > MAX_FILES:
        raise invalid(_("“%(label)s”最多上传%(n)d个文件") % {"label": FILES_LABEL, "n": MAX_FILES}, "files")
    checked = []
    for upload in files:
        try:
            kind = uploads.check_scan(upload, label=str(FILES_LABEL))
        except ValidationError as exc:
            raise invalid(exc.messages[0], "files") from None
        checked.append((upload, kind))
    return checked


def _pk(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _locked_case(case_id) -> RectificationCase | None:
    pk = _pk(case_id)
    return RectificationCase.objects.select_for_update().filter(pk=pk).first() if pk is not None else None


def submit_appeal(case_id, *, actor, explanation: str, files=()) -> Appeal:
    """File the appeal of a 差评 (R7.3): by the rated party, once, on or before the case's ``appeal_due``, with an
    explanation and up to five evidence files (JPG, PNG or PDF). The review is due ``appeal_review_days`` working
    days later on the region's calendar. The case's own deadlines keep running."""
    explanation = (explanation or "").strip()
    saved: list[str] = []
    try:
        with transaction.atomic():
            case = _locked_case(case_id)
            if case is None or not _in_scope(actor, case):
                raise not_found(_("没有这个整改案件"), "case_id")
            rated = is_rated_party(actor, case)
            has_appeal = Appeal.objects.filter(case_id=case.pk).exists()
            now = timezone.now()
            today = timezone.localdate(now)
            problems = rules.appeal_problems(
                is_rated_party=rated, case_state=case.state, kind=case.kind, has_appeal=has_appeal, today=today,
                appeal_due=case.appeal_due or today, explanation=explanation,
            )
            if problems:
                field, message = problems[0]
                if not rated:
                    raise _forbidden(message, field)
                if has_appeal or case.state == State.CLOSED:
                    raise conflict(message, field)
                raise invalid(message, field)
            # Checked (not yet stored) only now: who may appeal is answered before what they sent.
            checked = _checked_files(files)
            region = case.region_id
            review_due = calendar.add_working_days(today, policy.period_days(region, "appeal_review_days"), region)
            party = Appeal.Party.STAFF if _is_rated_staff(actor, case) else Appeal.Party.UNIT
            appeal = Appeal.objects.create(
                case=case, evaluation_id=case.evaluation_id, appellant=actor, party=party, explanation=explanation,
                state=AppealState.SUBMITTED, submitted_at=now, review_due=review_due,
            )
            for number, (upload, kind) in enumerate(checked, start=1):
                attachment = CaseAttachment(
                    case=case, appeal=appeal, purpose=CaseAttachment.Purpose.APPEAL,
                    original_name=(upload.name or f"evidence.{kind}")[-200:], size=upload.size or 0,
                    uploaded_by=actor, uploaded_at=now,
                )
                # The stored name is ours: an uploaded name may carry personal data or path tricks.
                attachment.file.save(f"appeal-{appeal.pk}-{number}.{kind}", upload, save=False)
                saved.append(attachment.file.name)
                attachment.save()
            _record(case, appeal, action="appeal_submitted", actor=actor, at=now,
                    data={"party": party, "files": len(checked), "review_due": review_due.isoformat()})
    except BaseException:
        # The rows roll back; the stored files must not outlive them.
        for name in saved:
            default_storage.delete(name)
        raise
    return appeal


def _locked_pair(appeal_id, actor) -> tuple[RectificationCase, Appeal]:
    """The appeal and its case, locked case first; not found (404) unless ``actor`` may review it."""
    appeal_id = _pk(appeal_id)
    case_id = Appeal.objects.filter(pk=appeal_id).values_list("case_id", flat=True).first() if appeal_id else None
    case = _locked_case(case_id) if case_id is not None else None
    appeal = Appeal.objects.select_for_update().filter(pk=appeal_id).first() if case is not None else None
    if case is None or appeal is None or not _in_scope(actor, case):
        raise not_found(_("没有这个申诉"), "appeal_id")
    if not may_review(actor, case):
        raise _forbidden(_("只有案件所在地政务服务管理机构的监督人员可以审核申诉"), "appeal_id")
    return case, appeal


def _move(appeal: Appeal, to_state: str) -> None:
    problem = rules.appeal_transition_problem(appeal.state, to_state)
    if problem:
        raise conflict(problem, "state")


def start_review(appeal_id, *, actor) -> Appeal:
    """A supervisor takes the appeal up (已提交 → 审核中); they become its reviewer."""
    with transaction.atomic():
        case, appeal = _locked_pair(appeal_id, actor)
        _move(appeal, AppealState.UNDER_REVIEW)
        before = appeal.state
        appeal.state = AppealState.UNDER_REVIEW
        appeal.reviewer = actor
        appeal.save(update_fields=["state", "reviewer"])
        _record(case, appeal, action="appeal_review", actor=actor, at=timezone.now(), from_appeal=before)
    return appeal


def decide_appeal(appeal_id, *, actor, upheld: bool | None, note: str) -> Appeal:
    """The review's decision with its reasons (审核意见). Upheld: the evaluation is excluded from statistics
    (reason 申诉成立, source ``appeal:<id>``; the evaluation itself stays) and the case closes, together. Rejected:
    the case goes on where it stands."""
    note = (note or "").strip()
    with transaction.atomic():
        case, appeal = _locked_pair(appeal_id, actor)
        to_appeal = AppealState.REJECTED if upheld is False else AppealState.UPHELD
        _move(appeal, to_appeal)  # a decided appeal is a conflict whatever the form says
        problems = rules.appeal_decision_problems(upheld=upheld, note=note)
        if problems:
            raise invalid(problems[0][1], problems[0][0])
        now = timezone.now()
        before = appeal.state
        appeal.state = to_appeal
        appeal.reviewer = actor
        appeal.decided_at = now
        appeal.decision_note = note
        appeal.save(update_fields=["state", "reviewer", "decided_at", "decision_note"])
        if not upheld:
            _record(case, appeal, action="appeal_rejected", actor=actor, at=now, from_appeal=before, note=note)
            return appeal
        # A confirmed 误评/恶意差评 may have excluded the evaluation already: it stays excluded, once.
        if not EvaluationExclusion.objects.filter(evaluation_id=case.evaluation_id).exists():
            exclude_evaluation(case.evaluation_id, reason=ExclusionReason.APPEAL_UPHELD, source=f"appeal:{appeal.pk}",
                               actor=actor, note=note, now=now)
        if case.state == State.CLOSED:
            # Closed meanwhile (the evaluator was satisfied): nothing left to close; the row still tells.
            _record(case, appeal, action="appeal_upheld", actor=actor, at=now, from_appeal=before, note=note)
            return appeal
        problem = rules.transition_problem(case.state, State.CLOSED, "appeal_upheld")
        if problem:
            raise conflict(problem, "state")
        _record(case, appeal, action="appeal_upheld", actor=actor, at=now, to_state=State.CLOSED,
                from_appeal=before, note=note)
        case.state = State.CLOSED
        case.closed_at = now
        case.save(update_fields=["state", "closed_at"])
    return appeal


def unit_bad_reviews(evaluation: Evaluation) -> dict[str, int | None]:
    """The rated unit's and staff member's 差评 that count in statistics (``Evaluation.objects.countable()``),
    for the appeal page: what an upheld appeal changes."""
    bad = Evaluation.objects.countable().filter(is_bad=True)
    return {
        "department": bad.filter(department_id=evaluation.department_id).count(),
        "staff": bad.filter(staff_id=evaluation.staff_id).count() if evaluation.staff_id else None,
    }
