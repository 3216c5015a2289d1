"""supervision's tables. Each concept keeps its models in its own package (``fraud/`` for the detectors of
manufactured and coerced reviews, ``surveys/`` for 监督查评 questionnaires, ``sampling/`` for callback sampling,
``assessments/`` for third-party assessments, ``appraisal/`` for the indicator system and the units' appraisal,
``complaints/`` for 综合点评 intake, ``bulletins/`` for 通报); this module only makes Django find them."""

from .appraisal.models import Appraisal, Indicator, ManualScore  # noqa: F401
from .assessments.models import (  # noqa: F401
    Assessment,
    AssessmentEvidence,
    AssessmentScore,
    AssessorOrganisation,
    Commission,
)
from .bulletins.models import Bulletin, BulletinRecipient  # noqa: F401
from .complaints.models import IntakeMailbox, MailMessage, SocialReview, SocialReviewAttachment  # noqa: F401
from .fraud.models import FraudFinding, HallHours, StaffFingerprint, StaffPhone  # noqa: F401
from .sampling.models import CallbackCall, CallbackItem, CallbackSample  # noqa: F401
from .surveys.models import Survey, SurveyAnswer, SurveyInvitation, SurveyQuestion, SurveyResponse  # noqa: F401
