"""Two workers sealing at the same moment (each slot is enqueued once, but a cron `seal_log` may meet the worker):
the LogHead row lock makes one wait, so every evaluation gets exactly one leaf and the checkpoints chain."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from haochaping.transparency import replay, services
from haochaping.transparency.models import Checkpoint, LogLeaf

# The in-memory SQLite test database refuses a second writer instead of queueing it: the lock is PostgreSQL's test.
pytestmark = [pytest.mark.pg_only, pytest.mark.django_db(transaction=True)]


def test_simultaneous_seals_give_each_evaluation_one_leaf(rate):
    for level in (5, 4, 3, 2, 1, 5):
        rate(level=level)
    barrier = threading.Barrier(3)

    def seal():
        try:
            barrier.wait(timeout=30)
            return services.seal()
        finally:
            connection.close()

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: seal(), range(3)))
    sealed = [cp for cp in results if cp is not None]
    assert len(sealed) == 1 and sealed[0].tree_size == 6
    assert LogLeaf.objects.count() == 6 and Checkpoint.objects.count() == 1
    assert replay.replay().ok
