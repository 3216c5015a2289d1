from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RectificationConfig(AppConfig):
    name = "haochaping.rectification"
    verbose_name = _("差评整改")

    def ready(self) -> None:
        from haochaping.core.scoping import widen
        from haochaping.evaluation.models import Evaluation
        from haochaping.rectification import receivers  # noqa: F401  (connects the evaluation signals)

        # The unit a case was routed or transferred to (a window's stationed department, a platform's operator)
        # sees the evaluation the case is about, and nothing more of that 办件's evaluations (R4.1, R4.2).
        widen(Evaluation, department=("case__department_id",))
