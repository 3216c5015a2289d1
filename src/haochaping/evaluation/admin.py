"""Evaluation admin. Evaluations are immutable and carry personal data: the admin lists them read-only,
never offers add/change/delete, and shows the evaluator only masked (str() of the sealed value)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from haochaping.accounts.admin_reveal import REVEAL_CHANGE_FORM_TEMPLATE, reveal_context, reveal_urls
from haochaping.accounts.models import display_related
from haochaping.core.admin_scoping import ScopedAdminMixin
from haochaping.core.scoping import scope
from haochaping.org.models import Window

from . import kiosk, rules
from .models import Evaluation, EvaluationExclusion, KioskDevice, Label


class ReadOnlyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
    list_display = ["receipt_code", "level", "is_bad", "channel", "type", "stage", "region", "department", "created_at"]
    list_filter = ["is_bad", "level", "channel", "type", "stage", "is_supplementary"]
    search_fields = ["receipt_code", "record__project_no"]
    date_hierarchy = "created_at"
    list_select_related = ["region", "department"]
    show_full_result_count = False
    fields = [
        "receipt_code", "record", "stage", "type", "channel", "level", "is_bad", "is_supplementary", "label_list",
        "comment", "questionnaire", "evaluator", "is_real_name", "item", "region", "department", "agency", "window",
        "staff", "platform", "source", "leaf_hash", "created_at",
    ]
    readonly_fields = fields
    # The evaluator shows masked; "查看完整个人信息" (accounts.admin_reveal) reveals one field with a reason, logged.
    change_form_template = REVEAL_CHANGE_FORM_TEMPLATE

    def get_urls(self):
        return reveal_urls(self) + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(request, object_id, form_url, reveal_context(self, request, object_id, extra_context))

    @admin.display(description="评价人")
    def evaluator(self, ev):
        # str() of a sealed value is the masked form; the clear text needs the reveal service and a reason.
        parts = [str(v) for v in (ev.evaluator_name, ev.evaluator_phone) if v]
        return " ".join(parts) or "匿名"

    @admin.display(description="评价标签")
    def label_list(self, ev):
        return "；".join(str(label) for label in ev.labels.all()) or "—"


@admin.register(EvaluationExclusion)
class EvaluationExclusionAdmin(ReadOnlyAdmin):
    """Evaluations out of statistics (upheld appeal, confirmed 误评/恶意差评): written only by
    services.exclude_evaluation, never edited here."""

    list_display = ["evaluation", "reason", "source", "actor", "at"]
    list_filter = ["reason"]
    search_fields = ["evaluation__receipt_code", "source"]
    date_hierarchy = "at"
    list_select_related = ["evaluation", *display_related("actor")]
    show_full_result_count = False
    fields = readonly_fields = ["evaluation", "reason", "source", "note", "actor", "at"]


class LabelForm(forms.ModelForm):
    class Meta:
        model = Label
        fields = ["code", "text", "level", "is_active"]
        widgets = {"level": forms.Select(choices=[(n, n) for n in rules.LEVELS])}

    def clean_code(self):
        code = (self.cleaned_data.get("code") or "").strip()
        if not (len(code) == 3 and code.isdigit()):
            raise forms.ValidationError("标签代码应为3位数字")
        return code

    def clean_level(self):
        level = self.cleaned_data.get("level")
        if level not in rules.LEVELS:
            raise forms.ValidationError("对应等级应为1至5")
        return level

    def clean(self):
        cleaned = super().clean()
        code, level = cleaned.get("code"), cleaned.get("level")
        if code and level and rules.label_level(code) != level:
            self.add_error("code", f"标签代码首位应与对应等级一致（{level}星标签以{level}开头）")
        return cleaned


@admin.register(Label)
class LabelAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The label dictionary is maintained here. Labels are never deleted (evaluations cite them): deactivate."""

    form = LabelForm
    list_display = ["code", "text", "level", "is_active"]
    list_filter = ["level", "is_active"]
    search_fields = ["code", "text"]
    actions = ["deactivate", "activate"]

    def get_readonly_fields(self, request, obj=None):
        # The code is the key evaluations and other systems use; its first digit fixes the level.
        return ["code", "level"] if obj else []

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="停用所选标签", permissions=["change"])
    def deactivate(self, request, queryset):
        n = queryset.filter(is_active=True).update(is_active=False)
        self.message_user(request, f"已停用 {n} 个标签", messages.SUCCESS)

    @admin.action(description="启用所选标签", permissions=["change"])
    def activate(self, request, queryset):
        n = queryset.filter(is_active=False).update(is_active=True)
        self.message_user(request, f"已启用 {n} 个标签", messages.SUCCESS)


class KioskRegisterForm(forms.Form):
    window = forms.ModelChoiceField(label="窗口", queryset=Window.objects.none(), help_text="评价器只能评价该窗口的办件")
    name = forms.CharField(label="设备名称", max_length=100, help_text="例如“综合受理1号窗口评价器”")

    def __init__(self, *args, windows, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["window"].queryset = windows
        # Out of scope and nonexistent read the same.
        self.fields["window"].error_messages["invalid_choice"] = "所选窗口不存在或不在您的管辖范围内"


@admin.register(KioskDevice)
class KioskDeviceAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """评价器 (R3.1, R7.1). Registering shows the device secret once, on the response page; only its SM3 hash is
    stored. A device is deactivated, never deleted or moved: a replacement or another window means a new device."""

    list_display = ["name", "prefix", "window", "agency", "is_active", "registered_at", "last_seen_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "prefix", "window__name", "window__code"]
    list_select_related = ["window", "window__agency"]
    fields = ["name", "prefix", "window", "is_active", "registered_at", "last_seen_at"]
    readonly_fields = ["prefix", "window", "is_active", "registered_at", "last_seen_at"]
    actions = ["deactivate_devices"]

    @admin.display(description="政务服务机构", ordering="window__agency__name")
    def agency(self, device):
        return device.window.agency.name

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        windows = scope(Window.objects.filter(is_active=True).select_related("agency"), request.user)
        form = KioskRegisterForm(request.POST or None, windows=windows)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "登记评价器",
            "form": form,
        }
        if request.method == "POST" and form.is_valid():
            device, secret = kiosk.register_kiosk(form.cleaned_data["window"], form.cleaned_data["name"])
            self.log_addition(request, device, [{"added": {}}])
            response = TemplateResponse(
                request, "admin/evaluation/kioskdevice/registered.html",
                {**context, "title": "评价器已登记", "device": device, "secret": secret, "header": kiosk.HEADER},
            )
            # The one copy of the secret must not linger in a cache or the browser's history.
            add_never_cache_headers(response)
            return response
        return TemplateResponse(request, "admin/evaluation/kioskdevice/register.html", context)

    @admin.action(description="停用所选评价器", permissions=["change"])
    def deactivate_devices(self, request, queryset):
        n = sum(kiosk.deactivate(device) for device in queryset.filter(is_active=True))
        self.message_user(request, f"已停用 {n} 台评价器，它们提交的评价将被拒绝", messages.SUCCESS)
