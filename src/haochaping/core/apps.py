from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "haochaping.core"
    verbose_name = _("基础设置")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the calendar cache invalidation)
