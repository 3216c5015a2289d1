"""API keys: shown once, stored as SM3 hashes, scoped, revocable, expiring."""

from datetime import timedelta

import pytest
from django.utils import timezone

from haochaping.accounts.models import ApiKey, Scope
from haochaping.accounts.services import authenticate_api_key, create_api_key, revoke_api_key
from haochaping.core.crypto import sm3_hex
from haochaping.core.problems import DomainError

pytestmark = pytest.mark.django_db


def test_secret_is_returned_once_and_only_its_hash_is_stored():
    key, secret = create_api_key(name="省政务服务平台", scopes=[Scope.RECORDS_WRITE])
    assert secret.startswith(f"hcp_{key.prefix}_")
    row = ApiKey.objects.get(pk=key.pk)
    assert row.key_hash == sm3_hex(secret.encode())
    assert secret not in str(ApiKey.objects.filter(pk=key.pk).values().get())


def test_valid_secret_authenticates_and_marks_last_use():
    key, secret = create_api_key(name="a", scopes=[Scope.EVALUATIONS_WRITE])
    found = authenticate_api_key(secret)
    assert found.pk == key.pk and found.scopes == ["evaluations:write"]
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None


@pytest.mark.parametrize("mangle", [lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"), lambda s: s + "x", lambda s: s[4:],
                                    lambda s: "hcp_00000000_" + s.split("_", 2)[2], lambda s: ""])
def test_wrong_secrets_do_not_authenticate(mangle):
    _key, secret = create_api_key(name="a", scopes=[Scope.RECORDS_WRITE])
    assert authenticate_api_key(mangle(secret)) is None


def test_revoked_key_no_longer_authenticates():
    key, secret = create_api_key(name="a", scopes=[Scope.RECORDS_WRITE])
    revoke_api_key(key)
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert authenticate_api_key(secret) is None


def test_expired_key_no_longer_authenticates():
    _key, secret = create_api_key(name="a", scopes=[Scope.RECORDS_WRITE], expires_at=timezone.now() + timedelta(hours=1))
    assert authenticate_api_key(secret) is not None
    ApiKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert authenticate_api_key(secret) is None


def test_unknown_scope_is_refused_in_chinese():
    with pytest.raises(DomainError) as exc:
        create_api_key(name="a", scopes=["records:write", "everything"])
    assert exc.value.field == "scopes" and "everything" in exc.value.detail
    assert ApiKey.objects.count() == 0
