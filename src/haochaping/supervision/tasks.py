"""supervision's background tasks, run by ``haochaping worker`` on a schedule (core.schedule)."""

from haochaping.supervision.appraisal.tasks import compute_appraisal  # noqa: F401
from haochaping.supervision.complaints.tasks import read_intake_mailboxes  # noqa: F401
from haochaping.supervision.fraud.tasks import detect_fraud  # noqa: F401
from haochaping.supervision.sampling.tasks import draw_callback_samples  # noqa: F401
