"""Where an evaluation came from, as blind indexes only (R7.1, R8.2): the client's address and a device cookie.

The fraud detectors (supervision.fraud) compare these with the addresses and devices staff sign in from, to find
evaluations submitted from the rated staff member's own browser. Only HMAC-SM3 blind indexes (core.crypto) are
stored: the address itself and the cookie value are never written anywhere, so neither can be read back from the
database or a log. The device cookie is a random value with no meaning of its own (core.middleware sets it).
"""

from __future__ import annotations

from dataclasses import dataclass

from haochaping.core import crypto
from haochaping.core.client_ip import client_ip
from haochaping.core.middleware import device_id


@dataclass(frozen=True)
class ClientFingerprint:
    address_index: str = ""
    device_index: str = ""


def address_index(address: str) -> str:
    return crypto.blind_index(address, kind="address") if address else ""


def device_index(device: str) -> str:
    return crypto.blind_index(device, kind="device") if device else ""


def of_request(request) -> ClientFingerprint:
    """The blind indexes of the request's client address and device cookie ("" where there is none)."""
    return ClientFingerprint(address_index(client_ip(request)), device_index(device_id(request)))
