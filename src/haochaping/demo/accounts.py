"""Demo accounts (``haochaping demo``): one per role and place in the demo province, all sharing one password.

- ``admin``: superuser;
- ``sup-<region code>``: supervisor of 370000 and of every demo city and county;
- ``handler-<unit code>``: handler of every demo department (统一社会信用代码) and service agency (机构编码);
- ``hotline-<city code>``: 12345 operators of each demo city; ``assessor-370000``: a third-party assessor;
- staff by 工号 (username = staff_no), linked to their Staff row; the staff member of each hall's 统一出件窗口 is
  that hall's paper-form clerk (listed as such).

All are ``is_demo``: their TOTP step is waived only while HAOCHAPING_DEMO=1. The password comes from
HAOCHAPING_DEMO_PASSWORD or :data:`DEFAULT_PASSWORD`. It is hashed once and the hash reused, so several hundred
accounts take one Argon2 run, not hundreds (they share a salt — acceptable for demo accounts only).
"""

from __future__ import annotations

import os
import random
import unicodedata
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.translation import gettext as _

from haochaping.accounts.roles import Role
from haochaping.org.models import Department, ServiceAgency, Staff

from . import data
from .common import Fake

DEFAULT_PASSWORD = "Haochaping-Demo-2026"
PASSWORD_ENV = "HAOCHAPING_DEMO_PASSWORD"
STAFF_PREFIX = "YS"  # demo 工号 (generator.build_org)
AGENCY_PREFIX = "DEMO-"
# The window whose staff member is the hall's paper-form clerk (data.CENTER_WINDOWS: 统一出件窗口, no department).
CLERK_WINDOW = "D01"
CLERK_ROLE = "书面评价表录入"


@dataclass
class DemoAccount:
    username: str
    role: str
    place: str  # region or unit, for the printed table


def demo_password() -> tuple[str, bool]:
    """The demo password and whether it is the default (so the command prints it)."""
    value = os.environ.get(PASSWORD_ENV, "")
    return (value, False) if value else (DEFAULT_PASSWORD, True)


def _region_codes() -> list[str]:
    return [data.PROVINCE[0], *(c for c, _n in data.CITIES), *(c for c, _n, _p in data.COUNTIES)]


def _planned() -> list[tuple[dict, str]]:
    """(fields of the user, place) for every demo account, in print order."""
    names = {data.PROVINCE[0]: data.PROVINCE[1], **dict(data.CITIES), **{c: n for c, n, _p in data.COUNTIES}}
    plans: list[tuple[dict, str]] = [
        ({"username": "admin", "role": Role.ADMINISTRATOR, "is_superuser": True}, _("全部地区")),
    ]
    for code in _region_codes():
        plans.append(({"username": f"sup-{code}", "role": Role.SUPERVISOR, "region_id": code}, f"{names[code]}（{code}）"))
    departments = Department.objects.filter(region_id__in=_region_codes(), name__endswith=data.DEMO).order_by("region_id", "credit_code")
    for dept in departments:
        plans.append(({"username": f"handler-{dept.credit_code}", "role": Role.HANDLER, "region_id": dept.region_id,
                       "department_id": dept.pk}, dept.name))
    agencies = ServiceAgency.objects.filter(code__startswith=AGENCY_PREFIX, region_id__in=_region_codes()).order_by("code")
    for agency in agencies:
        plans.append(({"username": f"handler-{agency.code}", "role": Role.HANDLER, "region_id": agency.region_id,
                       "agency_id": agency.pk}, agency.name))
    # 12345 operators of each city's hotline, and a commissioned third-party assessor for the province.
    for code, name in data.CITIES:
        plans.append(({"username": f"hotline-{code}", "role": Role.HOTLINE, "region_id": code}, f"{name}12345热线"))
    plans.append(({"username": f"assessor-{data.PROVINCE[0]}", "role": Role.ASSESSOR, "region_id": data.PROVINCE[0]},
                  f"{data.PROVINCE[1]}（{_('受委托的第三方评估机构')}）"))
    staff = (Staff.objects.filter(staff_no__startswith=STAFF_PREFIX, agency__code__startswith=AGENCY_PREFIX)
             .select_related("agency", "window").order_by("staff_no"))
    for member in staff:
        place = member.agency.name
        if member.window is not None and member.window.code == CLERK_WINDOW:
            # The hall's 统一出件 staff enter their colleagues' paper forms (never their own: R3.2, R7.1).
            place = f"{place} {member.window.name}（{CLERK_ROLE}）"
        plans.append(({"username": member.staff_no, "role": Role.STAFF, "region_id": member.agency.region_id,
                       "staff_id": member.pk}, place))
    return plans


def missing() -> bool:
    """Whether some demo account does not exist yet (e.g. a database loaded before accounts were added)."""
    User = get_user_model()
    usernames = [fields["username"] for fields, _place in _planned()]
    return User.objects.filter(username__in=usernames).count() < len(usernames)


def create_demo_accounts(password: str | None = None) -> tuple[list[DemoAccount], list[DemoAccount]]:
    """Create the demo accounts that do not exist yet; returns (created, all). Existing users of the same name
    are left as they are (their password is not touched)."""
    User = get_user_model()
    password = password or demo_password()[0]
    plans = _planned()
    existing = set(User.objects.filter(username__in=[f["username"] for f, _p in plans]).values_list("username", flat=True))
    hashed = make_password(password)  # once: Argon2 per account would take minutes
    taken_staff = set(User.objects.filter(staff__isnull=False).values_list("staff_id", flat=True))
    new_users, created, everyone = [], [], []
    for fields, place in plans:
        account = DemoAccount(fields["username"], fields["role"], place)
        everyone.append(account)
        if fields["username"] in existing or fields.get("staff_id") in taken_staff:
            continue
        last, first = _demo_name(fields["username"]) if not fields.get("staff_id") else ("", "")
        new_users.append(User(**fields, last_name=last, first_name=first, password=hashed, is_staff=True,
                              is_active=True, is_demo=True))
        created.append(account)
    with transaction.atomic():
        User.objects.bulk_create(new_users, batch_size=500)
    return created, everyone


def _demo_name(username: str) -> tuple[str, str]:
    """A generated (never real) person's name for a demo account, the same for the same account on every load, so
    pages show 张三（经办人，历下区人社局） as they would for real people, not the login name. Staff accounts take
    their staff record's name instead."""
    name = Fake(random.Random(f"demo-account:{username}")).person()
    surname = name[:2] if name[:2] in data.SURNAMES else name[:1]
    return surname, name[len(surname):]


def _pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (Chinese characters take two)."""
    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - columns, 1)


def table(accounts: list[DemoAccount], *, staff_shown: int = 5) -> list[str]:
    """The accounts as printable lines; staff accounts (hundreds) are cut to the first few and a count."""
    labels = dict(Role.choices)

    def line(username: str, role: str, place: str) -> str:
        return f"{_pad(username, 28)}{_pad(role, 26)}{place}"

    lines = [line(_("用户名"), _("角色"), _("地区/单位"))]
    staff = [a for a in accounts if a.role == Role.STAFF]
    others = [a for a in accounts if a.role != Role.STAFF]
    clerks = [a for a in staff[staff_shown:] if CLERK_ROLE in a.place]
    for account in [*others, *staff[:staff_shown], *clerks]:
        lines.append(line(account.username, str(labels[account.role]), account.place))
    if len(staff) > staff_shown:
        lines.append(_("……共 %(n)d 个窗口工作人员账号（用户名为工号，%(first)s 至 %(last)s）")
                     % {"n": len(staff), "first": staff[0].username, "last": staff[-1].username})
    return lines
