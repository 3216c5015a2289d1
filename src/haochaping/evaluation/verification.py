"""Proof that the person at a QR page holds a 办件's receipt, without storing anything (R3.1).

* The verification code printed on the 办件 receipt belongs to the 办件: :mod:`haochaping.records.verification`
  (the records API hands it to the business system, the QR page checks it with ``code_matches``).
* A window's QR code carries a signed window token (no expiry: the sign hangs for years); the bare window id
  is not enough to open its page.
* A signed 办件 link rates that 办件 directly (printed as a second QR code on the receipt, or sent).
"""

from __future__ import annotations

from django.core import signing

WINDOW_SALT = "haochaping.evaluation.qr.window"
RECORD_SALT = "haochaping.evaluation.qr.record"


def window_token(window_id: int) -> str:
    # No timestamp (signing.dumps would add one): the same window always prints the same QR sign.
    return signing.Signer(salt=WINDOW_SALT).sign_object(int(window_id))


def read_window_token(token: str) -> int | None:
    """The window id in a token, or None for a forged or malformed token."""
    try:
        value = signing.Signer(salt=WINDOW_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError):
        return None
    return value if isinstance(value, int) else None


def record_token(project_no: str) -> str:
    return signing.dumps({"p": project_no}, salt=RECORD_SALT)


def read_record_token(token: str) -> str | None:
    """The 办件编号 in a signed link, or None for a forged or malformed token."""
    try:
        value = signing.loads(token, salt=RECORD_SALT)
    except signing.BadSignature:
        return None
    return value.get("p") if isinstance(value, dict) and isinstance(value.get("p"), str) else None
