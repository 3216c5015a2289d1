"""A 办件's verification code (R3.1): printed on the 办件 receipt, it proves at a QR page that the person holds
the receipt, without storing anything. HMAC-SM3 (the blind-index key) over the 办件编号, truncated to six digits:
the business system prints it (the records API returns it), the evaluation QR page recomputes it.
"""

from __future__ import annotations

import hmac

from haochaping.core import crypto

CODE_DIGITS = 6


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
