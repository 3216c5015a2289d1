"""办件 admin: a read-only list (办件 arrive through the API); the applicant is shown masked only."""

from __future__ import annotations

from django.contrib import admin

from haochaping.accounts.admin_reveal import REVEAL_CHANGE_FORM_TEMPLATE, reveal_context, reveal_urls
from haochaping.core.admin_scoping import ScopedAdminMixin

from .models import ServiceRecord


@admin.register(ServiceRecord)
class ServiceRecordAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["project_no", "item", "department", "applicant", "record_type", "status", "accepted_at", "completed_at", "due_date"]
    list_filter = ["status", "record_type", "applicant_type"]
    search_fields = ["project_no"]
    date_hierarchy = "accepted_at"
    list_select_related = ["item", "department"]
    show_full_result_count = False
    fields = [
        "project_no", "item", "region", "department", "agency", "window", "staff", "platform", "applicant_type",
        "applicant", "applicant_id", "applicant_contact", "record_type", "promised_days", "status", "accepted_at",
        "completed_at", "due_date", "overdue_explanation", "source", "created_at", "updated_at",
    ]
    readonly_fields = fields
    # The applicant shows masked; "查看完整个人信息" (accounts.admin_reveal) reveals one field with a reason, logged.
    change_form_template = REVEAL_CHANGE_FORM_TEMPLATE

    def get_urls(self):
        return reveal_urls(self) + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(request, object_id, form_url, reveal_context(self, request, object_id, extra_context))

    @admin.display(description="申请人")
    def applicant(self, record):
        return str(record.applicant_name) if record.applicant_name else "—"

    @admin.display(description="申请人证件号码")
    def applicant_id(self, record):
        return str(record.applicant_id_number) if record.applicant_id_number else "—"

    @admin.display(description="申请人手机号")
    def applicant_contact(self, record):
        return str(record.applicant_phone) if record.applicant_phone else "—"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
