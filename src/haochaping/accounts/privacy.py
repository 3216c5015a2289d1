"""Personal data access (R7.2): revealing one full value, the access log, and unusual volumes.

Personal values are stored as SM4 ciphertext and everywhere else show masked (``str()`` of a Sealed value).
:func:`reveal` is the one service that hands out a clear value: it needs the permission, an object the actor can
see, and a written reason, and it writes a :class:`PersonalDataAccess` row in the same transaction. Nothing here
ever logs a value: log lines carry user ids, object ids, field names and counts only.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from haochaping.core.fields import PersonalDataField
from haochaping.core.problems import DomainError, invalid, not_found
from haochaping.core.scoping import scope

from . import rules
from .models import PersonalDataAccess
from .roles import REVEAL_PERMISSION

log = logging.getLogger(__name__)


def revealable_fields(model) -> list[PersonalDataField]:
    """The personal fields of ``model`` a person may reveal. Secrets (TOTP seeds) are never revealable."""
    return [f for f in model._meta.concrete_fields if isinstance(f, PersonalDataField) and f.kind != "secret"]


def subject_type(model) -> str:
    return model._meta.label_lower


def may_reveal(actor) -> bool:
    return bool(actor is not None and getattr(actor, "is_authenticated", False) and actor.has_perm(REVEAL_PERMISSION))


def forbidden() -> DomainError:
    return DomainError(403, _("权限不足"), _("您没有查看完整个人信息的权限，此次尝试已记录"), code="forbidden")


def subject_not_found() -> DomainError:
    # The same answer whether the object does not exist or lies outside the actor's scope.
    return not_found(_("未找到该对象，或您无权查看"))


def log_refusal(actor, label: str, object_id, field: str) -> None:
    """Record an attempt to reveal without the permission (a forged form post, a probing script)."""
    log.warning("personal data reveal refused: user %s lacks the permission (%s %.40s, field %.60s)",
                getattr(actor, "pk", None), label, object_id, field)


def _region_code(obj) -> str:
    """The subject's region code, following the model's first scoping path to a region."""
    paths = getattr(type(obj), "scope_paths", None)
    for path in paths.region if paths else ():
        value = obj
        for part in path.split("__"):
            value = getattr(value, part, None)
            if value is None:
                break
        if value:
            return str(value)
    return ""


def _clean_ip(ip: str | None) -> str | None:
    try:
        validate_ipv46_address(ip or "")
    except ValidationError:
        return None
    return ip


def reveal(actor, obj, field: str, reason: str, ip: str | None = None) -> str:
    """The clear value of ``obj.<field>`` for ``actor``, logged in the personal-data access log.

    Refuses with a :class:`DomainError`: 403 without the reveal permission (logged); 404 when ``obj`` does not exist
    or is outside the actor's scope (the two are indistinguishable); 422 for an unknown field or a reason shorter
    than five characters. The value is read from the database inside the transaction that writes the log row, so
    a value is never handed out without its row.
    """
    model = type(obj)
    label = subject_type(model)
    if not may_reveal(actor):
        log_refusal(actor, label, obj.pk, field)
        raise forbidden()
    fields = {f.name: f for f in revealable_fields(model)}
    with transaction.atomic():
        # scope() is the same filter core.scoping.can_see applies; here it also fetches the current row.
        subject = scope(model._default_manager.filter(pk=obj.pk), actor).first() if obj.pk is not None else None
        if subject is None:
            log.warning("personal data reveal refused: %s %s not visible to user %s", label, obj.pk, actor.pk)
            raise subject_not_found()
        if field not in fields:
            choices = "、".join(str(f.verbose_name) for f in fields.values())
            raise invalid(_("请选择要查看的字段（%(choices)s）") % {"choices": choices}, "field")
        error = rules.reason_error(reason)
        if error:
            raise invalid(error, "reason")
        sealed = getattr(subject, field)
        value = sealed.reveal() if sealed else ""
        PersonalDataAccess.objects.create(
            user=actor, subject_type=label, subject_id=str(subject.pk), field=field, reason=reason.strip(),
            region_code=_region_code(subject), ip_address=_clean_ip(ip),
        )
    log.info("personal data revealed: user %s, %s %s, field %s", actor.pk, label, subject.pk, field)
    return value


def field_label(subject_type_label: str, field: str) -> str:
    """The verbose name of a logged field ("申请人手机号"), or the raw name for a model that no longer exists."""
    from django.apps import apps

    try:
        return str(apps.get_model(subject_type_label)._meta.get_field(field).verbose_name)
    except (LookupError, ValueError):
        return field


def daily_limit() -> int:
    return int(getattr(settings, "HAOCHAPING_REVEAL_DAILY_LIMIT", rules.DEFAULT_DAILY_LIMIT))


def reveal_counts(now: datetime | None = None, *, user_ids=None) -> list[tuple[int, int, int]]:
    """``(user_id, reveals in the last 24 h, reveals in the 30 days before)`` for users who revealed in the last 24 h."""
    w = rules.windows(now or timezone.now())
    rows = PersonalDataAccess.objects.filter(at__gte=w.history_start, at__lte=w.now)
    if user_ids is not None:
        rows = rows.filter(user_id__in=user_ids)
    rows = (
        rows.order_by()  # the model's ordering would otherwise join the GROUP BY
        .values("user_id")
        .annotate(last_day=Count("pk", filter=Q(at__gte=w.day_start)), history=Count("pk", filter=Q(at__lt=w.day_start)))
        .filter(last_day__gt=0)
    )
    return [(r["user_id"], r["last_day"], r["history"]) for r in rows]


def unusual_volumes(now: datetime | None = None, *, user_ids=None) -> list[rules.VolumeFlag]:
    """Users whose reveals in the last 24 hours are unusual (accounts.rules.volume_flag), most reveals first."""
    return rules.volume_flags(reveal_counts(now, user_ids=user_ids), daily_limit=daily_limit())
