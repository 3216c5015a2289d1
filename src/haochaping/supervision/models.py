"""supervision's tables. Each concept keeps its models in its own package (``fraud/`` for the detectors of
manufactured and coerced reviews, ``complaints/`` for 综合点评 intake, ``bulletins/`` for 通报); this module only
makes Django find them."""

from .bulletins.models import Bulletin, BulletinRecipient  # noqa: F401
from .complaints.models import IntakeMailbox, MailMessage, SocialReview, SocialReviewAttachment  # noqa: F401
from .fraud.models import FraudFinding, HallHours, StaffFingerprint, StaffPhone  # noqa: F401
