"""Server processes on the test's own PostgreSQL database: its address, and the keys this process uses (the
server must decrypt what the test encrypted, e.g. a TOTP secret)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection


def primary_dsn(dbname: str | None = None) -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{dbname or s['NAME']}"


def same_keys() -> dict:
    """The server decrypts what this process encrypted (the TOTP secret): the same keys."""
    names = ("SECRET_KEY", "SM4_KEY", "INDEX_KEY", "SM2_PRIVATE_KEY")
    return {f"HAOCHAPING_{n}": getattr(settings, n if n == "SECRET_KEY" else f"HAOCHAPING_{n}")
            for n in names if getattr(settings, n if n == "SECRET_KEY" else f"HAOCHAPING_{n}")}
