"""Exchange admin: upstreams and lower nodes (secrets are write-only: typed in, stored SM4-encrypted, never shown
again), the outbox with re-sending of dead letters, and read-only reconciliations and received reports."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from haochaping.core import signing

from .models import LowerNode, OutboxEntry, ReceivedReport, Reconciliation, ReportedCaseOutcome, Upstream
from .services import outbox

HEX_KEY = forms.RegexField(
    regex=r"^[0-9a-fA-F]{32}$", required=False, label=_("报文加密密钥"), widget=forms.PasswordInput(render_value=False),
    help_text=_("双方约定的 SM4 密钥，32位十六进制；留空则不加密（已设置的保持不变）"),
    error_messages={"invalid": _("应为32位十六进制")},
)


class UpstreamForm(forms.ModelForm):
    url = forms.URLField(label=_("地址"), assume_scheme="https",
                         help_text=_("本系统格式填上级节点根地址；国家平台接口格式填其报送接口的完整地址"))
    api_key = forms.CharField(
        label=_("接口密钥"), required=False, widget=forms.PasswordInput(render_value=False),
        help_text=_("上级节点为本节点签发的接口密钥；留空则保持不变"),
    )
    payload_key = HEX_KEY
    clear_payload_key = forms.BooleanField(label=_("取消报文加密"), required=False)

    class Meta:
        model = Upstream
        fields = ["name", "url", "profile", "app_id", "public_key", "is_active", "batch_size", "timeout_seconds"]

    def clean(self):
        data = super().clean()
        if not self.instance.pk and not data.get("api_key"):
            self.add_error("api_key", _("新增上级节点时必须填写接口密钥"))
        return data

    def save(self, commit=True):
        upstream = super().save(commit=False)
        if self.cleaned_data.get("api_key"):
            upstream.set_api_key(self.cleaned_data["api_key"])
        if self.cleaned_data.get("clear_payload_key"):
            upstream.set_payload_key("")
        elif self.cleaned_data.get("payload_key"):
            upstream.set_payload_key(self.cleaned_data["payload_key"].lower())
        if commit:
            upstream.save()
        return upstream


@admin.register(Upstream)
class UpstreamAdmin(admin.ModelAdmin):
    form = UpstreamForm
    list_display = ["name", "profile", "url", "is_active"]
    readonly_fields = ["node_public_key"]

    @admin.display(description=_("本节点 SM2 公钥（交给上级节点登记）"))
    def node_public_key(self, obj):
        return signing.node_public_key()


class LowerNodeForm(forms.ModelForm):
    payload_key = HEX_KEY
    public_key = forms.RegexField(regex=r"^[0-9a-fA-F]{128}$", label=_("SM2 公钥"),
                                  error_messages={"invalid": _("应为128位十六进制（x‖y）")})

    class Meta:
        model = LowerNode
        fields = ["name", "app_id", "api_key", "public_key"]

    def save(self, commit=True):
        node = super().save(commit=False)
        node.public_key = node.public_key.lower()
        if self.cleaned_data.get("payload_key"):
            node.set_payload_key(self.cleaned_data["payload_key"].lower())
        if commit:
            node.save()
        return node


@admin.register(LowerNode)
class LowerNodeAdmin(admin.ModelAdmin):
    form = LowerNodeForm
    list_display = ["name", "app_id", "api_key", "last_push_at"]
    autocomplete_fields = ["api_key"]


@admin.register(OutboxEntry)
class OutboxEntryAdmin(admin.ModelAdmin):
    list_display = ["id", "upstream", "kind", "project_no", "status", "attempts", "next_attempt_at", "last_error", "created_at"]
    list_filter = ["status", "kind", "upstream"]
    search_fields = ["project_no"]
    actions = ["resend"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    @admin.action(description=_("重新发送所选的报送失败条目"), permissions=["change"])
    def resend(self, request, queryset):
        n = outbox.resend(queryset.values_list("pk", flat=True))
        self.message_user(request, ngettext("%(n)d 条已重新排队报送", "%(n)d 条已重新排队报送", n) % {"n": n},
                          messages.SUCCESS)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Reconciliation)
class ReconciliationAdmin(ReadOnly):
    list_display = ["day", "upstream", "local_evaluations", "upstream_evaluations", "local_records", "upstream_records", "checked_at"]
    list_filter = ["upstream"]


@admin.register(ReceivedReport)
class ReceivedReportAdmin(ReadOnly):
    list_display = ["title", "kind", "period_start", "region_code", "upstream", "received_at"]


@admin.register(ReportedCaseOutcome)
class ReportedCaseOutcomeAdmin(ReadOnly):
    list_display = ["evaluation", "node", "state", "outcome", "closed_at", "reported_at"]
