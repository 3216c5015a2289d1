"""综合点评 admin: intake mailboxes (configured here; the password is write-only, stored encrypted), complaints
and the messages read, read-only (complaints are registered on the workbench, by the API or the mailbox reader)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from haochaping.core.admin_scoping import ScopedAdminMixin

from .models import IntakeMailbox, MailMessage, SocialReview


class _ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class IntakeMailboxForm(forms.ModelForm):
    new_password = forms.CharField(label=_("密码"), required=False, widget=forms.PasswordInput(render_value=False),
                                   help_text=_("加密保存，不再显示；修改时填写新密码，留空则不变"))

    class Meta:
        model = IntakeMailbox
        fields = ["name", "host", "port", "use_ssl", "username", "folder", "region", "department", "is_active"]

    def clean(self):
        data = super().clean()
        if not self.instance.pk and not data.get("new_password"):
            self.add_error("new_password", _("请填写邮箱密码"))
        return data

    def save(self, commit=True):
        if self.cleaned_data.get("new_password"):
            self.instance.password = self.cleaned_data["new_password"]
        return super().save(commit)


class IntakeMailboxAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = IntakeMailboxForm
    list_display = ("name", "host", "port", "username", "department", "is_active", "last_polled_at", "last_error")
    list_select_related = ("department",)
    readonly_fields = ("last_polled_at", "last_error")


class ComplaintAdmin(_ReadOnly, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("pk", "source", "nature", "reference", "department", "received_at", "case")
    list_filter = ("source", "nature")
    list_select_related = ("department", "case")
    exclude = ("complainant_name", "complainant_phone", "complainant_email")


class MailMessageAdmin(_ReadOnly, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("pk", "mailbox", "status", "reason", "size", "read_at", "complaint")
    list_filter = ("status", "reason")
    list_select_related = ("mailbox", "complaint")


def register_complaints_admin() -> None:
    admin.site.register(IntakeMailbox, IntakeMailboxAdmin)
    admin.site.register(SocialReview, ComplaintAdmin)
    admin.site.register(MailMessage, MailMessageAdmin)
