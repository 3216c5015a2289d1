"""Build the demo once for a whole test module, inside a transaction that is rolled back afterwards."""

from __future__ import annotations

import io
from contextlib import contextmanager

from django.core.management import call_command
from django.db import transaction

from haochaping.core import calendar
from haochaping.org import policy


def _forget_caches() -> None:
    # Per-process caches would otherwise outlive the rolled-back rows.
    calendar.invalidate()
    policy.invalidate()


@contextmanager
def demo_built(django_db_blocker, records: int):
    """Yield the output of ``haochaping demo --records N``; every row it wrote is rolled back on exit."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            _forget_caches()
            out = io.StringIO()
            call_command("demo", records=records, stdout=out)
            yield out.getvalue()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            _forget_caches()
