from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "haochaping.supervision"
    verbose_name = _("监督")

    def ready(self):
        from haochaping.core.scoping import widen
        from haochaping.evaluation.models import Evaluation

        from .fraud import receivers  # noqa: F401

        # A public-service enterprise's industry department (org.Department.industry_department, §五) sees the
        # enterprise's evaluations, as the management agency does by region.
        widen(Evaluation, department=("department__industry_department_id",))
