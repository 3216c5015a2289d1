"""差评整改 admin: read-only (cases, 台账, appeals, notices and files change only through the services), scoped like
every admin. Evidence files are listed by name and size only: the files themselves are served by the workbench's
scoped view, never by a public media URL."""

from __future__ import annotations

from django.contrib import admin

from haochaping.accounts.models import display_related
from haochaping.core.admin_scoping import ScopedAdminMixin, ScopedInlineMixin
from haochaping.rectification.models import (
    Appeal,
    CaseAttachment,
    CaseNotice,
    CaseTransition,
    LedgerEntry,
    LedgerProgress,
    RectificationCase,
)


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
    list_select_related = ["department", *display_related("assignee")]
    show_full_result_count = False
    fields = readonly_fields = [
        "kind", "state", "evaluation", "record", "summary", "region", "department", "agency", "platform", "assignee",
        "is_real_name", "opened_at", "callback_due", "fix_now_due", "rectify_due", "outcome", "outcome_detail",
        "legal_basis", "evidence", "confirmed_by", "answer",
    ]
    inlines = [LedgerInline, TransitionInline]


class ProgressInline(_ReadOnly, ScopedInlineMixin, admin.TabularInline):
    model = LedgerProgress
    fields = readonly_fields = ["at", "actor", "note"]
    extra = 0


@admin.register(LedgerEntry)
class LedgerEntryAdmin(_ReadOnly, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["case", "responsible_person", "deadline", "extension_approved", "completed_at"]
    list_filter = ["extension_approved", ("completed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["case"]
    show_full_result_count = False
    fields = readonly_fields = [
        "case", "problem", "measures", "responsible_person", "deadline", "extension_reason", "extension_approved",
        "extension_decided_by", "extension_decided_at", "completed_at", "evidence",
    ]
    inlines = [ProgressInline]


class AttachmentInline(_ReadOnly, ScopedInlineMixin, admin.TabularInline):
    model = CaseAttachment
    fields = readonly_fields = ["purpose", "original_name", "size", "uploaded_by", "uploaded_at"]
    extra = 0


@admin.register(Appeal)
class AppealAdmin(_ReadOnly, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["case", "state", "party", "appellant", "submitted_at", "review_due", "reviewer", "decided_at"]
    list_filter = ["state", "party"]
    date_hierarchy = "submitted_at"
    list_select_related = ["case", *display_related("appellant"), *display_related("reviewer")]
    show_full_result_count = False
    fields = readonly_fields = [
        "case", "evaluation", "appellant", "party", "explanation", "state", "submitted_at", "review_due", "reviewer",
        "decided_at", "decision_note",
    ]
    inlines = [AttachmentInline]


@admin.register(CaseNotice)
class CaseNoticeAdmin(_ReadOnly, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["case", "kind", "deadline", "due", "agency", "created_at", "sent_to"]
    list_filter = ["kind", "deadline"]
    date_hierarchy = "created_at"
    list_select_related = ["case", "agency"]
    show_full_result_count = False
    fields = readonly_fields = ["case", "kind", "deadline", "due", "agency", "created_at", "sent_to"]


@admin.register(CaseAttachment)
class CaseAttachmentAdmin(_ReadOnly, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["original_name", "case", "purpose", "size", "uploaded_by", "uploaded_at"]
    list_filter = ["purpose"]
    date_hierarchy = "uploaded_at"
    list_select_related = ["case", *display_related("uploaded_by")]
    show_full_result_count = False
    # No "file" field: its widget would link the public media URL.
    fields = readonly_fields = ["case", "appeal", "purpose", "original_name", "size", "uploaded_by", "uploaded_at"]
