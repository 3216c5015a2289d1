"""Catalog admin (R2.2, R2.3). Guides are versioned: the admin only ever adds a version, through
catalog.services.publish_guide; existing versions are shown read-only and can be neither changed nor deleted."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from haochaping.core.admin_scoping import ScopedAdminMixin, ScopedInlineMixin
from haochaping.org.admin import SpreadsheetAdmin

from . import resources
from .models import ServiceGuide, ServiceItem
from .services import publish_guide


class ServiceItemForm(forms.ModelForm):
    class Meta:
        model = ServiceItem
        fields = [
            "implementation_code", "basic_code", "name", "basis", "item_type", "department", "region",
            "lead_department", "cooperating_departments", "is_active",
        ]

    def clean(self):
        cleaned = super().clean()
        cooperating = cleaned.get("cooperating_departments")
        lead = cleaned.get("lead_department")
        if cooperating and lead is None:
            self.add_error("lead_department", "跨部门事项须指定牵头部门")
        return cleaned


class GuideVersionInline(ScopedInlineMixin, admin.TabularInline):
    model = ServiceGuide
    fields = ["version", "published_at", "published_by", "evaluation_channels", "view_link"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False
    verbose_name = "办事指南版本"
    verbose_name_plural = "办事指南版本（只读，发布新版本请点“发布新版本”）"

    @admin.display(description="查看")
    def view_link(self, guide):
        url = reverse("admin:catalog_serviceguide_change", args=[guide.pk])
        return format_html('<a href="{}">第{}版全文</a>', url, guide.version)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ServiceItem)
class ServiceItemAdmin(SpreadsheetAdmin):
    form = ServiceItemForm
    resource_classes = [resources.ServiceItemResource]
    inlines = [GuideVersionInline]
    list_display = ["implementation_code", "name", "item_type", "department", "region", "is_active", "guide_link"]
    list_filter = ["item_type", "is_active", "region__level"]
    search_fields = ["implementation_code", "basic_code", "name", "department__name"]
    autocomplete_fields = ["department", "region", "lead_department", "cooperating_departments"]
    list_select_related = ["department", "region"]

    @admin.display(description="办事指南")
    def guide_link(self, item):
        url = reverse("admin:catalog_serviceguide_add") + "?" + urlencode({"item": item.pk})
        return format_html('<a href="{}">发布新版本</a>', url)


class ServiceGuideForm(forms.ModelForm):
    class Meta:
        model = ServiceGuide
        fields = ["item", *ServiceGuide.ELEMENTS]


@admin.register(ServiceGuide)
class ServiceGuideAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = ServiceGuideForm
    list_display = ["item", "version", "published_at", "published_by"]
    list_filter = ["published_at"]
    search_fields = ["item__name", "item__implementation_code"]
    autocomplete_fields = ["item"]
    list_select_related = ["item"]
    readonly_fields = ["version", "published_at", "published_by"]

    def get_changeform_initial_data(self, request):
        # A new version usually changes one element: start from the current version's text.
        initial = super().get_changeform_initial_data(request)
        item_id = initial.get("item")
        if item_id:
            current = ServiceGuide.objects.filter(item_id=item_id).order_by("-version").first()
            if current is not None:
                for name in ServiceGuide.ELEMENTS:
                    initial.setdefault(name, getattr(current, name))
        return initial

    def has_change_permission(self, request, obj=None):
        return False  # a published version is a public record: it is never rewritten

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        elements = {name: form.cleaned_data[name] for name in ServiceGuide.ELEMENTS}
        guide = publish_guide(form.cleaned_data["item"], actor=request.user.get_username(), **elements)
        # The admin goes on with ``obj`` (log entry, redirect): make it the row that was written.
        obj.pk = guide.pk
        obj.version = guide.version
        obj.published_at = guide.published_at
        obj.published_by = guide.published_by
        obj._state.adding = False
        obj._state.db = guide._state.db
