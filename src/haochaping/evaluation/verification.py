"""Proof that the person at a QR page holds a 办件's receipt, without storing anything (R3.1).

* The verification code printed on the 办件 receipt is HMAC-SM3 (the blind-index key) over the 办件编号,
  truncated to six digits: the business system prints it, the QR page recomputes it.
* A window's QR code carries a signed window token (no expiry: the sign hangs for years); the bare window id
  is not enough to open its page.
* A signed 办件 link rates that 办件 directly (printed as a second QR code on the receipt, or sent).
"""

from __future__ import annotations

import hmac

from django.core import signing

from haochaping.core import crypto

CODE_DIGITS = 6
WINDOW_SALT = "haochaping.evaluation.qr.window"
RECORD_SALT = "haochaping.evaluation.qr.record"


def verification_code(project_no: str) -> str:
    """The six-digit code for ``project_no`` (same input, same code; unpredictable without the server key)."""
    digest = crypto.blind_index(project_no, kind="receipt-verification")
    return f"{int(digest[:16], 16) % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


def normalise_code(code: str) -> str:
    # People type spaces or full-width digits from a phone keyboard; only the digits matter.
    return "".join(ch for ch in (code or "").translate(_FULL_WIDTH) if not ch.isspace())


_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def code_matches(project_no: str, code: str) -> bool:
    """Whether ``code`` is the verification code of ``project_no`` (constant-time comparison)."""
    given = normalise_code(code)
    if len(given) != CODE_DIGITS or not given.isdigit():
        return False
    return hmac.compare_digest(given, verification_code(project_no))


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
