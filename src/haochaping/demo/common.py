"""What every part of the demo generator shares: the seed, the anchor's time zone, the summary of what was built,
and small deterministic helpers (fake names and numbers, receipt codes, times of day, working days)."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from haochaping.core import calendar
from haochaping.evaluation.services import RECEIPT_ALPHABET
from haochaping.records.models import RecordStatus

from . import data

SEED = 20190051  # 国办发〔2019〕51号
SOURCE = "演示数据"
MARKER_PLATFORM = "DEMO-370000-PC"  # its presence means the demo data is loaded
DEFAULT_RECORDS = 100_000
DAYS = 365
CHUNK = 5000
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Summary:
    regions: int = 0
    departments: int = 0
    agencies: int = 0
    windows: int = 0
    staff: int = 0
    platforms: int = 0
    items: int = 0
    guides: int = 0
    records: int = 0
    status: Counter = field(default_factory=Counter)
    overdue: int = 0
    evaluations: int = 0
    followups: int = 0
    bad: int = 0
    real_name: int = 0
    supplementary: int = 0
    channels: Counter = field(default_factory=Counter)
    evaluated_completed: int = 0
    seconds: float = 0.0
    start: date | None = None
    end: date | None = None

    @property
    def completed(self) -> int:
        return self.status[RecordStatus.COMPLETED]

    @property
    def participation_rate(self) -> float:
        return self.evaluated_completed / self.completed if self.completed else 0.0

    @property
    def bad_rate(self) -> float:
        return self.bad / self.evaluations if self.evaluations else 0.0


# ---- small deterministic helpers -----------------------------------------------------------------------

class Fake:
    """Generated (never real) names, phones and ID numbers from the demo's random stream."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def person(self) -> str:
        r = self.rng
        given = r.choice(data.GIVEN_CHARS) + (r.choice(data.GIVEN_CHARS) if r.random() < 0.7 else "")
        return r.choice(data.SURNAMES) + given

    def company(self, city: str) -> str:
        r = self.rng
        return f"{city[:-1]}{r.choice(data.COMPANY_BRANDS)}{r.choice(data.COMPANY_TRADES)}有限公司"

    def phone(self) -> str:
        return self.rng.choice(data.PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def id_number(self) -> str:
        r = self.rng
        born = date(1950, 1, 1) + timedelta(days=r.randrange(20000))
        body = f"{r.choice(data.ID_REGIONS)}{born:%Y%m%d}{r.randrange(1000):03d}"
        # GB 11643 check character (ISO 7064 MOD 11-2).
        total = sum(int(c) * (2 ** (17 - i) % 11) for i, c in enumerate(body))
        return body + "10X98765432"[total % 11]

    def org_code(self) -> str:
        """A 9-character organisation code (GB 11714) with its check character."""
        digits = f"{self.rng.randrange(10**7, 10**8)}"
        total = sum(int(c) * w for c, w in zip(digits, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
        check = 11 - total % 11
        return digits + {10: "X", 11: "0"}.get(check, str(check))


def receipt_codes(rng: random.Random):
    """Unique 12-character receipt codes (60 bits from the seed's stream, in the receipt alphabet)."""
    seen: set[str] = set()
    while True:
        n = rng.getrandbits(60)
        code = "".join(RECEIPT_ALPHABET[(n >> (5 * i)) & 31] for i in range(12))
        if code not in seen:
            seen.add(code)
            yield code


def at(day: date, seconds: float) -> datetime:
    """A moment on ``day`` in Shanghai, ``seconds`` after midnight (whole seconds)."""
    return datetime.combine(day, time(), SHANGHAI) + timedelta(seconds=int(seconds))


def local_day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def end_of(day: date) -> datetime:
    return at(day, 86399)


class WorkingDays:
    """Memoised calls to the one calendar service (core.calendar), per region."""

    def __init__(self):
        self._memo: dict[tuple, date] = {}

    def add(self, start: date, n: int, region: str) -> date:
        key = (start, n, region)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = calendar.add_working_days(start, n, region)
        return found
