"""Organisation admin (R2.1): regions, management agencies, departments, halls and windows, staff, platforms.

Each list imports and exports CSV/Excel files with Chinese headers (org.resources); an import with one bad
row writes nothing and names the row.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpResponseRedirect
from django.urls import reverse
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ImportForm, SelectableFieldsExportForm

from haochaping.core import uploads
from haochaping.core.admin_scoping import ScopedAdminMixin, ScopedInlineMixin

from . import resources, rules, services
from .models import Department, ManagementAgency, Platform, Region, RegionPolicy, ServiceAgency, Staff, Window


class SpreadsheetImportForm(ImportForm):
    def __init__(self, formats, *args, **kwargs):
        super().__init__(formats, *args, **kwargs)
        self._formats = list(formats)
        label = self.fields["import_file"].label
        self.fields["import_file"].error_messages.update(
            empty=f"“{label}”是空文件", required=f"请选择“{label}”", invalid=f"“{label}”上传失败，请重新选择文件"
        )
        self.fields["import_file"].help_text = (
            f"支持 CSV（UTF-8）和 Excel（.xlsx）文件，第一行为表头，不超过 {settings.HAOCHAPING_MAX_UPLOAD_MB} MB。"
            "任何一行有误，整个文件都不会导入；出错的行号按表格计算（表头为第1行）。"
        )

    def clean_import_file(self):
        # Type by extension and by content, and size, before any parser sees the bytes (core.uploads).
        upload = self.cleaned_data["import_file"]
        uploads.check_spreadsheet(upload, label=str(self.fields["import_file"].label))
        return upload

    def clean(self):
        cleaned = super().clean()
        upload, chosen = cleaned.get("import_file"), cleaned.get("format")
        if upload is not None and chosen not in (None, ""):
            title = self._formats[int(chosen)]().get_title().lower()
            if uploads.extension(upload.name) != title:
                self.add_error("format", f"所选格式（{title.upper()}）与文件类型（.{uploads.extension(upload.name)}）不一致")
        return cleaned


class ChineseExportForm(SelectableFieldsExportForm):
    def _get_field_label(self, resource, field_name):
        # The library labels fields "Credit Code (统一社会信用代码)"; the Chinese column is the label.
        field = resource.fields.get(field_name)
        return field.column_name if field is not None else field_name


class SpreadsheetAdmin(ScopedAdminMixin, ImportExportModelAdmin):
    """Import/export limited to the two formats offices use: CSV and Excel."""

    formats = [CSV, XLSX]
    import_form_class = SpreadsheetImportForm
    export_form_class = ChineseExportForm

    def process_result(self, result, request):
        # The confirming pass re-reads the file; if the data changed since the preview and a row now
        # fails, the resource has rolled everything back: say so instead of "import finished".
        if result.has_errors() or result.has_validation_errors():
            messages.error(request, "导入失败，文件中的数据均未导入：" + "；".join(import_problems(result)[:10]))
            url = reverse("admin:{}_{}_import".format(*self.get_model_info()), current_app=self.admin_site.name)
            return HttpResponseRedirect(url)
        return super().process_result(result, request)


def import_problems(result) -> list[str]:
    """One Chinese line per problem of a failed import: the spreadsheet row, the column, the message."""
    lines = [str(error.error) for error in result.base_errors]
    for line, errors in result.row_errors():
        lines += [f"第{line}行：{error.error}" for error in errors]
    for row in result.invalid_rows:
        for column, messages_ in row.error_dict.items():
            where = "" if column == NON_FIELD_ERRORS else f"“{column}”"
            lines += [f"第{row.number}行{where}：{m}" for m in messages_]
    return lines


class CreditCodeFormMixin:
    """People paste codes with spaces or in lower case; the code itself is validated by the model field."""

    def clean_credit_code(self):
        value = (self.cleaned_data.get("credit_code") or "").strip().upper()
        nullable = self._meta.model._meta.get_field("credit_code").null
        # An empty optional code must be NULL, not "", or a second empty one would break uniqueness.
        return (value or None) if nullable else value


class RegionForm(forms.ModelForm):
    class Meta:
        model = Region
        fields = ["code", "name", "parent"]

    def clean(self):
        cleaned = super().clean()
        code = cleaned.get("code") or (self.instance.code if self.instance.pk else None)
        parent = cleaned.get("parent")
        if code and parent is not None and not rules.is_ancestor(parent.code, code):
            self.add_error("parent", f"“{parent}”不是行政区划“{code}”的上级区划")
        return cleaned


@admin.register(Region)
class RegionAdmin(SpreadsheetAdmin):
    form = RegionForm
    resource_classes = [resources.RegionResource]
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]
    list_select_related = ["parent"]
    show_full_result_count = False
    list_per_page = 50

    def get_readonly_fields(self, request, obj=None):
        # The code is the key other rows and other systems refer to: fixed once created.
        return ["code", "level"] if obj else ["level"]

    def save_model(self, request, obj, form, change):
        obj.level = rules.region_level(obj.code)
        if obj.parent_id is None:
            known = set(Region.objects.filter(code__in=rules.ancestor_candidates(obj.code)).values_list("code", flat=True))
            obj.parent_id = rules.nearest_parent_code(obj.code, known)
        super().save_model(request, obj, form, change)


@admin.register(RegionPolicy)
class RegionPolicyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["region", "supplementary_days", "label_set"]
    search_fields = ["region__code", "region__name"]
    autocomplete_fields = ["region"]
    list_select_related = ["region"]


class ManagementAgencyForm(CreditCodeFormMixin, forms.ModelForm):
    class Meta:
        model = ManagementAgency
        fields = ["region", "name", "credit_code"]


@admin.register(ManagementAgency)
class ManagementAgencyAdmin(SpreadsheetAdmin):
    form = ManagementAgencyForm
    resource_classes = [resources.ManagementAgencyResource]
    list_display = ["name", "region", "credit_code"]
    list_filter = ["region__level"]
    search_fields = ["name", "credit_code", "region__code", "region__name"]
    autocomplete_fields = ["region"]
    list_select_related = ["region"]


class DepartmentForm(CreditCodeFormMixin, forms.ModelForm):
    class Meta:
        model = Department
        fields = ["credit_code", "name", "region", "is_vertical", "is_active"]


@admin.register(Department)
class DepartmentAdmin(SpreadsheetAdmin):
    form = DepartmentForm
    resource_classes = [resources.DepartmentResource]
    list_display = ["name", "credit_code", "region", "is_vertical", "is_active"]
    list_filter = ["is_active", "is_vertical", "region__level"]
    search_fields = ["name", "credit_code", "region__code", "region__name"]
    autocomplete_fields = ["region"]
    list_select_related = ["region"]


class WindowInline(ScopedInlineMixin, admin.TabularInline):
    model = Window
    fields = ["code", "name", "department", "is_active"]
    autocomplete_fields = ["department"]
    extra = 0
    show_change_link = True
    can_delete = False  # windows are referenced by records and evaluations; set them inactive instead


@admin.register(ServiceAgency)
class ServiceAgencyAdmin(SpreadsheetAdmin):
    resource_classes = [resources.ServiceAgencyResource]
    inlines = [WindowInline]
    list_display = ["name", "code", "kind", "region", "is_active"]
    list_filter = ["kind", "is_active", "region__level"]
    search_fields = ["name", "code", "region__code", "region__name"]
    autocomplete_fields = ["region"]
    list_select_related = ["region"]


@admin.register(Window)
class WindowAdmin(SpreadsheetAdmin):
    resource_classes = [resources.WindowResource]
    list_display = ["code", "name", "agency", "department", "is_active"]
    list_filter = ["is_active", "agency__kind"]
    search_fields = ["code", "name", "agency__code", "agency__name", "department__name"]
    autocomplete_fields = ["agency", "department"]
    list_select_related = ["agency", "department"]


class StaffForm(forms.ModelForm):
    class Meta:
        model = Staff
        fields = ["staff_no", "name", "agency", "department", "window", "is_active"]

    def clean(self):
        cleaned = super().clean()
        window, agency = cleaned.get("window"), cleaned.get("agency")
        if window is not None and agency is not None and window.agency_id != agency.pk:
            self.add_error("window", "所选窗口不属于该工作人员所在的政务服务机构")
        return cleaned


@admin.register(Staff)
class StaffAdmin(SpreadsheetAdmin):
    form = StaffForm
    resource_classes = [resources.StaffResource]
    list_display = ["staff_no", "name", "agency", "department", "window", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["staff_no", "name", "agency__name", "department__name"]
    autocomplete_fields = ["agency", "department", "window"]
    list_select_related = ["agency", "department", "window__agency"]


@admin.register(Platform)
class PlatformAdmin(SpreadsheetAdmin):
    resource_classes = [resources.PlatformResource]
    list_display = ["name", "code", "kind", "region", "operator", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code", "region__code", "region__name"]
    autocomplete_fields = ["region", "operator"]
    list_select_related = ["region", "operator"]
    actions = ["generate_evaluation_secret"]

    @admin.action(description="生成一事一评签名密钥（原密钥立即失效）", permissions=["change"])
    def generate_evaluation_secret(self, request, queryset):
        """一事一评 (R3.5): a new signing secret per selected platform, shown once on the response page."""
        from django.template.response import TemplateResponse
        from django.utils.cache import add_never_cache_headers

        issued = []
        for platform in queryset.order_by("code"):
            issued.append((platform, services.issue_secret(platform)))
            self.log_change(request, platform, [{"changed": {"fields": ["评价页面签名密钥"]}}])
        response = TemplateResponse(
            request,
            "admin/org/platform/evaluation_secret.html",
            {**self.admin_site.each_context(request), "opts": self.model._meta, "title": "一事一评签名密钥",
             "issued": issued},
        )
        # The one copy of each secret must not linger in a cache or the browser's history.
        add_never_cache_headers(response)
        return response
