"""E-mail to the people who work a case: its assignee and its unit's handlers (deadline reminders, 督办). One
message per recipient; a mail server that fails never fails the step or the task that sends."""

from __future__ import annotations

import logging
from collections import defaultdict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import get_connection, send_mass_mail
from django.db.models import Q

from haochaping.accounts.roles import Role
from haochaping.rectification.models import RectificationCase

log = logging.getLogger(__name__)


def handler_emails(cases: list[RectificationCase]) -> dict[int, list[str]]:
    """Per case: its assignee and the handlers of its unit (department, or the hall it was handled at)."""
    User = get_user_model()
    departments = {c.department_id for c in cases}
    agencies = {c.agency_id for c in cases if c.agency_id}
    assignees = {c.assignee_id for c in cases if c.assignee_id}
    users = User.objects.filter(is_active=True).exclude(email="").filter(
        Q(role=Role.HANDLER) & (Q(department_id__in=departments) | Q(agency_id__in=agencies)) | Q(pk__in=assignees)
    ).values_list("pk", "email", "role", "department_id", "agency_id")
    by_pk = {}
    by_department, by_agency = defaultdict(list), defaultdict(list)
    for pk, email, role, department_id, agency_id in users:
        by_pk[pk] = email
        if role == Role.HANDLER:
            if department_id:
                by_department[department_id].append(email)
            if agency_id:
                by_agency[agency_id].append(email)
    out = {}
    for c in cases:
        emails = [by_pk[c.assignee_id]] if c.assignee_id in by_pk else []
        emails += by_department.get(c.department_id, []) + (by_agency.get(c.agency_id, []) if c.agency_id else [])
        out[c.pk] = list(dict.fromkeys(emails))
    return out


def workbench_url() -> str:
    return f"{settings.HAOCHAPING_PUBLIC_URL}/work/"


def send_mails(messages: list[tuple[str, str, None, list[str]]]) -> None:
    """One message per recipient (addresses are not shown to each other), over one connection."""
    if not messages:
        return
    try:
        send_mass_mail(messages, fail_silently=False, connection=get_connection())
    except Exception:  # the notice is written; a mail server outage must not fail the task or repeat notices
        log.exception("sending %d workbench e-mails failed", len(messages))


def mails(subject: str, body: str, emails: list[str]) -> list[tuple]:
    return [(subject, body, None, [email]) for email in emails]
