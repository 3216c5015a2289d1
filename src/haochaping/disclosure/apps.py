from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisclosureConfig(AppConfig):
    name = "haochaping.disclosure"
    verbose_name = _("信息公开")
