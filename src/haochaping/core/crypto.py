"""National (国密) cryptography for personal data (R7.2, R8.5).

* SM4-GCM encrypts personal data at rest. A stored value is ``version byte | key id | nonce | ciphertext | tag``
  so that keys can rotate: old rows stay readable under their key id while new rows use the current key.
* HMAC-SM3 gives a blind index, so an exact phone or ID number can be looked up without decrypting every row.
* SM3 hashes evaluation leaves for the verifiable log (R8.1).
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings

FORMAT_VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 16


class DecryptionError(Exception):
    """Stored personal data could not be decrypted (wrong key or tampered bytes)."""


def _dev_key(purpose: str) -> bytes:
    # Deterministic per SECRET_KEY so a development database stays readable across restarts.
    return hashlib.sha256(f"{purpose}:{settings.SECRET_KEY}".encode()).digest()[:16]


@lru_cache(maxsize=1)
def _keys() -> tuple[int, dict[int, bytes]]:
    """Current key id and every key that can still decrypt.

    ``HAOCHAPING_SM4_KEY`` is ``hex`` or ``id:hex[,id:hex...]``; the first entry is the current key.
    """
    raw = settings.HAOCHAPING_SM4_KEY
    if not raw:
        return 1, {1: _dev_key("sm4")}
    keys: dict[int, bytes] = {}
    current = None
    for n, part in enumerate(raw.split(",")):
        key_id, _, hexkey = part.rpartition(":")
        kid = int(key_id) if key_id else n + 1
        key = bytes.fromhex(hexkey.strip())
        if len(key) != 16:
            raise ValueError("SM4 keys are 16 bytes (32 hex digits)")
        keys[kid] = key
        current = kid if current is None else current
    return current, keys


@lru_cache(maxsize=1)
def _index_key() -> bytes:
    raw = settings.HAOCHAPING_INDEX_KEY
    return bytes.fromhex(raw) if raw else _dev_key("index")


def reset_key_cache() -> None:
    _keys.cache_clear()
    _index_key.cache_clear()


def sm4_encrypt(plaintext: str, *, associated: bytes = b"") -> bytes:
    current, keys = _keys()
    nonce = os.urandom(NONCE_BYTES)
    enc = Cipher(algorithms.SM4(keys[current]), modes.GCM(nonce)).encryptor()
    if associated:
        enc.authenticate_additional_data(associated)
    body = enc.update(plaintext.encode("utf-8")) + enc.finalize()
    return bytes([FORMAT_VERSION, current]) + nonce + body + enc.tag


def sm4_decrypt(blob: bytes, *, associated: bytes = b"") -> str:
    blob = bytes(blob)
    if len(blob) < 2 + NONCE_BYTES + TAG_BYTES or blob[0] != FORMAT_VERSION:
        raise DecryptionError("unknown format")
    _, keys = _keys()
    key = keys.get(blob[1])
    if key is None:
        raise DecryptionError("key id not configured")
    nonce = blob[2 : 2 + NONCE_BYTES]
    body, tag = blob[2 + NONCE_BYTES : -TAG_BYTES], blob[-TAG_BYTES:]
    dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    if associated:
        dec.authenticate_additional_data(associated)
    try:
        return (dec.update(body) + dec.finalize()).decode("utf-8")
    except InvalidTag as exc:
        raise DecryptionError("authentication failed") from exc


def blind_index(value: str, *, kind: str) -> str:
    """HMAC-SM3 of a normalised value; ``kind`` separates phone numbers from ID numbers."""
    h = hmac.HMAC(_index_key(), hashes.SM3())
    h.update(f"{kind}:{normalise(value)}".encode())
    return h.finalize().hex()


def normalise(value: str) -> str:
    return "".join(value.split()).upper()


def sm3_hex(data: bytes) -> str:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize().hex()


def key_id_of(blob: bytes) -> int:
    return bytes(blob)[1]


def current_key_id() -> int:
    return _keys()[0]
