from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "haochaping.exchange"
    verbose_name = _("数据汇聚与报送")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (every write enters the outbox in its own transaction)
