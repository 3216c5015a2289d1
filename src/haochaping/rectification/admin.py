"""差评整改 admin: read-only (cases change only through the services), scoped like every admin."""

from __future__ import annotations

from django.contrib import admin

from haochaping.accounts.admin_scoping import ScopedAdminMixin, ScopedInlineMixin

from .models import CaseTransition, LedgerEntry, RectificationCase


class _ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TransitionInline(_ReadOnly, ScopedInlineMixin, admin.TabularInline):
    model = CaseTransition
    fields = readonly_fields = ["at", "action", "from_state", "to_state", "actor", "note"]
    extra = 0


class LedgerInline(_ReadOnly, ScopedInlineMixin, admin.StackedInline):
    model = LedgerEntry
    fields = readonly_fields = ["problem", "measures", "responsible_person", "deadline", "extension_approved",
                                "completed_at", "evidence"]
    extra = 0


@admin.register(RectificationCase)
class RectificationCaseAdmin(_ReadOnly, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "kind", "state", "department", "assignee", "is_real_name", "opened_at", "callback_due",
                    "rectify_due", "outcome"]
    list_filter = ["state", "kind", "outcome", "is_real_name"]
    date_hierarchy = "opened_at"
    list_select_related = ["department", "assignee"]
    show_full_result_count = False
    fields = readonly_fields = [
        "kind", "state", "evaluation", "record", "summary", "region", "department", "agency", "platform", "assignee",
        "is_real_name", "opened_at", "callback_due", "fix_now_due", "rectify_due", "outcome", "outcome_detail",
        "legal_basis", "evidence", "confirmed_by", "answer",
    ]
    inlines = [LedgerInline, TransitionInline]
