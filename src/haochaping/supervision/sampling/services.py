"""Callback sampling's use cases: draw a unit's sample of a period (idempotent), draw every unit's for a period
(the worker), record a call, reveal the evaluator's phone to the operator (logged), and count mismatches per unit
(``mismatch_counts``, for the appraisal indicators)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from haochaping.accounts import privacy
from haochaping.accounts.models import PersonalDataAccess
from haochaping.core.models import AuditEntry
from haochaping.core.problems import DomainError, conflict, invalid, not_found
from haochaping.core.scoping import scope
from haochaping.evaluation.models import Evaluation
from haochaping.org.models import Department, Region

from . import rules
from .models import CallbackCall, CallbackItem, CallbackSample, CallStatus

log = logging.getLogger(__name__)

RECORD_PERMISSION = "supervision.record_callback"


def ratio() -> float:
    """The configured share of a unit's evaluations that goes on the callback list (HAOCHAPING_CALLBACK_RATIO)."""
    return rules.check_ratio(float(getattr(settings, "HAOCHAPING_CALLBACK_RATIO", rules.DEFAULT_RATIO)))


def minimum() -> int:
    return int(getattr(settings, "HAOCHAPING_CALLBACK_MINIMUM", rules.DEFAULT_MINIMUM))


def may_call(user) -> bool:
    return bool(user and user.is_active and (user.is_superuser or user.has_perm(RECORD_PERMISSION)))


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (timezone.make_aware(datetime.combine(start, time.min), tz),
            timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz))


def callable_evaluations(department_id: int, start: date, end: date):
    """The unit's counted evaluations of the period that can be called back: a phone is known (the evaluator's, or
    the applicant's of the 办件)."""
    since, until = _bounds(start, end)
    return (Evaluation.objects.countable()
            .filter(department_id=department_id, created_at__gte=since, created_at__lt=until)
            .filter(~Q(evaluator_phone_index="") | ~Q(record__applicant_phone_index="")))


@dataclass
class Drawn:
    sample: CallbackSample
    created: bool


def draw_sample(department_id: int, start: date, end: date, *, actor=None, now=None,
                ratio_: float | None = None, minimum_: int | None = None) -> Drawn:
    """The unit's sample of the period: drawn once (rules.draw, seeded by unit and period) and stored; drawing it
    again returns the stored one and adds nothing. ``actor`` (None for the worker) must see the unit."""
    now = now or timezone.now()
    try:
        rules.check_period(start, end, timezone.localdate(now))
        share = rules.check_ratio(ratio() if ratio_ is None else ratio_)
    except rules.RuleError as exc:
        raise invalid(str(exc), exc.field) from exc
    least = minimum() if minimum_ is None else minimum_
    units = Department.objects.all() if actor is None else scope(Department.objects.all(), actor)
    unit = units.filter(pk=department_id).first()
    if unit is None:
        raise not_found(_("没有这个单位"), "department")
    existing = CallbackSample.objects.filter(department=unit, period_start=start, period_end=end).first()
    if existing is not None:
        return Drawn(existing, False)
    seed = rules.seed_for(unit.pk, start, end)
    pool = [rules.Candidate(pk, level) for pk, level in
            callable_evaluations(unit.pk, start, end).order_by().values_list("pk", "level")]
    picked = rules.draw(pool, share, seed, least)
    try:
        with transaction.atomic():
            sample = CallbackSample.objects.create(
                department=unit, region_id=unit.region_id, period_start=start, period_end=end, ratio=share,
                minimum=least, seed=str(seed), population=len(pool), drawn_at=now, drawn_by=actor)
            CallbackItem.objects.bulk_create([CallbackItem(sample=sample, evaluation_id=c.evaluation_id, level=c.level)
                                              for c in picked])
            AuditEntry.objects.create(
                actor=getattr(actor, "username", None) or "system", action="callback.draw",
                object_type="supervision.CallbackSample", object_id=str(sample.pk),
                data={"department": unit.pk, "start": start.isoformat(), "end": end.isoformat(),
                      "population": len(pool), "drawn": len(picked)})
    except IntegrityError:  # another process drew it at the same moment: theirs is the same sample
        return Drawn(CallbackSample.objects.get(department=unit, period_start=start, period_end=end), False)
    return Drawn(sample, True)


def draw_period(start: date, end: date, *, now=None, region: str | None = None) -> list[Drawn]:
    """Every unit's sample of the period (units with at least one callable evaluation), or only those of the
    ``region`` subtree."""
    since, until = _bounds(start, end)
    evaluations = Evaluation.objects.countable()
    if region:
        evaluations = evaluations.filter(region__in=Region.objects.subtree(region))
    units = (evaluations.filter(created_at__gte=since, created_at__lt=until)
             .filter(~Q(evaluator_phone_index="") | ~Q(record__applicant_phone_index=""))
             .order_by().values_list("department_id", flat=True).distinct())
    return [draw_sample(unit, start, end, now=now) for unit in sorted(set(units))]


def draw_last_month(*, now=None) -> list[Drawn]:
    now = now or timezone.now()
    start, end = rules.previous_month(timezone.localdate(now))
    return draw_period(start, end, now=now)


# ---- the operators' work --------------------------------------------------------------------------------------

