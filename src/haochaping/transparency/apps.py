from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransparencyConfig(AppConfig):
    name = "haochaping.transparency"
    verbose_name = _("可验证评价日志")

    def ready(self) -> None:
        from . import receivers  # noqa: F401
