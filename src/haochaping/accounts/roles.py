"""Roles and what each may do (DESIGN.md "People, scopes, privacy").

Permissions come from the role (RoleBackend below), visibility from the scope (core.scoping).
Both are decided here and nowhere else.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    EVALUATOR = "evaluator", _("评价人")
    STAFF = "staff", _("窗口工作人员")
    HANDLER = "handler", _("业务办理单位经办人")
    SUPERVISOR = "supervisor", _("政务服务管理机构监督人员")
    ASSESSOR = "assessor", _("第三方评估机构人员")
    HOTLINE = "hotline", _("12345热线话务员")
    ADMINISTRATOR = "administrator", _("系统管理员")


# Roles whose members work inside the system and so may never submit an evaluation (R7.1).
INSIDERS = {Role.STAFF, Role.HANDLER, Role.SUPERVISOR, Role.ADMINISTRATOR}
# Roles that need a unit (department or service agency) / a staff record.
NEEDS_UNIT = {Role.HANDLER}
NEEDS_STAFF = {Role.STAFF}
NEEDS_REGION = {Role.STAFF, Role.HANDLER, Role.SUPERVISOR, Role.ASSESSOR, Role.HOTLINE}

REVEAL_PERMISSION = "accounts.reveal_personal_data"

_VIEW_ORG = [
    "org.view_region", "org.view_regionpolicy", "org.view_managementagency", "org.view_department",
    "org.view_serviceagency", "org.view_window", "org.view_staff", "org.view_platform",
    "catalog.view_serviceitem", "catalog.view_serviceguide", "evaluation.view_label",
]
_MANAGE_ORG = [
    f"{app}.{action}_{model}"
    for app, model in [
        ("org", "regionpolicy"), ("org", "managementagency"), ("org", "department"), ("org", "serviceagency"),
        ("org", "window"), ("org", "staff"), ("org", "platform"), ("catalog", "serviceitem"), ("catalog", "serviceguide"),
        ("evaluation", "kioskdevice"),
    ]
    for action in ("add", "change", "view")
] + ["org.view_region", "evaluation.view_label", "accounts.view_apikey", "accounts.add_apikey", "accounts.change_apikey"]

_VIEW_CASES = [
    "rectification.view_rectificationcase", "rectification.view_ledgerentry", "rectification.view_appeal",
    "rectification.view_caseattachment",
]

ROLE_PERMISSIONS: dict[str, set[str]] = {
    Role.EVALUATOR: set(),
    # Staff read their own appeals (R7.3); the scope keeps them to evaluations of themselves.
    Role.STAFF: {"evaluation.view_evaluation", "evaluation.enter_paper_form", "rectification.view_appeal"},
    Role.HANDLER: {
        *_VIEW_ORG, "records.view_servicerecord", "evaluation.view_evaluation", REVEAL_PERMISSION,
        *_VIEW_CASES,
    },
    Role.SUPERVISOR: {
        *_VIEW_ORG, "records.view_servicerecord", "evaluation.view_evaluation", REVEAL_PERMISSION,
        "accounts.view_personaldataaccess", "evaluation.view_kioskdevice", *_VIEW_CASES,
        "rectification.view_casenotice", "evaluation.view_evaluationexclusion", "exchange.view_receivedreport",
        "supervision.record_callback",
    },
    Role.ASSESSOR: {*_VIEW_ORG},
    # Operators record a caller's evaluation (channel phone) with consent; they are not the rated party.
    # They also call back the evaluations drawn for 回访调查 (supervision.sampling), seeing only those phones.
    Role.HOTLINE: {"evaluation.record_phone_evaluation", "records.view_servicerecord", "supervision.record_callback"},
    Role.ADMINISTRATOR: {
        *_MANAGE_ORG, "records.view_servicerecord", "evaluation.view_evaluation",
        "accounts.view_user", "accounts.add_user", "accounts.change_user",
        # Reporting upward and the lower nodes (exchange): configure, watch, re-send dead letters.
        "exchange.view_upstream", "exchange.add_upstream", "exchange.change_upstream",
        "exchange.view_lowernode", "exchange.add_lowernode", "exchange.change_lowernode",
        "exchange.view_outboxentry", "exchange.change_outboxentry", "exchange.view_reconciliation",
        "exchange.view_receivedreport", "exchange.view_reportedcaseoutcome",
        # Third-party assessor organisations and their members (supervision.assessments).
        "supervision.view_assessororganisation", "supervision.add_assessororganisation",
        "supervision.change_assessororganisation",
    },
}


# Roles that must use a TOTP second factor: every role that can reveal personal data (handlers and supervisors,
# derived from the permissions so a role granted revealing later needs TOTP too) and administrators, who manage
# the accounts themselves (issue 18, item 5). Superusers always need it (accounts.login).
SECOND_FACTOR_REQUIRED = {Role.ADMINISTRATOR} | {
    role for role, permissions in ROLE_PERMISSIONS.items() if REVEAL_PERMISSION in permissions
}


class RoleBackend:
    """Grants each active user the permissions of their role, on top of Django's model backend (superusers
    keep everything)."""

    def authenticate(self, request, **credentials):
        return None

    def get_user_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous:
            return set()
        return set(ROLE_PERMISSIONS.get(getattr(user_obj, "role", None), set()))

    def get_group_permissions(self, user_obj, obj=None):
        return set()

    def get_all_permissions(self, user_obj, obj=None):
        return self.get_user_permissions(user_obj, obj)

    def has_perm(self, user_obj, perm, obj=None):
        return perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj, app_label):
        return any(p.startswith(f"{app_label}.") for p in self.get_all_permissions(user_obj))
