"""SM4-GCM, HMAC-SM3 blind index and SM3 (R7.2, R8.5)."""

import pytest
from django.test import override_settings

from haochaping.core import crypto

KEY_A = "0123456789abcdef0123456789abcdef"
KEY_B = "fedcba9876543210fedcba9876543210"


@pytest.fixture(autouse=True)
def fresh_keys():
    crypto.reset_key_cache()
    yield
    crypto.reset_key_cache()


def test_sm3_matches_the_standard_test_vector():
    # GB/T 32905-2016 example 1: SM3("abc").
    assert crypto.sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_sm4_round_trip_and_fresh_nonce_each_time():
    a, b = crypto.sm4_encrypt("13987654321"), crypto.sm4_encrypt("13987654321")
    assert a != b
    assert b"13987654321" not in a
    assert crypto.sm4_decrypt(a) == crypto.sm4_decrypt(b) == "13987654321"
    assert crypto.sm4_decrypt(crypto.sm4_encrypt("欧阳娜娜")) == "欧阳娜娜"


def test_tampered_ciphertext_is_detected():
    blob = bytearray(crypto.sm4_encrypt("370102199003077713"))
    blob[20] ^= 1
    with pytest.raises(crypto.DecryptionError):
        crypto.sm4_decrypt(bytes(blob))
    with pytest.raises(crypto.DecryptionError):
        crypto.sm4_decrypt(b"\x01\x01short")


def test_associated_data_binds_the_ciphertext():
    blob = crypto.sm4_encrypt("x", associated=b"records.applicant_phone")
    with pytest.raises(crypto.DecryptionError):
        crypto.sm4_decrypt(blob, associated=b"evaluation.evaluator_phone")


def test_key_rotation_keeps_old_rows_readable():
    with override_settings(HAOCHAPING_SM4_KEY=f"1:{KEY_A}"):
        crypto.reset_key_cache()
        old = crypto.sm4_encrypt("13987654321")
        assert crypto.key_id_of(old) == 1
    with override_settings(HAOCHAPING_SM4_KEY=f"2:{KEY_B},1:{KEY_A}"):
        crypto.reset_key_cache()
        new = crypto.sm4_encrypt("13987654321")
        assert crypto.key_id_of(new) == 2 == crypto.current_key_id()
        assert crypto.sm4_decrypt(old) == crypto.sm4_decrypt(new) == "13987654321"
    with override_settings(HAOCHAPING_SM4_KEY=f"2:{KEY_B}"):
        crypto.reset_key_cache()
        with pytest.raises(crypto.DecryptionError):
            crypto.sm4_decrypt(old)


def test_keys_must_be_sixteen_bytes():
    with override_settings(HAOCHAPING_SM4_KEY="abcd"):
        crypto.reset_key_cache()
        with pytest.raises(ValueError):
            crypto.sm4_encrypt("x")


def test_blind_index_is_deterministic_normalised_and_separated_by_kind():
    idx = crypto.blind_index("13987654321", kind="phone")
    assert idx == crypto.blind_index(" 139 8765 4321 ", kind="phone")
    assert idx != crypto.blind_index("13987654321", kind="id_number")
    assert "13987654321" not in idx and len(idx) == 64
    assert crypto.blind_index("37010219900307771x", kind="id_number") == crypto.blind_index("37010219900307771X", kind="id_number")


def test_blind_index_depends_on_the_index_key():
    before = crypto.blind_index("13987654321", kind="phone")
    with override_settings(HAOCHAPING_INDEX_KEY=KEY_B):
        crypto.reset_key_cache()
        assert crypto.blind_index("13987654321", kind="phone") != before