def visible_items(actor):
    return scope(CallbackItem.objects.all(), actor)


def _item_for(actor, item_id) -> CallbackItem:
    if not may_call(actor):
        raise DomainError(403, _("权限不足"), _("只有12345热线话务员和监督人员可以登记回访"), code="forbidden")
    item = visible_items(actor).select_for_update().filter(pk=item_id).first()
    if item is None:
        raise not_found(_("回访清单中没有这一条"), "item")
    return item


def record_call(item_id: int, outcome: rules.CallOutcome, *, actor, now=None) -> CallbackItem:
    """Record one call about an item (one transaction): the attempt is kept; a reached call completes the item
    with the evaluator's answers and flags a mismatch (rules.mismatches); an unreached one leaves it open for
    another attempt. An item already called back is refused."""
    errors = rules.check_call(outcome)
    if errors:
        field, message = next(iter(errors.items()))
        raise invalid(message, field, errors=errors)
    now = now or timezone.now()
    with transaction.atomic():
        item = _item_for(actor, item_id)
        if item.status == CallStatus.DONE:
            raise conflict(_("这条评价已回访过"), "item")
        CallbackCall.objects.create(item=item, operator=actor, at=now, reached=outcome.reached,
                                    gave_rating=outcome.gave_rating, pressured=outcome.pressured,
                                    satisfaction_now=outcome.satisfaction_now, notes=outcome.notes.strip())
        item.attempts += 1
        item.called_at = now
        if outcome.reached:
            found = rules.mismatches(outcome)
            item.status = CallStatus.DONE
            item.gave_rating, item.pressured = outcome.gave_rating, outcome.pressured
            item.satisfaction_now = outcome.satisfaction_now
            item.mismatch, item.mismatch_reasons = bool(found), found
        else:
            item.status = CallStatus.UNREACHED
        item.save()
        AuditEntry.objects.create(
            actor=actor.username, action="callback.call", object_type="supervision.CallbackItem",
            object_id=str(item.pk), data={"reached": outcome.reached, "mismatch": item.mismatch_reasons})
    if item.mismatch:
        log.info("callback item %s flagged: %s", item.pk, ",".join(item.mismatch_reasons))
    return item


def phone_subject(item: CallbackItem):
    """(object, field) holding the phone to call: the evaluator's own, else the 办件 applicant's."""
    evaluation = item.evaluation
    if evaluation.evaluator_phone_index:
        return evaluation, "evaluator_phone"
    return evaluation.record, "applicant_phone"


def masked_phone(item: CallbackItem) -> str:
    obj, field = phone_subject(item)
    value = getattr(obj, field)
    return str(value) if value else ""


def reveal_phone(item_id: int, reason: str, *, actor, ip: str | None = None) -> str:
    """The phone in clear for the operator making the call, written to the personal-data access log (the same
    row accounts.privacy.reveal writes). The callback permission replaces the general reveal permission: an
    operator sees only the phones of the items on their list."""
    from haochaping.accounts import rules as account_rules

    with transaction.atomic():
        item = _item_for(actor, item_id)
        error = account_rules.reason_error(reason)
        if error:
            raise invalid(error, "reason")
        obj, field = phone_subject(item)
        sealed = getattr(obj, field)
        value = sealed.reveal() if sealed else ""
        PersonalDataAccess.objects.create(
            user=actor, subject_type=privacy.subject_type(type(obj)), subject_id=str(obj.pk), field=field,
            reason=reason.strip(), region_code=item.sample.region_id, ip_address=privacy._clean_ip(ip))
    log.info("personal data revealed: user %s, callback item %s, field %s", actor.pk, item.pk, field)
    return value


# ---- what the supervisor and the appraisal read ---------------------------------------------------------------

def mismatch_counts(unit_ids, start: date, end: date) -> dict[int, int]:
    """Flagged callbacks per unit (department id) of the samples whose period lies within [start, end] (dates,
    both inclusive); every unit asked for is in the answer, 0 when none."""
    rows = (CallbackItem.objects.filter(mismatch=True, sample__department_id__in=list(unit_ids),
                                        sample__period_start__gte=start, sample__period_end__lte=end)
            .order_by().values("sample__department_id").annotate(n=Count("pk")))
    out = dict.fromkeys(unit_ids, 0)
    out.update({r["sample__department_id"]: r["n"] for r in rows})
    return out


@dataclass
class UnitFigures:
    department_id: int
    department: str
    sampled: int
    called: int
    reached: int
    mismatches: int


def unit_figures(actor, start: date, end: date) -> list[UnitFigures]:
    """Per unit in the actor's scope: evaluations sampled, called back (any attempt), reached, flagged."""
    rows = (visible_items(actor).filter(sample__period_start__gte=start, sample__period_end__lte=end)
            .order_by().values("sample__department_id", "sample__department__name")
            .annotate(sampled=Count("pk"), called=Count("pk", filter=~Q(status=CallStatus.PENDING)),
                      reached=Count("pk", filter=Q(status=CallStatus.DONE)),
                      mismatches=Count("pk", filter=Q(mismatch=True))))
    return sorted((UnitFigures(r["sample__department_id"], r["sample__department__name"], r["sampled"], r["called"],
                               r["reached"], r["mismatches"]) for r in rows),
                  key=lambda u: (-u.mismatches, u.department))
