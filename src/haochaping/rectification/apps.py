from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RectificationConfig(AppConfig):
    name = "haochaping.rectification"
    verbose_name = _("差评整改")

    def ready(self) -> None:
        from haochaping.rectification import receivers  # noqa: F401  (connects the evaluation signals)
