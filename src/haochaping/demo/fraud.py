"""Measured fraud detection (issue 19 item 6): plant each pattern the detectors look for, at several strengths,
into the demo province, run the detectors, and count what they flagged.

The province is the demo's (``generator.build``): its year of honest 办件 and evaluations is the background the
detectors must stay quiet on. Every plant goes in through the live services — ``records.services.push_record``
and ``evaluation.services.submit_evaluation`` (with the original time, as the history import does) — at a handling
unit (department in a hall) of its own, so each plant's unit is known and every other unit with evaluations is
"untouched". ``measure`` gives recall per pattern and strength and the share of untouched units flagged
(bench/fraud.py prints it; tests/supervision/test_fraud_measured.py holds it to the targets).
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count

from haochaping.accounts.roles import Role
from haochaping.core import calendar
from haochaping.evaluation.fingerprint import ClientFingerprint, address_index, device_index
from haochaping.evaluation.models import Channel, Evaluation
from haochaping.evaluation.services import EvaluationInput, submit_evaluation
from haochaping.records.models import RecordStatus, RecordType, ServiceRecord, Stage
from haochaping.records.services import RecordInput, push_record
from haochaping.supervision.fraud import rules, services
from haochaping.supervision.fraud.models import FraudFinding
from haochaping.supervision.fraud.rules import Pattern

from .common import SHANGHAI, Fake

SOURCE = "fraud-plant"
# Each pattern at three strengths: the weakest at (or just past) the detector's threshold, the others above it.
STRENGTHS: dict[str, tuple[int, ...]] = {
    Pattern.BURST: (5, 8, 12),  # top ratings within 9 minutes at one window
    Pattern.PHONE_MANY: (5, 8, 12),  # 办件 rated by one phone over as many days
    Pattern.STAFF_PHONE: (1, 2, 4),  # evaluations of the unit from a staff member's own phone
    Pattern.OWN_CLIENT: (1, 3, -4),  # from a staff member's device (n), or from their sign-in address (-n)
    Pattern.TEMPLATE: (4, 6, 10),  # near-identical comments (a name varies)
    Pattern.OUTLIER: (80, 150, 300),  # extra top ratings of one item over about five months
    Pattern.CLOSED_HOURS: (2, 4, 8),  # kiosk ratings after closing time or on rest days
    Pattern.RETALIATION: (3, 4, 6),  # later 办件 of a real-name 差评's evaluator, all overdue
}
TEMPLATE = "窗口工作人员{name}服务热情周到，业务非常熟练，办事效率很高，一次就办好了，给您点赞！"


@dataclass(frozen=True)
class Plant:
    pattern: str
    strength: int
    unit: tuple[int, int | None]  # (department id, agency id)


@dataclass
class Measurement:
    plants: list[Plant]
    flagged: dict[str, set[tuple]]  # pattern -> units with a finding of it
    units: set[tuple]  # every unit with evaluations in the period
    findings: int = 0
    recall: dict[str, tuple[int, int]] = field(default_factory=dict)  # pattern -> (flagged, planted)
    by_strength: dict[tuple[str, int], bool] = field(default_factory=dict)
    untouched: int = 0
    untouched_flagged: list[tuple] = field(default_factory=list)

    @property
    def total_recall(self) -> float:
        hit = sum(h for h, _n in self.recall.values())
        return hit / max(1, sum(n for _h, n in self.recall.values()))

    @property
    def false_positive_rate(self) -> float:
        return len(self.untouched_flagged) / max(1, self.untouched)


class Planter:
    """Writes the planted 办件 and evaluations through the live services."""

    def __init__(self, today: date, seed: int = 19):
        self.today = today
        self.anchor = datetime.combine(today, time(), SHANGHAI)
        self.rng = random.Random(seed)
        self.fake = Fake(self.rng)
        self.seq = itertools.count(1)
        self.used: set[tuple] = set()
        self.codes: set[str] = set()  # items (基本编码) an outlier is planted on
        # The units an outlier plant is measured against: other patterns are not planted there, or their extra top
        # ratings would raise the peers' share and spread and hide the outlier (seen on some dates).
        self.outlier_peers: set[tuple] = set()

    # -- the units the plants go to ----------------------------------------------------------------------
    def hall_units(self, since: datetime) -> list[dict]:
        """Hall units (department in an agency) with a window, a staff member and evaluations since ``since``,
        busiest first, each with its most evaluated item."""
        rows = (Evaluation.objects.filter(created_at__gte=since, window__isnull=False, staff__isnull=False,
                                          agency__isnull=False)
                .values("department_id", "agency_id", "item_id").annotate(n=Count("pk")).order_by("-n"))
        best: dict[tuple, dict] = {}
        for r in rows:
            key = (r["department_id"], r["agency_id"])
            if key not in best:
                best[key] = {"unit": key, "item_id": r["item_id"], "n": r["n"]}
        return list(best.values())

    def take(self, candidates: list[dict], pick=None) -> dict:
        for c in (pick or (lambda cs: cs))(candidates):
            if c["unit"] not in self.used and c["unit"] not in self.outlier_peers:
                self.used.add(c["unit"])
                return c
        raise RuntimeError("no untouched unit left to plant in")

    def template_record(self, unit: tuple, item_id: int | None = None) -> ServiceRecord:
        qs = ServiceRecord.objects.filter(department_id=unit[0], agency_id=unit[1], window__isnull=False,
                                          staff__isnull=False)
        if item_id is not None:
            qs = qs.filter(item_id=item_id)
        return qs.select_related("item", "department", "agency", "window", "staff").order_by("pk").first()

    # -- writing ----------------------------------------------------------------------------------------
    def record(self, like: ServiceRecord, accepted: datetime, completed: datetime | None, *, phone: str = "",
               promised: int = 0) -> ServiceRecord:
        project_no = f"FRAUD{self.today:%Y%m%d}{next(self.seq):07d}"
        record_type = RecordType.PROMISED if promised else RecordType.IMMEDIATE
        data = RecordInput(
            project_no=project_no, implementation_code=like.item.implementation_code, region_code=like.region_id,
            department_credit_code=like.department.credit_code, applicant_type=1, record_type=record_type,
            status=RecordStatus.COMPLETED if completed else RecordStatus.IN_PROGRESS, promised_days=promised,
            agency_code=like.agency.code if like.agency else None, window_code=like.window.code if like.window else None,
            staff_no=like.staff.staff_no if like.staff else None, applicant_name=self.fake.person(),
            applicant_id_number=self.fake.id_number(), applicant_phone=phone or self.fake.phone(),
            accepted_at=accepted, completed_at=completed,
        )
        record, _created = push_record(data, source=SOURCE)
        return record

    def rate(self, record: ServiceRecord, when: datetime, level: int = 5, *, channel: str = Channel.QR,
             phone: str = "", comment: str = "", client: ClientFingerprint | None = None, labels=None) -> Evaluation:
        data = EvaluationInput(
            idempotency_key=f"fraud-plant-{record.project_no}", project_no=record.project_no, stage=Stage.COMPLETE,
            channel=channel, level=level, comment=comment, evaluator_phone=phone, labels=labels or [],
        )
        source = f"kiosk:PLANT{record.window_id}" if channel == Channel.KIOSK else SOURCE
        return submit_evaluation(data, source=source, now=when, client=client).evaluation

    def hall_moment(self, days_ago: int, hour: float) -> datetime:
        """A working day about ``days_ago`` before the anchor, at ``hour`` o'clock Shanghai time."""
        day = self.today - timedelta(days=days_ago)
        while not calendar.is_workday(day, "370000"):
            day -= timedelta(days=1)
        return datetime.combine(day, time(), SHANGHAI) + timedelta(hours=hour)

    def rest_day(self, days_ago: int) -> date:
        day = self.today - timedelta(days=days_ago)
        while calendar.is_workday(day, "370000"):
            day -= timedelta(days=1)
        return day

    def one(self, like, when: datetime, level: int = 5, **kwargs) -> Evaluation:
        rec = self.record(like, when - timedelta(minutes=20), when - timedelta(minutes=1))
        return self.rate(rec, when, level, **kwargs)

    # -- the patterns -----------------------------------------------------------------------------------
    def burst(self, like, n: int) -> None:
        start = self.hall_moment(self.rng.randint(3, 20), 10.0)
        for i in range(n):
            self.one(like, start + timedelta(seconds=int(i * 540 / max(1, n - 1))), channel=Channel.KIOSK)

    def phone_many(self, like, n: int) -> None:
        phone = self.fake.phone()
        for i in range(n):
            self.one(like, self.hall_moment(2 + 2 * i, 10.5), phone=phone, channel=Channel.QR)

    def staff_phone(self, like, n: int) -> None:
        phone = self.fake.phone()
        services.register_staff_phone(like.staff, phone, actor=None)
        for i in range(n):
            self.one(like, self.hall_moment(3 + 3 * i, 11.0), phone=phone, channel=Channel.QR)

    def own_client(self, like, n: int) -> None:
        User = get_user_model()
        user = User.objects.filter(staff=like.staff).first() or User.objects.create_user(
            username=f"plant-staff-{like.staff_id}", password=None, role=Role.STAFF, staff=like.staff,
            region_id=like.region_id, agency=like.agency)
        token = f"plant-{self.rng.getrandbits(64):016x}"
        address = f"10.{self.rng.randint(1, 250)}.{self.rng.randint(1, 250)}.{self.rng.randint(1, 250)}"
        client = (ClientFingerprint(address_index(address), device_index(token)) if n > 0
                  else ClientFingerprint(address_index(address), ""))
        services.record_sign_in(user, ClientFingerprint(address_index(address), device_index(token)))
        for i in range(abs(n)):
            # The address variant rates the staff member's own 办件 (``like`` is handled by them).
            self.one(like, self.hall_moment(2 + 2 * i, 14.0), client=client)

    def template(self, like, n: int) -> None:
        names = [self.fake.person() for _ in range(n)]
        for i in range(n):
            self.one(like, self.hall_moment(2 + 2 * i, 15.0), comment=TEMPLATE.format(name=names[i]))

    def outlier(self, like, n: int) -> None:
        for i in range(n):
            self.one(like, self.hall_moment(2 + (i % 150), 9.5 + (i % 7) * 0.9))

    def closed_hours(self, like, n: int) -> None:
        for i in range(n):
            if i % 2:
                day = self.rest_day(3 + 7 * i)
                when = datetime.combine(day, time(10, 30), SHANGHAI)
            else:
                when = self.hall_moment(3 + 3 * i, 21.5 + (i % 3) * 0.4)
            self.one(like, when, channel=Channel.KIOSK)

    def retaliation(self, like, n: int) -> None:
        phone = self.fake.phone()
        bad_at = self.hall_moment(120, 10.0)
        self.one(like, bad_at, level=1, phone=phone, comment="办理过程中工作人员态度冷淡，材料反复退回。")
        for i in range(n):
            accepted = self.hall_moment(100 - 15 * i, 9.5)
            due = calendar.add_working_days(accepted.astimezone(SHANGHAI).date(), 5, like.region_id)
            completed = datetime.combine(due + timedelta(days=4), time(16), SHANGHAI)
            self.record(like, accepted, completed, phone=phone, promised=5)


