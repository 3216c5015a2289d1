from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "haochaping.supervision"
    verbose_name = _("监督")

    def ready(self):
        from .fraud import receivers  # noqa: F401
