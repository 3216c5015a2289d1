"""The log's scheduled task, run by `haochaping worker`: seal new leaves into a signed checkpoint (R8.1)."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from haochaping.core.schedule import periodic

SEAL_EVERY = timedelta(minutes=15)


@periodic(every=SEAL_EVERY)
@task()
def seal_log() -> int:
    """Seal what was written since the last checkpoint; the new tree size, or 0 when nothing was new."""
    from . import services

    checkpoint = services.seal()
    return checkpoint.tree_size if checkpoint else 0
