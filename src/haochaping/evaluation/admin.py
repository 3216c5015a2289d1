"""Evaluation admin. Evaluations are immutable and carry personal data: the admin lists them read-only,
never offers add/change/delete, and shows the evaluator only masked (str() of the sealed value)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from . import rules
from .models import Evaluation, Label


class ReadOnlyAdmin(admin.ModelAdmin):
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

    @admin.display(description="评价人")
    def evaluator(self, ev):
        # str() of a sealed value is the masked form; the clear text needs the reveal service and a reason.
        parts = [str(v) for v in (ev.evaluator_name, ev.evaluator_phone) if v]
        return " ".join(parts) or "匿名"

    @admin.display(description="评价标签")
    def label_list(self, ev):
        return "；".join(str(label) for label in ev.labels.all()) or "—"


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
class LabelAdmin(admin.ModelAdmin):
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
