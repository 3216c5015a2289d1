"""The suite's clock. By default tests run on the real date, so `make test` proves the product on whatever day it
is run. With ``HAOCHAPING_TEST_NOW`` (ISO 8601 with an offset) every test process starts its clock at that moment
and lets it tick: `make test-dates` runs the suite on a Saturday, on the first day of the National Day week and on
the last working day of a year whose next-year holiday notice is not yet published (see docs/testing.md).

time-machine moves the clock of this process (live-server threads included). Real server processes a test starts
(``haochaping serve``, the CLI) get the same moment through libfaketime, set by :func:`subprocess_env`."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import time_machine

TEST_NOW = os.environ.get("HAOCHAPING_TEST_NOW", "")
LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")

_traveller: time_machine.travel | None = None


def moment() -> datetime | None:
    """The configured start moment, or None on the real clock. A value without an offset is refused: the
    expectation of a date test depends on which day it is in Beijing."""
    if not TEST_NOW:
        return None
    value = datetime.fromisoformat(TEST_NOW)
    if value.tzinfo is None:
        raise ValueError(f"HAOCHAPING_TEST_NOW needs an offset, e.g. 2026-12-05T10:00:00+08:00 (got {TEST_NOW!r})")
    return value


def start() -> None:
    """Move this process's clock to the configured moment (once per process; a no-op on the real clock)."""
    global _traveller
    value = moment()
    if value is None or _traveller is not None:
        return
    if not LIBFAKETIME.exists():
        # Without it, server processes would run on the real date while the test runs on the configured one.
        raise RuntimeError(f"HAOCHAPING_TEST_NOW needs libfaketime ({LIBFAKETIME}): apt-get install faketime")
    _traveller = time_machine.travel(value, tick=True)
    _traveller.start()


def subprocess_env(env: dict) -> dict:
    """``env`` for a child process, on the same clock as this one: libfaketime starts it at this process's now."""
    if moment() is None:
        return env
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return {
        **env,
        "LD_PRELOAD": str(LIBFAKETIME),
        "FAKETIME": f"@{now}",  # '@': start at this moment and tick
        "FAKETIME_DONT_RESET": "1",  # gunicorn's forked workers keep the parent's clock
        # The monotonic clock is moved too: leaving it real makes time.sleep() fail with EINVAL under libfaketime.
        "TZ": "UTC",  # FAKETIME is read in the process's time zone at start
    }
