"""API key admin. The secret is shown once, right after creation; only its SM3 hash is stored, so there is
no way to see it again. Keys are revoked, never deleted, so logs that name a prefix stay explainable."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from . import services
from .models import ApiKey, Scope


class ApiKeyCreateForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label="权限范围", choices=Scope.choices, widget=forms.CheckboxSelectMultiple, required=True
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "region", "expires_at"]


class ApiKeyChangeForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "expires_at"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "scope_list", "region", "last_used_at", "expires_at", "revoked_at", "status"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix"]
    autocomplete_fields = ["region"]
    list_select_related = ["region"]
    actions = ["revoke"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = ApiKeyChangeForm if obj else ApiKeyCreateForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "scopes", "region", "expires_at"]
        return ["name", "prefix", "scope_list", "region", "created_at", "expires_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        # Scopes and region are fixed once a key exists: a key with other rights is a new key.
        return ["prefix", "scope_list", "region", "created_at", "last_used_at", "revoked_at"] if obj else []

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="权限范围")
    def scope_list(self, key):
        names = dict(Scope.choices)
        return "、".join(str(names.get(s, s)) for s in key.scopes) or "—"

    @admin.display(description="状态")
    def status(self, key):
        if key.revoked_at:
            return "已吊销"
        return "可用" if key.is_usable() else "已过期"

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # The form offers only known scopes, so the service's own check cannot refuse here.
        key, secret = services.create_api_key(
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            region=form.cleaned_data.get("region"),
            expires_at=form.cleaned_data.get("expires_at"),
        )
        # The admin goes on with ``obj`` (log entry, redirect): make it the row that was written.
        obj.pk, obj.prefix, obj.key_hash, obj.created_at = key.pk, key.prefix, key.key_hash, key.created_at
        obj._state.adding = False
        obj._state.db = key._state.db
        messages.warning(request, f"接口密钥已创建，请立即复制并妥善保存，此密钥只显示这一次：{secret}")

    @admin.action(description="吊销所选密钥", permissions=["change"])
    def revoke(self, request, queryset):
        keys = list(queryset.filter(revoked_at__isnull=True))
        for key in keys:
            services.revoke_api_key(key)
        self.message_user(request, f"已吊销 {len(keys)} 个密钥", messages.SUCCESS)