def plant_all(today: date, *, seed: int = 19) -> list[Plant]:
    """Plant every pattern at every strength of ``STRENGTHS``, each at a hall unit of its own."""
    planter = Planter(today, seed)
    since = planter.anchor - timedelta(days=rules.OUTLIER_LOOKBACK_DAYS)
    candidates = planter.hall_units(since)
    plants = []
    for pattern, strengths in STRENGTHS.items():
        for strength in strengths:
            if pattern == Pattern.OUTLIER:
                unit, item_id = _outlier_unit(planter, since)
                like = planter.template_record(unit, item_id)
                planter.outlier(like, strength)
            else:
                chosen = planter.take(candidates, lambda cs: cs[len(cs) // 4:] + cs[:len(cs) // 4])
                unit = chosen["unit"]
                like = (planter.template_record(unit, chosen["item_id"]) if pattern == Pattern.RETALIATION
                        else planter.template_record(unit))
                getattr(planter, pattern)(like, strength)
            plants.append(Plant(pattern, strength, unit))
    return plants


def _outlier_unit(planter: Planter, since: datetime) -> tuple[tuple, int]:
    """A hall unit doing an item (基本编码) that at least OUTLIER_MIN_PEERS other units do with a sample of
    OUTLIER_MIN_N, each plant on an item of its own (planted units must not be each other's peers)."""
    cells = (Evaluation.objects.countable().filter(created_at__gte=since)
             .values_list("item__basic_code", "department_id", "agency_id").annotate(n=Count("pk")))
    by_code: dict[str, dict[tuple, int]] = defaultdict(dict)
    for code, dept, agency, n in cells:
        by_code[code][(dept, agency)] = n
    for code in sorted(by_code, key=lambda c: -sum(1 for n in by_code[c].values() if n >= rules.OUTLIER_MIN_N)):
        if code in planter.codes:
            continue
        units = by_code[code]
        for unit in sorted(units, key=lambda u: (units[u], str(u))):
            peers = sum(1 for u, n in units.items() if u != unit and n >= rules.OUTLIER_MIN_N)
            if unit in planter.used or unit[1] is None or peers < rules.OUTLIER_MIN_PEERS:
                continue
            item_id = (ServiceRecord.objects.filter(department_id=unit[0], agency_id=unit[1], item__basic_code=code,
                                                    window__isnull=False, staff__isnull=False)
                       .order_by("pk").values_list("item_id", flat=True).first())
            if item_id is None:
                continue
            planter.used.add(unit)
            planter.codes.add(code)
            planter.outlier_peers |= {u for u, n in units.items() if u != unit and n >= rules.OUTLIER_MIN_N}
            return unit, item_id
    raise RuntimeError("the province has no item done by enough units to plant an outlier")


def measure(plants: list[Plant], *, today: date) -> Measurement:
    """Run the detectors as the worker does (at the start of ``today``) and compare with the plants."""
    now = datetime.combine(today, time(), SHANGHAI)
    services.detect(now=now)
    flagged: dict[str, set[tuple]] = defaultdict(set)
    findings = 0
    for pattern, dept, agency in FraudFinding.objects.values_list("pattern", "department_id", "agency_id"):
        flagged[pattern].add((dept, agency))
        findings += 1
    since = now - timedelta(days=rules.OUTLIER_LOOKBACK_DAYS)
    units = set(Evaluation.objects.filter(created_at__gte=since, created_at__lt=now)
                .values_list("department_id", "agency_id").distinct())
    m = Measurement(plants, flagged, units, findings)
    for p in plants:
        hit = p.unit in flagged[p.pattern]
        m.by_strength[(p.pattern, p.strength)] = hit
        h, n = m.recall.get(p.pattern, (0, 0))
        m.recall[p.pattern] = (h + hit, n + 1)
    planted_units = {p.unit for p in plants}
    any_flagged = set().union(*flagged.values()) if flagged else set()
    untouched = units - planted_units
    m.untouched = len(untouched)
    m.untouched_flagged = sorted(untouched & any_flagged, key=str)
    return m


def report(m: Measurement) -> list[str]:
    """The figures as lines of text (bench/fraud.py prints them)."""
    lines = [f"{'pattern':<14} {'recall':>8}  strengths (flagged?)"]
    for pattern, (hit, n) in m.recall.items():
        detail = " ".join(f"{s}:{'Y' if m.by_strength[(pattern, s)] else 'n'}" for s in STRENGTHS[pattern])
        lines.append(f"{pattern:<14} {hit}/{n:<6}  {detail}")
    hit = sum(h for h, _n in m.recall.values())
    total = sum(n for _h, n in m.recall.values())
    lines.append(f"recall: {hit}/{total} planted patterns flagged = {m.total_recall:.1%}")
    lines.append(f"false positives: {len(m.untouched_flagged)}/{m.untouched} untouched units flagged = "
                 f"{m.false_positive_rate:.2%} ({m.findings} findings in all)")
    return lines
