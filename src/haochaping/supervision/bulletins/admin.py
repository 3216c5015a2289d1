"""通报 admin: read-only (bulletins are issued, acknowledged and made public on the workbench)."""

from __future__ import annotations

from django.contrib import admin

from haochaping.core.admin_scoping import ScopedAdminMixin

from .models import Bulletin


class BulletinAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("title", "kind", "region", "issued_at", "published_at")
    list_filter = ("kind",)
    list_select_related = ("region",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def register_bulletins_admin() -> None:
    admin.site.register(Bulletin, BulletinAdmin)
