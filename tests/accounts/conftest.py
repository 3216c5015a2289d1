"""Fixtures of the accounts tests."""

from __future__ import annotations

import pytest
from axes.utils import reset as reset_axes
from django.core.cache import cache


@pytest.fixture
def clean_login_state():
    """django-axes keeps attempts in its own tables; the cache holds per-process state such as rate windows.
    Login tests start and end with both empty (``pytest.mark.usefixtures("clean_login_state")``)."""
    reset_axes()
    cache.clear()
    yield
    reset_axes()
    cache.clear()
