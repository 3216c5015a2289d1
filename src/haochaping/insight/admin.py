"""Insight admin: the reports (R5.2), read-only and scoped like every admin. The files are linked to the scoped
download view of the workbench (insight.views.reports), never to a public media URL."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from haochaping.core.admin_scoping import ScopedAdminMixin

from .models import Report


@admin.register(Report)
class ReportAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["title", "kind", "period_start", "period_end", "region", "department", "generated_at", "files"]
    list_filter = ["kind"]
    date_hierarchy = "period_start"
    list_select_related = ["region", "department"]
    search_fields = ["title"]
    show_full_result_count = False
    fields = readonly_fields = ["title", "kind", "period_start", "period_end", "region", "department", "generated_at",
                                "generated_by", "files"]

    @admin.display(description=_("文件"))
    def files(self, obj: Report):
        return format_html('<a href="{}">Excel</a> <a href="{}">PDF</a>', reverse("reports:xlsx", args=[obj.pk]),
                           reverse("reports:pdf", args=[obj.pk]))

    # Reports are made by the worker and on the 统计报告 page (reports.services), not typed in or removed here
    # (a removed row would leave its files behind).
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
