"""supervision's admin. Fraud: halls' opening hours (edited here), staff's own phones (entered here, shown masked),
findings and sign-in fingerprints read-only (findings are decided on the supervisors' page). Assessments: the
assessor organisations and their members."""

from haochaping.supervision.assessments.admin import register_assessments_admin
from haochaping.supervision.fraud.admin import register_fraud_admin

register_fraud_admin()
register_assessments_admin()
