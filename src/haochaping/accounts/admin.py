"""API key admin. The secret is shown once, right after creation; only its SM3 hash is stored, so there is
no way to see it again. Keys are revoked, never deleted, so logs that name a prefix stay explainable."""

from __future__ import annotations

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Case, Value, When
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haochaping.core.admin_scoping import (
    RelatedOnlyFieldListFilter,
    ScopedAdminMixin,
    scope_registered_admins,
)
from haochaping.org.rules import region_prefix

from . import login as login_flow
from . import privacy, services
from . import views as account_views
from .models import ApiKey, PersonalDataAccess, Scope, User, display_related
from .roles import SECOND_FACTOR_REQUIRED, Role


def _rate_limit_field():
    # Optional in the form: left empty, a new key gets the model's default and an existing key keeps its limit.
    return forms.IntegerField(
        label="每分钟请求上限", required=False, min_value=1, max_value=100_000,
        help_text="超过后该密钥的请求返回 429 并给出 Retry-After；留空：新密钥按默认 600，已有密钥保持不变",
    )


class ApiKeyCreateForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label="权限范围", choices=Scope.choices, widget=forms.CheckboxSelectMultiple, required=True
    )
    rate_limit_per_minute = _rate_limit_field()

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "region", "expires_at", "rate_limit_per_minute"]


class ApiKeyChangeForm(forms.ModelForm):
    rate_limit_per_minute = _rate_limit_field()

    class Meta:
        model = ApiKey
        fields = ["name", "expires_at", "rate_limit_per_minute"]

    def clean_rate_limit_per_minute(self):
        return self.cleaned_data["rate_limit_per_minute"] or self.instance.rate_limit_per_minute


@admin.register(ApiKey)
class ApiKeyAdmin(ScopedAdminMixin, admin.ModelAdmin):
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
            return ["name", "scopes", "region", "expires_at", "rate_limit_per_minute"]
        return [
            "name", "prefix", "scope_list", "region", "created_at", "expires_at", "rate_limit_per_minute",
            "last_used_at", "revoked_at",
        ]

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
            rate_limit_per_minute=form.cleaned_data.get("rate_limit_per_minute"),
        )
        # The admin goes on with ``obj`` (log entry, redirect): make it the row that was written.
        obj.pk, obj.prefix, obj.key_hash, obj.created_at = key.pk, key.prefix, key.key_hash, key.created_at
        obj._state.adding = False
        obj._state.db = key._state.db
        # Shown on the page that answers this POST (response_add), never after a redirect: a queued message would
        # travel in the ``messages`` cookie, which is signed, not encrypted. Rendered here, it is consumed at once.
        messages.warning(request, f"接口密钥已创建，请立即复制并妥善保存，此密钥只显示这一次：{secret}")
        request._hcp_new_api_key = (key, secret)

    def response_add(self, request, obj, post_url_continue=None):
        issued = getattr(request, "_hcp_new_api_key", None)
        if issued is None:
            return super().response_add(request, obj, post_url_continue)
        key, secret = issued
        response = TemplateResponse(request, "admin/accounts/apikey/created.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": "接口密钥已创建",
            "key": key, "secret": secret,
        })
        add_never_cache_headers(response)  # the one copy of the secret must not linger in a cache or history
        return response

    @admin.action(description="吊销所选密钥", permissions=["change"])
    def revoke(self, request, queryset):
        keys = list(queryset.filter(revoked_at__isnull=True))
        for key in keys:
            services.revoke_api_key(key)
        self.message_user(request, f"已吊销 {len(keys)} 个密钥", messages.SUCCESS)



class _RevealedFieldFilter(admin.SimpleListFilter):
    title = gettext_lazy("字段")
    parameter_name = "field"

    def lookups(self, request, model_admin):
        seen = {}
        for model in apps.get_models():
            for f in privacy.revealable_fields(model):
                seen.setdefault(f.name, str(f.verbose_name))
        return sorted(seen.items())

    def queryset(self, request, queryset):
        return queryset.filter(field=self.value()) if self.value() else queryset


