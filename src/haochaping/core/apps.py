from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "haochaping.core"
    verbose_name = _("基础设置")

    def ready(self) -> None:
        from django.contrib import admin

        from . import receivers  # noqa: F401  (connects the calendar cache invalidation)
        from .admin_scoping import search_as_you_type

        # The admin app's ready() (first in INSTALLED_APPS) has imported every admin module by now.
        search_as_you_type(admin.site)
