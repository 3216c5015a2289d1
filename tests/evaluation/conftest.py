"""Evaluation tests need the national label dictionary. A migration seeds it, but live-server tests run as
transactional tests, which flush every table afterwards, so the rows are put back before each test."""

import importlib

import pytest
from django.conf import settings

_db = settings.DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3" and not _db.get("TEST", {}).get("NAME"):
    # The live server would share one in-memory connection among threads; races run in test_real_server.py.
    collect_ignore = ["test_concurrency.py"]

_seed = importlib.import_module("haochaping.evaluation.migrations.0002_seed_labels")


@pytest.fixture(autouse=True)
def national_labels(request):
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("db")
    from haochaping.evaluation.models import Label

    for code, text in _seed.NATIONAL_LABELS:
        Label.objects.get_or_create(code=code, defaults={"text": text, "level": int(code[0])})


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    from . import server

    return server.migrate(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture
def start_sqlite_server(tmp_path_factory, sqlite_template):
    """Start a real `haochaping serve` process on its own file SQLite database; stopped after the test."""
    from . import server

    started = []

    def start():
        started.append(server.start(tmp_path_factory.mktemp("server"), sqlite_template))
        return started[-1]

    yield start
    for s in started:
        s.stop()