class _UnusualVolumeFilter(admin.SimpleListFilter):
    title = gettext_lazy("查看量异常")
    parameter_name = "unusual"

    def lookups(self, request, model_admin):
        return [("yes", _("仅看查看量异常的用户"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(user_id__in=_reveal_flags(request))
        return queryset


def _reveal_flags(request) -> dict:
    # One aggregate per request; the rule looks at everything the user revealed, the list shows only what is in scope.
    if not hasattr(request, "_haochaping_reveal_flags"):
        request._haochaping_reveal_flags = {f.user_id: f for f in privacy.unusual_volumes()}
    return request._haochaping_reveal_flags


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The personal-data access log (R7.2): read-only; supervisors see the reveals of their subtree's data, with
    users whose volume in the last 24 hours is unusual flagged (accounts.rules.volume_flag)."""

    list_display = ["at", "user", "unusual", "subject", "field_label", "reason", "region_code", "ip_address"]
    list_filter = [_UnusualVolumeFilter, ("user", RelatedOnlyFieldListFilter), _RevealedFieldFilter, "at"]
    date_hierarchy = "at"
    search_fields = ["user__username", "subject_id"]
    list_select_related = display_related("user")
    fields = ["at", "user", "unusual", "subject", "field_label", "reason", "region_code", "ip_address"]
    readonly_fields = fields
    show_full_result_count = False

    def get_queryset(self, request):
        flagged = list(_reveal_flags(request))
        return super().get_queryset(request).annotate(
            _unusual=Case(When(user_id__in=flagged, then=Value(True)), default=Value(False), output_field=BooleanField())
        )

    def changelist_view(self, request, extra_context=None):
        shown = set(self.get_queryset(request).filter(_unusual=True).values_list("user_id", flat=True).distinct())
        flags = [flag for flag in _reveal_flags(request).values() if flag.user_id in shown]
        # One query for all the flagged users' names, not one per warning.
        users = User.objects.select_related(*User.label_related).in_bulk([flag.user_id for flag in flags])
        for flag in flags:
            messages.warning(request, _("查看量异常：%(user)s，%(detail)s") % {"user": users[flag.user_id], "detail": flag.description})
        return super().changelist_view(request, extra_context)

    @admin.display(description=gettext_lazy("查看量异常"), boolean=True, ordering="_unusual")
    def unusual(self, access):
        return getattr(access, "_unusual", False)

    @admin.display(description=gettext_lazy("对象"))
    def subject(self, access):
        try:
            model = apps.get_model(access.subject_type)
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[access.subject_id])
        except (LookupError, ValueError, NoReverseMatch):
            return f"{access.subject_type} {access.subject_id}"
        return format_html('<a href="{}">{} {}</a>', url, model._meta.verbose_name, access.subject_id)

    @admin.display(description=gettext_lazy("字段"))
    def field_label(self, access):
        return privacy.field_label(access.subject_type, access.field)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Users ---------------------------------------------------------------------------------------------------
# Passwords are never typed by administrators: a new account and a reset get a generated temporary password,
# shown once on a page (never in a URL, message cookie or log), which the user must change at next login.

# How far each role reaches; an administrator may grant only roles up to their own.
ROLE_RANK = {Role.EVALUATOR: 0, Role.STAFF: 1, Role.HOTLINE: 1, Role.HANDLER: 2, Role.ASSESSOR: 2, Role.SUPERVISOR: 3, Role.ADMINISTRATOR: 4}


def grantable_roles(actor) -> list[str]:
    if actor.is_superuser:
        return list(Role.values)
    rank = ROLE_RANK.get(actor.role, -1)
    return [role for role in Role.values if ROLE_RANK[role] <= rank]


class UserAdminForm(forms.ModelForm):
    actor = None  # the signed-in administrator, set per request by UserAdmin.get_form

    class Meta:
        model = User
        fields = ["username", "is_active", "is_staff", "is_superuser", "role", "region", "department", "agency", "staff",
                  "must_change_password", "is_demo"]

    def clean_role(self):
        role = self.cleaned_data.get("role")
        if self.actor is not None and role not in grantable_roles(self.actor):
            raise forms.ValidationError(_("您不能授予高于自己的角色"))
        return role

    def clean(self):
        cleaned = super().clean()
        region = cleaned.get("region")
        if region is None:
            return cleaned
        # A unit or 工号 from another region would give the user a view the region does not explain.
        prefix = region_prefix(region.code)
        unit_regions = {
            "department": lambda d: [d.region_id],
            "agency": lambda a: [a.region_id],
            "staff": lambda s: [r for r in (s.agency.region_id if s.agency_id else None,
                                            s.department.region_id if s.department_id else None) if r],
        }
        for name, regions_of in unit_regions.items():
            value = cleaned.get(name)
            if value is not None and not any(r.startswith(prefix) for r in regions_of(value)):
                self.add_error(name, _("所选%(what)s不在该用户的所属行政区划（%(region)s）内")
                               % {"what": User._meta.get_field(name).verbose_name, "region": region})
        return cleaned


@admin.register(User)
class UserAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Users of the administrator's own region, with the roles they may grant; resets of password and TOTP."""

    form = UserAdminForm
    change_form_template = "accounts/admin/user_change_form.html"
    list_display = ["username", "role", "region", "unit", "staff", "two_factor_status", "is_staff", "is_active", "is_demo",
                    "last_login"]
    list_filter = ["role", "is_active", "is_staff", "is_demo"]
    search_fields = ["username", "staff__staff_no"]
    list_select_related = ["region", "department", "agency", "staff"]
    ordering = ["username"]
    actions = ["reset_passwords", "reset_two_factor"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(is_superuser=False, role__in=grantable_roles(request.user))

    def get_fieldsets(self, request, obj=None):
        account = ["username", "is_active", "is_staff"] + (["is_superuser"] if request.user.is_superuser else [])
        security = ["must_change_password", "is_demo"]
        if obj is not None:
            security = ["two_factor_status", *security, "last_login", "date_joined"]
        return [
            (None, {"fields": account}),
            (gettext_lazy("角色与管辖范围"), {
                "fields": ["role", "region", "department", "agency", "staff"],
                "description": gettext_lazy("监督人员、第三方评估人员、经办人和窗口工作人员须指定所属行政区划；经办人须指定部门或"
                                            "政务服务机构；窗口工作人员须关联工号。"),
            }),
            (gettext_lazy("登录安全"), {"fields": security}),
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = ["two_factor_status", "last_login", "date_joined"]
        # The demo flag can waive TOTP in a demo installation: only superusers set it.
        return readonly if request.user.is_superuser else [*readonly, "is_demo"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.actor = request.user
        return form

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role":
            allowed = set(grantable_roles(request.user))
            kwargs["choices"] = [(value, label) for value, label in Role.choices if value in allowed]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "region" and formfield is not None:
            formfield.queryset = formfield.queryset.order_by("code")
        return formfield

    @admin.display(description=gettext_lazy("所属单位"))
    def unit(self, user):
        return user.department or user.agency or "—"

    @admin.display(description=gettext_lazy("动态口令"))
    def two_factor_status(self, user):
        required = user.is_superuser or user.role in SECOND_FACTOR_REQUIRED
        if login_flow.totp_enrolled(user):
            return _("已绑定（%(date)s）") % {"date": f"{user.totp_confirmed_at:%Y-%m-%d}"}
        if user.totp_secret:
            return _("绑定中（尚未确认）")
        return _("未绑定，首次登录时绑定") if required else _("不需要")

    # -- saving: new accounts get a temporary password --------------------------------------------------------

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        obj.set_unusable_password()
        super().save_model(request, obj, form, change)
        request._hcp_temporary_passwords = [(obj, login_flow.reset_password(obj, by=request.user, request=request))]

    def response_add(self, request, obj, post_url_continue=None):
        issued = getattr(request, "_hcp_temporary_passwords", None)
        if issued:
            return self._temporary_passwords_page(request, issued, _("用户已创建"))
        return super().response_add(request, obj, post_url_continue)

    def _temporary_passwords_page(self, request, issued, title):
        response = TemplateResponse(request, "accounts/admin/temporary_passwords.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": title, "issued": issued,
        })
        add_never_cache_headers(response)  # the page holds the passwords: no browser or proxy may keep it
        return response

    # -- resets -------------------------------------------------------------------------------------------------

    @admin.action(description=gettext_lazy("重置密码"), permissions=["change"])
    def reset_passwords(self, request, queryset):
        issued = [(user, login_flow.reset_password(user, by=request.user, request=request)) for user in queryset]
        return self._temporary_passwords_page(request, issued, _("密码已重置"))

    @admin.action(description=gettext_lazy("重置动态口令"), permissions=["change"])
    def reset_two_factor(self, request, queryset):
        users = list(queryset)
        for user in users:
            login_flow.reset_totp(user, by=request.user, request=request)
        self.message_user(request, _("已重置 %(n)d 个用户的动态口令，他们下次登录时须重新绑定。") % {"n": len(users)},
                          messages.SUCCESS)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/reset-password/", wrap(self.reset_password_view), name="accounts_user_reset_password"),
            path("<path:object_id>/reset-totp/", wrap(self.reset_totp_view), name="accounts_user_reset_totp"),
            *super().get_urls(),
        ]

    def _user_to_reset(self, request, object_id):
        user = self.get_object(request, object_id)  # scoped: out of region reads as "does not exist"
        if user is None:
            raise Http404(_("用户不存在"))
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        return user

    def _confirm_page(self, request, user, title, explanation):
        return TemplateResponse(request, "accounts/admin/confirm_reset.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": title, "object": user,
            "explanation": explanation,
        })

    def reset_password_view(self, request, object_id):
        user = self._user_to_reset(request, object_id)
        if request.method != "POST":
            return self._confirm_page(request, user, _("重置密码"), _(
                "将为该用户生成一个临时密码，原密码立即失效，该用户已登录的会话将被注销。临时密码只显示一次，"
                "请当面或通过安全渠道告知本人；本人下次登录时须修改密码。"))
        password = login_flow.reset_password(user, by=request.user, request=request)
        return self._temporary_passwords_page(request, [(user, password)], _("密码已重置"))

    def reset_totp_view(self, request, object_id):
        user = self._user_to_reset(request, object_id)
        if request.method != "POST":
            return self._confirm_page(request, user, _("重置动态口令"), _(
                "将解除该用户已绑定的身份验证器（如手机丢失或更换）。该用户下次登录时须重新扫码绑定。"))
        login_flow.reset_totp(user, by=request.user, request=request)
        self.message_user(request, _("已重置用户“%(user)s”的动态口令，其下次登录时须重新绑定。") % {"user": user.username},
                          messages.SUCCESS)
        return redirect("admin:accounts_user_change", user.pk)


# The admin's own login and logout go through the site's login flow (password, TOTP, lockout).
admin.site.login = account_views.admin_login
admin.site.logout = account_views.logout_view


# Admins registered by other packages (auth groups, axes login records, task results) get the same rules:
# their models declare no scope, so only those who see everything may open them. Installed apps' admin
# modules load in INSTALLED_APPS order and accounts comes after them. Keep this last in the file.
scope_registered_admins(admin.site)
