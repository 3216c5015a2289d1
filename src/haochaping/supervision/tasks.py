"""supervision's background tasks, run by ``haochaping worker`` on a schedule (core.schedule)."""

from haochaping.supervision.complaints.tasks import read_intake_mailboxes  # noqa: F401
from haochaping.supervision.fraud.tasks import detect_fraud  # noqa: F401
