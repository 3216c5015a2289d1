"""SM2 signatures (GB/T 32918) for what leaves this node: checkpoints of the verifiable log, pushes upstream.

gmssl does the curve arithmetic. Its own nonce (``func.random_hex``) comes from ``random.choice``, which is not
a cryptographic source, so every signature here draws its nonce from :mod:`secrets` instead. Signatures use
gmssl's default signer id ``1234567812345678`` (the GM/T 0009 default) and are the 64-byte ``r || s`` in hex.

``HAOCHAPING_SM2_PRIVATE_KEY`` (64 hex digits) is this node's key; without it a development key is derived from
``SECRET_KEY`` (production refuses to start without one, see settings).
"""

from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache

from django.conf import settings
from gmssl import sm2

_CURVE = sm2.default_ecc_table
_N = int(_CURVE["n"], 16)


class SignatureError(ValueError):
    """A key or signature is malformed (not merely a signature that does not verify)."""


def _check_private(hexkey: str) -> str:
    try:
        d = int(hexkey, 16)
    except ValueError:
        raise SignatureError("SM2 private key is not hex") from None
    if len(hexkey) != 64 or not 1 <= d < _N - 1:
        raise SignatureError("SM2 private key must be 64 hex digits in [1, n-2]")
    return hexkey.lower()


def _crypt(private_key: str, public_key: str) -> sm2.CryptSM2:
    """gmssl's signer/verifier for a key pair. Its constructor treats a public key starting with "04" as carrying the
    uncompressed-point prefix and ``lstrip``s every leading 0 and 4 — which mangles the 1 in 256 keys whose x
    coordinate starts with "04" (verification then crashes, signatures then never verify). The key is set after
    construction instead: here it is always the bare 128 hex digits x || y."""
    crypt = sm2.CryptSM2(private_key=private_key, public_key="")
    crypt.public_key = public_key
    return crypt


def public_key_of(private_key_hex: str) -> str:
    """The public key (128 hex digits, x || y) of a private key."""
    d = int(_check_private(private_key_hex), 16)
    return sm2.CryptSM2(private_key=private_key_hex, public_key="")._kg(d, _CURVE["g"])


def new_private_key() -> str:
    """A fresh private key from the OS's cryptographic random source."""
    return f"{secrets.randbelow(_N - 2) + 1:064x}"


@lru_cache(maxsize=1)
def _node_private_key() -> str:
    raw = getattr(settings, "HAOCHAPING_SM2_PRIVATE_KEY", "")
    if raw:
        return _check_private(raw.strip())
    # Development and tests: stable per SECRET_KEY, so a demo node keeps one identity across restarts.
    seed = int.from_bytes(hashlib.sha256(f"sm2:{settings.SECRET_KEY}".encode()).digest(), "big")
    return f"{seed % (_N - 2) + 1:064x}"


def reset_key_cache() -> None:
    _node_private_key.cache_clear()


def node_public_key() -> str:
    """This node's SM2 public key (hex), as published beside checkpoints and given to an upper node."""
    return public_key_of(_node_private_key())


def sign(data: bytes, *, private_key: str | None = None) -> str:
    """SM2-with-SM3 signature of ``data`` (hex ``r || s``), by this node's key unless another is given."""
    key = _check_private(private_key) if private_key is not None else _node_private_key()
    signer = _crypt(key, public_key_of(key))
    while True:
        nonce = f"{secrets.randbelow(_N - 1) + 1:064x}"
        signature = signer.sign_with_sm3(data, nonce)
        if signature:  # gmssl returns None for the (negligible) degenerate nonces; draw again
            return signature


def verify(data: bytes, signature: str, public_key: str) -> bool:
    """Whether ``signature`` is a valid SM2-with-SM3 signature of ``data`` under ``public_key`` (hex)."""
    if not isinstance(signature, str) or len(signature) != 128 or len(public_key or "") != 128:
        return False
    try:
        int(signature, 16), int(public_key, 16)
    except ValueError:
        return False
    r, s = int(signature[:64], 16), int(signature[64:], 16)
    if not (1 <= r < _N and 1 <= s < _N):
        return False
    try:
        return bool(_crypt("", public_key.lower()).verify_with_sm3(signature, data))
    except (ValueError, ZeroDivisionError):
        return False
