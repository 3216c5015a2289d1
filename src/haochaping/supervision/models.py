"""supervision's tables. Each concept keeps its models in its own package (``fraud/`` for the detectors of
manufactured and coerced reviews); this module only makes Django find them."""

from .fraud.models import FraudFinding, HallHours, StaffFingerprint, StaffPhone  # noqa: F401
