"""Use cases of 通报 (§四(四)): issue a bulletin to the units of the agency's subtree, a unit acknowledges receipt,
the agency makes it public. One transaction each, with an audit entry (ids and codes only).

Order of checks: 404 (not the actor's to see, the same as missing) → 403 (role) → 409 (state) → 422 (field)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from haochaping.accounts.roles import Role
from haochaping.core.models import AuditEntry
from haochaping.core.problems import DomainError, conflict, invalid, not_found
from haochaping.core.scoping import scope
from haochaping.org.models import Department, ServiceAgency
from haochaping.org.rules import region_prefix

from .models import Bulletin, BulletinKind, BulletinRecipient

MAX_TITLE = 200
MAX_BODY = 20000


def _forbidden(detail: str) -> DomainError:
    return DomainError(403, _("无权操作"), detail, None, code="forbidden")


def _audit(actor, action: str, bulletin: Bulletin, **data) -> None:
    AuditEntry.objects.create(actor=getattr(actor, "username", None) or "system", action=f"bulletin.{action}",
                              object_type="supervision.Bulletin", object_id=str(bulletin.pk), data=data)


def is_issuer(actor) -> bool:
    return bool(actor is not None and actor.is_active and actor.region_id
                and (actor.is_superuser or actor.role == Role.SUPERVISOR))


def _problems(kind, title, body) -> list[tuple[str, str]]:
    problems = []
    if kind not in BulletinKind.values:
        problems.append(("kind", _("请选择通报类型（典型差评案例或典型经验）")))
    if not isinstance(title, str) or not title.strip():
        problems.append(("title", _("请填写标题")))
    elif len(title.strip()) > MAX_TITLE:
        problems.append(("title", _("标题不能超过%(n)d字") % {"n": MAX_TITLE}))
    if not isinstance(body, str) or not body.strip():
        problems.append(("body", _("请填写正文")))
    elif len(body) > MAX_BODY:
        problems.append(("body", _("正文不能超过%(n)d字") % {"n": MAX_BODY}))
    return problems


def issue(*, kind: str, title: str, body: str, actor, now=None) -> Bulletin:
    """Issue a bulletin from the actor's management agency to every active department and service agency of its
    subtree (the recipients are fixed now: a unit added later does not receive it)."""
    if not is_issuer(actor):
        raise _forbidden(_("只有政务服务管理机构的监督人员可以印发通报"))
    problems = _problems(kind, title, body)
    if problems:
        field, message = problems[0]
        raise invalid(message, field, errors=[{"field": f, "message": m} for f, m in problems])
    prefix = region_prefix(actor.region_id)
    departments = list(Department.objects.filter(is_active=True, region__pk__startswith=prefix).values_list("pk", flat=True))
    agencies = list(ServiceAgency.objects.filter(is_active=True, region__pk__startswith=prefix).values_list("pk", flat=True))
    if not departments and not agencies:
        raise conflict(_("辖区内没有在用的单位，无法印发通报"), "region")
    now = now or timezone.now()
    with transaction.atomic():
        bulletin = Bulletin.objects.create(region_id=actor.region_id, kind=kind, title=title.strip(), body=body.strip(),
                                           issued_at=now, issued_by=actor)
        BulletinRecipient.objects.bulk_create(
            [BulletinRecipient(bulletin=bulletin, department_id=pk) for pk in departments]
            + [BulletinRecipient(bulletin=bulletin, agency_id=pk) for pk in agencies]
        )
        _audit(actor, "issue", bulletin, kind=kind, recipients=len(departments) + len(agencies))
    return bulletin


def _visible(bulletin_id, actor) -> Bulletin:
    try:
        pk = int(bulletin_id)
    except (TypeError, ValueError):
        pk = None
    bulletin = scope(Bulletin.objects.all(), actor).filter(pk=pk).first() if pk is not None and actor else None
    if bulletin is None:
        raise not_found(_("没有这份通报"), "bulletin_id")
    return bulletin


def own_recipients(bulletin: Bulletin, actor):
    """The recipient rows of the actor's own unit(s): their department and/or their service agency."""
    rows = BulletinRecipient.objects.none()
    if getattr(actor, "department_id", None):
        rows = rows | BulletinRecipient.objects.filter(bulletin=bulletin, department_id=actor.department_id)
    if getattr(actor, "agency_id", None):
        rows = rows | BulletinRecipient.objects.filter(bulletin=bulletin, agency_id=actor.agency_id)
    return rows


@dataclass(frozen=True)
class Acknowledged:
    bulletin: Bulletin
    newly: int  # recipient rows acknowledged by this call (0: the unit had already)


def acknowledge(bulletin_id, *, actor, now=None) -> Acknowledged:
    """The actor's unit confirms receipt (签收). Saying it twice changes nothing."""
    bulletin = _visible(bulletin_id, actor)
    if actor.role != Role.HANDLER or not own_recipients(bulletin, actor).exists():
        raise _forbidden(_("只有收到通报的单位的人员可以签收"))
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(own_recipients(bulletin, actor).select_for_update().filter(acknowledged_at__isnull=True))
        for row in rows:
            row.acknowledged_at = now
            row.acknowledged_by = actor
            row.save(update_fields=["acknowledged_at", "acknowledged_by"])
        if rows:
            _audit(actor, "acknowledge", bulletin, recipients=[r.pk for r in rows])
    return Acknowledged(bulletin, len(rows))


def publish(bulletin_id, *, actor, now=None) -> Bulletin:
    """Make the bulletin public (the portal shows it). Only the issuing agency's supervisors; once is enough."""
    bulletin = _visible(bulletin_id, actor)
    if not is_issuer(actor) or actor.region_id != bulletin.region_id:
        raise _forbidden(_("只有印发该通报的政务服务管理机构可以公开通报"))
    with transaction.atomic():
        bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
        if bulletin.published_at is not None:
            raise conflict(_("该通报已公开"), "published_at")
        bulletin.published_at = now or timezone.now()
        bulletin.save(update_fields=["published_at"])
        _audit(actor, "publish", bulletin)
    return bulletin


def pending(bulletin: Bulletin) -> list[BulletinRecipient]:
    """The units that have not acknowledged, by name."""
    rows = bulletin.recipients.filter(acknowledged_at__isnull=True).select_related("department", "agency")
    return sorted(rows, key=lambda r: str(r))


def published():
    """Public bulletins, newest first (disclosure reads these for the portal)."""
    return Bulletin.objects.filter(published_at__isnull=False).select_related("region").order_by("-published_at", "-pk")
