"""Admin of third-party assessments: administrators register assessor organisations and their members (assessor
accounts); everything else happens on the pages (/work/assessments/)."""

from __future__ import annotations

from django.contrib import admin

from haochaping.core.admin_scoping import ScopedAdminMixin

from .models import AssessorOrganisation


class AssessorOrganisationAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "region", "credit_code")
    search_fields = ("name",)
    filter_horizontal = ("members",)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "members" and field is not None:
            field.queryset = field.queryset.filter(role="assessor")
        return field


def register_assessments_admin() -> None:
    admin.site.register(AssessorOrganisation, AssessorOrganisationAdmin)
