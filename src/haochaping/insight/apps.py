from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightConfig(AppConfig):
    name = "haochaping.insight"
    verbose_name = _("统计分析")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (keeps the rollups in step with evaluation writes)
