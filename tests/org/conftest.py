import pytest


@pytest.fixture
def admin_user(db, django_user_model):
    # Same as pytest-django's, minus the password: Argon2 is slow by design and admin_client uses force_login.
    return django_user_model.objects.create_superuser("admin", "admin@example.com", None)
