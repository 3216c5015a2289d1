import pytest

from tests.evaluation.conftest import national_labels  # noqa: F401  (bad evaluations need the label dictionary)

from . import world as world_module


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def world(db):
    return world_module.build()


@pytest.fixture(autouse=True)
def _fresh_portal_cache():
    # The portal keeps computed figures for five minutes; each test's database starts over, so must they.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
