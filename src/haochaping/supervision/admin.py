"""supervision's admin. Fraud: halls' opening hours (edited here), staff's own phones (entered here, shown masked),
findings and sign-in fingerprints read-only (findings are decided on the supervisors' page)."""

from haochaping.supervision.fraud.admin import register_fraud_admin

register_fraud_admin()
