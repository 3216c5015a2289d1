"""The fraud detectors' admin pages."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from haochaping.accounts.models import display_related
from haochaping.core.admin_scoping import ScopedAdminMixin
from haochaping.core.problems import DomainError

from . import services
from .models import FraudFinding, HallHours, StaffFingerprint, StaffPhone


class _ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HallHoursAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("agency", "opens", "closes", "open_on_rest_days")


class StaffPhoneForm(forms.ModelForm):
    phone_number = forms.CharField(label=_("手机号"), max_length=20)

    class Meta:
        model = StaffPhone
        fields = ["staff"]

    def clean_phone_number(self):
        value = "".join(self.cleaned_data["phone_number"].split())
        if not (len(value) == 11 and value.isdigit() and value.startswith("1")):
            raise forms.ValidationError(_("手机号应为11位数字，以1开头"))
        return value


class StaffPhoneAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = StaffPhoneForm
    list_display = ("staff", "phone", "added_at")

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            row = services.register_staff_phone(obj.staff, form.cleaned_data["phone_number"], actor=request.user)
        except DomainError as exc:  # the form validated it already; kept for the service's own refusal
            raise forms.ValidationError(exc.detail) from exc
        obj.pk = row.pk


class FraudFindingAdmin(_ReadOnly, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("pk", "pattern", "department", "agency", "status", "detected_at")
    list_select_related = ("department", "agency")
    list_filter = ("pattern", "status")
    exclude = ("evaluations",)


class StaffFingerprintAdmin(_ReadOnly, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("user", "first_seen", "last_seen")
    list_select_related = display_related("user")  # str(user) shows name, role and unit


def register_fraud_admin() -> None:
    admin.site.register(HallHours, HallHoursAdmin)
    admin.site.register(StaffPhone, StaffPhoneAdmin)
    admin.site.register(FraudFinding, FraudFindingAdmin)
    admin.site.register(StaffFingerprint, StaffFingerprintAdmin)
