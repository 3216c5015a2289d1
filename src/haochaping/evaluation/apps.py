from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "haochaping.evaluation"
    verbose_name = _("好差评")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the records signals)
