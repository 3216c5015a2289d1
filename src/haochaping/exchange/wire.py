"""What travels between nodes: signed, optionally encrypted JSON bodies (docs/exchange.md "报送与签名").

A push carries three headers: ``X-HCP-App-Id``, ``X-HCP-Timestamp`` (milliseconds since the epoch) and
``X-HCP-Signature``, the SM2-with-SM3 signature (core.signing) of ``app_id \\n timestamp \\n SM3(body)``. When the
two nodes share a payload key (SM4, 16 bytes), the body is ``{"encrypted": base64(nonce ‖ ciphertext ‖ tag)}``:
SM4-GCM over the JSON, with ``app_id \\n timestamp`` as associated data, so a sealed body cannot be replayed
under another app id or time.
"""

from __future__ import annotations

import base64
import binascii
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from haochaping.core import signing
from haochaping.core.crypto import sm3_hex

from . import rules

APP_ID = "X-HCP-App-Id"
TIMESTAMP = "X-HCP-Timestamp"
SIGNATURE = "X-HCP-Signature"
NONCE_BYTES = 12
TAG_BYTES = 16


class WireError(ValueError):
    """A body or header that cannot be accepted; ``field`` names the header or body part."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _aad(app_id: str, timestamp: str) -> bytes:
    return f"{app_id}\n{timestamp}".encode()


def seal(payload: dict, *, app_id: str, timestamp: str, payload_key: bytes | None) -> bytes:
    """The body bytes of a push: JSON, encrypted under ``payload_key`` when there is one."""
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    if not payload_key:
        return raw
    nonce = os.urandom(NONCE_BYTES)
    enc = Cipher(algorithms.SM4(payload_key), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(_aad(app_id, timestamp))
    sealed = nonce + enc.update(raw) + enc.finalize() + enc.tag
    return json.dumps({"encrypted": base64.b64encode(sealed).decode()}).encode()


def headers(body: bytes, *, app_id: str, timestamp: str, private_key: str | None = None) -> dict[str, str]:
    """The signature headers of a push, signed with this node's SM2 key (or ``private_key``)."""
    signature = signing.sign(rules.signing_string(app_id, timestamp, sm3_hex(body)), private_key=private_key)
    return {APP_ID: app_id, TIMESTAMP: timestamp, SIGNATURE: signature, "Content-Type": "application/json"}


def check_signature(body: bytes, *, app_id: str, timestamp: str, signature: str, public_key: str, now_ms: int) -> None:
    """Raise WireError unless the timestamp is current and the signature verifies under ``public_key``."""
    problem = rules.timestamp_problem(timestamp, now_ms)
    if problem:
        raise WireError(TIMESTAMP, problem)
    if not signing.verify(rules.signing_string(app_id, timestamp, sm3_hex(body)), signature or "", public_key):
        raise WireError(SIGNATURE, "签名核验不通过")


def open_body(body: bytes, *, app_id: str, timestamp: str, payload_key: bytes | None) -> dict:
    """The JSON object a push carries, decrypted when the node has a payload key (then it must be encrypted)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WireError("body", "请求体不是 JSON") from None
    if not isinstance(data, dict):
        raise WireError("body", "请求体应为 JSON 对象")
    if payload_key is None:
        if "encrypted" in data:
            raise WireError("encrypted", "未约定报文加密密钥，不应加密")
        return data
    sealed = data.get("encrypted")
    if not isinstance(sealed, str) or set(data) != {"encrypted"}:
        raise WireError("encrypted", "报文须加密（约定了加密密钥）")
    try:
        blob = base64.b64decode(sealed, validate=True)
    except (binascii.Error, ValueError):
        raise WireError("encrypted", "不是 base64") from None
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        raise WireError("encrypted", "密文过短")
    nonce, ciphertext, tag = blob[:NONCE_BYTES], blob[NONCE_BYTES:-TAG_BYTES], blob[-TAG_BYTES:]
    dec = Cipher(algorithms.SM4(payload_key), modes.GCM(nonce, tag)).decryptor()
    dec.authenticate_additional_data(_aad(app_id, timestamp))
    try:
        raw = dec.update(ciphertext) + dec.finalize()
    except InvalidTag:
        raise WireError("encrypted", "解密失败（密钥不符或报文被改动）") from None
    try:
        inner = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise WireError("encrypted", "解密后不是 JSON") from None
    if not isinstance(inner, dict):
        raise WireError("encrypted", "解密后应为 JSON 对象")
    return inner
