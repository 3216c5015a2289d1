"""Background tasks of the accounts app, run by `haochaping worker`."""

from __future__ import annotations

import logging

from django_tasks import task

log = logging.getLogger(__name__)


@task()
def flag_unusual_reveals() -> list[dict]:
    """Warn about users whose personal-data reveals in the last 24 hours are unusual (accounts.rules.volume_flag).

    Logs user ids and counts only, never whose data was seen. Returns the flags (JSON-serialisable, for the task
    result); supervisors see the same flags in the access log admin.
    """
    from . import privacy

    flags = privacy.unusual_volumes()
    for flag in flags:
        log.warning(
            "unusual personal data reveals: user %s revealed %s values in 24 h (previous 30 days: %s, threshold %s, %s)",
            flag.user_id, flag.last_day, flag.history, f"{flag.threshold:g}", flag.reason,
        )
    return [
        {"user_id": f.user_id, "last_day": f.last_day, "history": f.history, "threshold": f.threshold, "reason": f.reason}
        for f in flags
    ]
