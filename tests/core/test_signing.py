"""SM2 signatures: what an upper node and a log verifier rely on."""

import pytest
from gmssl import sm2

from haochaping.core import signing

# A fixed key pair; the public key was computed independently with gmssl's point multiplication.
PRIVATE = "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8"
PUBLIC = (
    "09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020"
    "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13"
)


def test_public_key_of_a_known_private_key():
    assert signing.public_key_of(PRIVATE) == PUBLIC


def test_signature_verifies_and_any_change_breaks_it():
    sig = signing.sign(b"tree head 1", private_key=PRIVATE)
    assert signing.verify(b"tree head 1", sig, PUBLIC)
    assert not signing.verify(b"tree head 2", sig, PUBLIC)
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    assert not signing.verify(b"tree head 1", flipped, PUBLIC)
    other = signing.public_key_of(signing.new_private_key())
    assert not signing.verify(b"tree head 1", sig, other)


def test_signature_is_checked_by_gmssl_independently():
    sig = signing.sign(b"payload", private_key=PRIVATE)
    assert sm2.CryptSM2(private_key="", public_key=PUBLIC).verify_with_sm3(sig, b"payload")


def test_nonces_differ_between_signatures():
    assert signing.sign(b"x", private_key=PRIVATE) != signing.sign(b"x", private_key=PRIVATE)


@pytest.mark.parametrize("signature", ["", "zz" * 64, "00" * 64, "ab" * 63, None, "f" * 128])
def test_malformed_signatures_do_not_verify_and_do_not_raise(signature):
    assert signing.verify(b"x", signature, PUBLIC) is False


@pytest.mark.parametrize("key", ["", "xyz", "00" * 32, "ab" * 31])
def test_malformed_private_keys_are_refused(key):
    with pytest.raises(signing.SignatureError):
        signing.sign(b"x", private_key=key)


def test_node_key_is_stable_and_signs(settings):
    settings.HAOCHAPING_SM2_PRIVATE_KEY = PRIVATE
    signing.reset_key_cache()
    try:
        assert signing.node_public_key() == PUBLIC
        assert signing.verify(b"n", signing.sign(b"n"), PUBLIC)
    finally:
        signing.reset_key_cache()


def test_a_public_key_starting_with_04_signs_and_verifies():
    # 1 key in 256 has an x coordinate starting with "04", which gmssl's constructor takes for the uncompressed-point
    # prefix and strips (with every following 0 and 4): verification crashed, signatures never verified. Private
    # key 11 is the smallest such key.
    private = f"{11:064x}"
    public = signing.public_key_of(private)
    assert public.startswith("04") and len(public) == 128
    sig = signing.sign(b"push 1", private_key=private)
    assert signing.verify(b"push 1", sig, public)
    assert not signing.verify(b"push 2", sig, public)


def test_the_independent_log_verifier_accepts_such_a_key_too():
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "verify_log_tool", Path(__file__).resolve().parents[2] / "tools" / "verify_log.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    private = f"{11:064x}"
    public = signing.public_key_of(private)
    sig = signing.sign(b"checkpoint", private_key=private)
    assert tool.signature_ok("checkpoint", sig, public)
    assert not tool.signature_ok("checkpoint 2", sig, public)
