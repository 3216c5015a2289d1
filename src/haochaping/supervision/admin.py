"""supervision's admin. Fraud: halls' opening hours (edited here), staff's own phones (entered here, shown masked),
findings and sign-in fingerprints read-only (findings are decided on the supervisors' page). Assessments: the
assessor organisations and their members. 综合点评: intake mailboxes (edited here), complaints and messages
read-only. 通报: read-only."""

from haochaping.supervision.assessments.admin import register_assessments_admin
from haochaping.supervision.bulletins.admin import register_bulletins_admin
from haochaping.supervision.complaints.admin import register_complaints_admin
from haochaping.supervision.fraud.admin import register_fraud_admin

register_fraud_admin()
register_assessments_admin()
register_complaints_admin()
register_bulletins_admin()
