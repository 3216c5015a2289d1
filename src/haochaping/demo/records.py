"""The demo's year of 办件 and their evaluations: how 办件 are handled (the channel mix), how they are rated,
and :class:`RecordFactory`, which makes them day by day."""

from __future__ import annotations

import bisect
import itertools
import random
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from haochaping.core import crypto
from haochaping.evaluation import rules as ev_rules
from haochaping.evaluation.models import Channel, EvaluationType, Label
from haochaping.evaluation.services import EvaluationInput, canonical_bytes
from haochaping.evaluation.services import request_hash as evaluation_request_hash
from haochaping.org import policy
from haochaping.org.rules import make_credit_code
from haochaping.records.models import RecordStatus, RecordType, Stage
from haochaping.records.services import RecordInput
from haochaping.records.services import payload_hash as record_payload_hash

from . import data
from .common import SEED, SOURCE, Fake, Summary, WorkingDays, at, end_of, local_day
from .organisation import ItemInfo, Org, region_names

# How 办件 are handled, from Guangdong's July 2023 evaluation mix (web 5.74 M, hall 5.13 M, app 2.50 M,
# hotline 0.27 M, kiosk/self-service 0.08 M of 13.88 M): hall records are rated at the window (评价器,
# 二维码, paper) or later by phone (12345 callback) or SMS link.
MODES = ("hall", "pc", "mobile", "terminal")
MODE_WEIGHTS_WORKDAY = (40, 41, 18, 1)
MODE_WEIGHTS_RESTDAY = (0, 66, 33, 1)  # halls are closed; online services are not
HALL_CHANNELS = (Channel.KIOSK, Channel.QR, Channel.PAPER, Channel.PHONE, Channel.SMS)
HALL_CHANNEL_WEIGHTS = (55, 33, 4, 5, 3)
ONLINE_CHANNEL = {"pc": Channel.PC, "mobile": Channel.MOBILE, "terminal": Channel.TERMINAL}
ON_SITE = frozenset({Channel.KIOSK, Channel.QR, Channel.PAPER, Channel.TERMINAL})
LATER = frozenset({Channel.PHONE, Channel.SMS})  # always after the day of service (补充评价)
# Share of evaluators who give their phone (实名); the rest are anonymous.
REAL_NAME_SHARE = {Channel.PC: 0.15, Channel.MOBILE: 0.30, Channel.KIOSK: 0.04, Channel.QR: 0.06,
                   Channel.PAPER: 0.10, Channel.TERMINAL: 0.05}

HALL_CLOSES_SECONDS = 17 * 3600 + 45 * 60  # the demo's halls close at 18:00 (supervision.fraud.rules.DEFAULT_CLOSES)
P_EVALUATE_COMPLETE = {"hall": 0.86, "pc": 0.80, "mobile": 0.82, "terminal": 0.75}
P_EVALUATE_ACCEPT = 0.18
P_OVERDUE = 0.04
P_EXPLAINED = 0.8
# Base probability of a 差评 (levels 1–2); late records are rated far worse.
P_BAD = {"hall": 0.012, "online": 0.015, "accept": 0.006, "late": 0.30}
P_FOLLOWUP = {True: 0.35, False: 0.01}  # after a bad / another active evaluation
# A live system always has fresh 差评 in hand. A small demo (the tests load 6,000 records) would otherwise have
# none in the last fortnight on some dates, so its workbench would show no open, answered or reopened case:
# the 差评 share of the last FRESH_DAYS is raised to give about FRESH_BAD of them. At the default size the
# base rates already give more, and nothing changes.
FRESH_DAYS = 14
FRESH_BAD = 8
# 一窗受理: a hall accepts some of other departments' items at its 综合受理 windows (stationed by the 行政审批服务局),
# so a window's department differs from the 办件's and the routing rule has both to choose from (docs/routing.md).
P_ONE_WINDOW = 0.2


# ---- 办件 and evaluations --------------------------------------------------------------------------------

class Weighted:
    """Deterministic weighted choice over a fixed list."""

    def __init__(self, options: list, weights: list[float]):
        self.options = options
        self.cum = list(itertools.accumulate(weights))

    def pick(self, rng: random.Random):
        return self.options[bisect.bisect_right(self.cum, rng.random() * self.cum[-1])]


class RecordFactory:
    def __init__(self, org: Org, rng: random.Random, receipts, today: date, summary: Summary):
        self.org = org
        self.rng = rng
        self.fake = Fake(rng)
        self.receipts = receipts
        self.today = today
        self.anchor = at(today, 0)
        self.fresh_since = self.anchor - timedelta(days=FRESH_DAYS)
        self.fresh_p_bad = 0.0  # set by build() from the number of records in the fresh days
        self.summary = summary
        self.wd = WorkingDays()
        self.seq = itertools.count(1)
        # Its own stream, so the choice of a 综合受理 window leaves every other draw of the demo as it was.
        self.window_rng = random.Random(f"{SEED}:one-window")
        labels = Label.objects.filter(is_active=True).order_by("code").values_list("code", "level")
        self.labels: dict[int, list[str]] = {}
        for code, level in labels:
            if ev_rules.label_level(code) == level:  # the dictionary's rule: first digit is the level
                self.labels.setdefault(level, []).append(code)
        self.supplementary = {r: policy.supplementary_days(r) for r in {i.region for i in org.items}}
        county_w = data.COUNTY_WEIGHTS
        city_w = {c: sum(w for k, w in county_w.items() if k.startswith(c[:4])) for c, _n in data.CITIES}

        def weight(info: ItemInfo) -> float:
            share = {"county": county_w.get(info.region, 0), "city": city_w.get(info.region, 0) / 2, "province": 40}
            return info.spec.popularity * share[info.scope]

        hall_items = [i for i in org.items if i.scope != "province"]
        self.hall_items = Weighted(hall_items, [weight(i) for i in hall_items])
        self.online_items = Weighted(org.items, [weight(i) for i in org.items])
        terminal_items = [i for i in org.items if i.spec.promised_days == 0 and i.scope != "province"]
        self.terminal_items = Weighted(terminal_items, [weight(i) for i in terminal_items])
        self.modes_workday = Weighted(list(MODES), list(MODE_WEIGHTS_WORKDAY))
        self.modes_restday = Weighted(list(MODES), list(MODE_WEIGHTS_RESTDAY))
        self.hall_channels = Weighted(list(HALL_CHANNELS), list(HALL_CHANNEL_WEIGHTS))
        self.names = region_names()

    # -- one 办件 ------------------------------------------------------------------------------------------
    def record(self, day: date, workday: bool, days_ago: int):
        rng = self.rng
        mode = (self.modes_workday if workday else self.modes_restday).pick(rng)
        picker = {"hall": self.hall_items, "terminal": self.terminal_items}.get(mode, self.online_items)
        info: ItemInfo = picker.pick(rng)
        spec = info.spec
        agency = window = staff = platform = None
        if mode == "hall":
            agency = self.org.centers[info.region if info.scope == "county" else info.city]
            if info.scope == "county" and info.dept_key in data.STATION_DEPTS and rng.random() < 0.25:
                agency = rng.choice(self.org.stations[info.region])
            by_dept = self.org.windows[agency.pk]
            own = by_dept.get(info.dept_key)
            if own and info.dept_key != "approval" and by_dept.get("approval") and self.window_rng.random() < P_ONE_WINDOW:
                own = by_dept["approval"]
            window = rng.choice(own or by_dept.get("approval") or [w for ws in by_dept.values() for w in ws])
            staff = rng.choice(self.org.staff[window.pk])
            accepted = at(day, rng.randint(9 * 3600, 11 * 3600 + 2700) if rng.random() < 0.55 else rng.randint(13 * 3600 + 1800, 17 * 3600))
        else:
            if mode == "terminal":
                platform = self.org.platforms[f"DEMO-{info.city}-ZZ"]
            else:
                platform = self.org.platforms[f"DEMO-{data.PROVINCE[0]}-{'PC' if mode == 'pc' else 'APP'}"]
            accepted = at(day, rng.triangular(7 * 3600, 23.5 * 3600, 15 * 3600))

        applicant_type = self._applicant_type(spec.applicant)
        if applicant_type == 1:
            name, id_number = self.fake.person(), self.fake.id_number()
        else:
            name = self.fake.company(self.names.get(info.city or "370100", "济南市"))
            id_number = make_credit_code(f"91{info.region}{self.fake.org_code()}")
        phone = self.fake.phone()

        region = info.region
        record_type = RecordType.IMMEDIATE if spec.promised_days == 0 else RecordType.PROMISED
        late = False
        if record_type == RecordType.IMMEDIATE:
            completed = min(accepted + timedelta(seconds=rng.randint(300, 2400)), end_of(day))
            due = day
        else:
            due = self.wd.add(day, spec.promised_days, region)
            late = rng.random() < P_OVERDUE
            if late:
                k = spec.promised_days + rng.randint(1, max(2, spec.promised_days // 2 + 1))
            else:
                k = round(spec.promised_days * rng.random() ** 1.5)
            if k == 0:
                # A hall finishes the same day's 办件 before it closes (its 评价器 is rated only while it is open:
                # supervision.fraud's closed-hours detector); online services run into the night.
                closing = at(day, HALL_CLOSES_SECONDS) if mode == "hall" else end_of(day)
                completed = min(accepted + timedelta(seconds=rng.randint(1800, 4 * 3600)), closing)
            else:
                completed = at(self.wd.add(day, k, region), rng.randint(9 * 3600, 17 * 3600))
        status = RecordStatus.COMPLETED
        if completed >= self.anchor:
            status, completed = RecordStatus.IN_PROGRESS, None
        submitted = accepted
        if mode != "hall" and days_ago <= 2 and rng.random() < 0.1:
            status, accepted, completed, due, late = RecordStatus.WAITING, None, None, None, False
        overdue = due is not None and (local_day(completed) > due if completed else self.today > due)
        explanation = rng.choice(data.OVERDUE_EXPLANATIONS) if overdue and rng.random() < P_EXPLAINED else ""

        project_no = f"{region}{day:%Y%m%d}{next(self.seq):07d}"
        push = RecordInput(
            project_no=project_no, implementation_code=info.item.implementation_code, region_code=region,
            department_credit_code=info.dept.credit_code, applicant_type=applicant_type, record_type=record_type,
            status=status, promised_days=spec.promised_days, agency_code=agency.code if agency else None,
            window_code=window.code if window else None, staff_no=staff.staff_no if staff else None,
            platform_code=platform.code if platform else None, applicant_name=name, applicant_id_number=id_number,
            applicant_phone=phone, accepted_at=accepted, completed_at=completed,
        )
        rec = SimpleNamespace(
            project_no=project_no, item_id=info.item.pk, region_id=region, department_id=info.dept.pk,
            agency_id=agency.pk if agency else None, window_id=window.pk if window else None,
            staff_id=staff.pk if staff else None, platform_id=platform.pk if platform else None,
            applicant_type=applicant_type, applicant_name=name, applicant_id_number=id_number,
            applicant_id_index=crypto.blind_index(id_number, kind="id_number"),
            applicant_phone=phone, applicant_phone_index=crypto.blind_index(phone, kind="phone"),
            record_type=record_type, promised_days=spec.promised_days, status=status, accepted_at=accepted,
            completed_at=completed, due_date=due, overdue_explanation=explanation,
            push_hash=record_payload_hash(push), source=SOURCE,
            # When the platform pushed it and last changed it (deterministic, unlike an insert timestamp).
            created_at=submitted, updated_at=completed or accepted or submitted,
        )
        self.summary.records += 1
        self.summary.status[status] += 1
        self.summary.overdue += overdue
        person = (name if applicant_type == 1 else "", phone)
        evaluations = self._evaluations(rec, mode, late and completed is not None, person)
        if status == RecordStatus.COMPLETED and evaluations:
            self.summary.evaluated_completed += 1
        return rec, evaluations

    def _applicant_type(self, kind: str) -> int:
        r = self.rng.random()
        if kind == "person" or (kind == "both" and r < 0.6):
            return 1
        r = self.rng.random()
        return 2 if r < 0.8 else 5 if r < 0.92 else 3 if r < 0.97 else 4

    # -- its evaluations ---------------------------------------------------------------------------------
    def _evaluations(self, rec: SimpleNamespace, mode: str, late: bool, person: tuple[str, str]):
        rng = self.rng
        out = []
        if rec.record_type == RecordType.PROMISED and rec.accepted_at and rng.random() < P_EVALUATE_ACCEPT:
            channel = (Channel.KIOSK if rng.random() < 0.7 else Channel.QR) if mode == "hall" else ONLINE_CHANNEL[mode]
            out += self._stage(rec, Stage.ACCEPT, rec.accepted_at, channel, P_BAD["accept"], False, person)
        if rec.completed_at and rng.random() < P_EVALUATE_COMPLETE[mode]:
            channel = self.hall_channels.pick(rng) if mode == "hall" else ONLINE_CHANNEL[mode]
            p_bad = P_BAD["late"] if late else P_BAD["hall" if mode == "hall" else "online"]
            out += self._stage(rec, Stage.COMPLETE, rec.completed_at, channel, p_bad, late, person)
        return out

    def _stage(self, rec, stage, stage_time, channel, p_bad, late, person):
        rng = self.rng
        stage_day = local_day(stage_time)
        last_day = ev_rules.period_end(stage_day, self.supplementary[rec.region_id], lambda d, n: self.wd.add(d, n, rec.region_id))
        if channel in ON_SITE or (channel not in LATER and rng.random() < 0.75):
            when = min(stage_time + timedelta(seconds=rng.randint(30, 900)), end_of(stage_day))
        else:
            span = (last_day - stage_day).days
            when = at(stage_day + timedelta(days=rng.randint(1, max(1, span))), rng.randint(8 * 3600, 21 * 3600))
        if when >= self.anchor or local_day(when) > last_day:
            return []  # would be in the future: this evaluator has not rated (yet)
        real = channel in LATER or rng.random() < REAL_NAME_SHARE[channel]
        evaluator = (person[0] if real and rng.random() < 0.5 else "", person[1] if real else "")
        level = self._level(max(p_bad, self.fresh_p_bad) if when >= self.fresh_since else p_bad)
        labels, comment = self._reason(level, late, channel)
        active = self._evaluation(rec, stage, EvaluationType.ACTIVE, channel, level, labels, comment, when, stage_day,
                                  last_day, evaluator)
        out = [active]
        if rng.random() < P_FOLLOWUP[level <= 2]:
            later = self._followup_time(when, last_day)
            if later is not None:
                if level <= 2:
                    f_level, f_comment = rng.choice((3, 4, 4, 5)), rng.choice(data.FOLLOWUP_AFTER_BAD)
                else:
                    f_level, f_comment = max(level, 4), rng.choice(data.FOLLOWUP_OTHER)
                f_channel = channel if channel not in ON_SITE else Channel.SMS
                # An SMS link goes to the applicant's phone, so that follow-up is real-name.
                f_evaluator = (evaluator[0], person[1]) if f_channel in LATER else evaluator
                out.append(self._evaluation(rec, stage, EvaluationType.FOLLOWUP, f_channel, f_level, [], f_comment, later,
                                            stage_day, last_day, f_evaluator))
        return out

    def _followup_time(self, after: datetime, last_day: date) -> datetime | None:
        rng = self.rng
        first = local_day(after)
        span = (last_day - first).days
        if span > 0:
            when = at(first + timedelta(days=rng.randint(1, span)), rng.randint(8 * 3600, 21 * 3600))
        else:
            when = after + timedelta(seconds=rng.randint(600, 4 * 3600))
            if local_day(when) != first:
                return None
        return when if when < self.anchor else None

    def _level(self, p_bad: float) -> int:
        r = self.rng.random()
        if r < p_bad:
            return 1 if self.rng.random() < 0.4 else 2
        if r < p_bad + 0.03:
            return 3
        if r < p_bad + 0.13:
            return 4
        return 5

    def _reason(self, level: int, late: bool, channel: str) -> tuple[list[str], str]:
        rng = self.rng
        candidates = self.labels.get(level, [])
        if level <= 2:
            fitting = [c for c in candidates if (c in data.OVERDUE_LABELS) == late] or (candidates if late else [])
            labels = []
            if fitting and rng.random() < 0.7:
                labels = [rng.choice(fitting)]
                others = [c for c in fitting if c not in labels]
                if others and rng.random() < 0.1:
                    labels.append(rng.choice(others))
            if labels and data.LABEL_THEMES.get(labels[0]):
                theme = data.LABEL_THEMES[labels[0]]
            elif late:
                theme = "overdue"
            else:
                theme = "online" if channel in (Channel.PC, Channel.MOBILE) else "attitude"
            comment = rng.choice(data.BAD_COMMENTS[theme]) if not labels or rng.random() < 0.75 else ""
            return sorted(labels), comment
        labels = [rng.choice(candidates)] if candidates and rng.random() < (0.15 if level == 5 else 0.05) else []
        if level == 3:
            return labels, rng.choice(data.MID_COMMENTS) if rng.random() < 0.35 else ""
        return labels, rng.choice(data.GOOD_COMMENTS) if rng.random() < (0.08 if level == 5 else 0.05) else ""

    def _questionnaire(self, level: int, channel: str) -> dict:
        rng = self.rng
        if channel not in (Channel.PC, Channel.MOBILE) or rng.random() >= 0.12:
            return {}
        yes = 0.92 if level >= 4 else 0.6 if level == 3 else 0.25
        answers = {k: rng.random() < yes for k in ("guide_clear", "process_convenient", "materials_simplified", "interface_friendly")}
        if level <= 3 and rng.random() < 0.5:
            answers["suggestions"] = rng.choice(("希望进一步精简申请材料。", "希望网上办理页面再简洁一些。", "希望增加办理进度提醒。"))
        return answers

    def _evaluation(self, rec, stage, type_, channel, level, labels, comment, when, stage_day, last_day, evaluator):
        questionnaire = self._questionnaire(level, channel)
        today = local_day(when)
        # The same rules submit_evaluation applies; a violation here is a bug in this generator.
        for problem in (
            ev_rules.reason_problem(level, labels, comment),
            ev_rules.questionnaire_problem(questionnaire),
            ev_rules.phone_problem(evaluator[1]),
            ev_rules.timing_problem(stage_day=stage_day, today=today, last_day=last_day, type_=type_, has_active=True),
        ):
            if problem:
                raise AssertionError(f"demo evaluation breaks a rule: {problem}")
        name, phone = evaluator
        key = f"demo-{SEED}-{rec.project_no}-{stage}-{type_}"
        request = EvaluationInput(idempotency_key=key, project_no=rec.project_no, stage=stage, channel=channel, level=level,
                                  type=type_, labels=labels, comment=comment, questionnaire=questionnaire,
                                  evaluator_name=name, evaluator_phone=phone)
        ev = SimpleNamespace(
            record=rec, record_id=None, stage=stage, type=type_, channel=channel, level=level, is_bad=ev_rules.is_bad(level),
            is_supplementary=ev_rules.is_supplementary(stage_day, today), comment=comment, questionnaire=questionnaire,
            evaluator_name=name, evaluator_phone=phone,
            evaluator_phone_index=crypto.blind_index(phone, kind="phone") if phone else "",
            is_real_name=bool(phone), item_id=rec.item_id, region_id=rec.region_id, department_id=rec.department_id,
            agency_id=rec.agency_id, window_id=rec.window_id, staff_id=rec.staff_id, platform_id=rec.platform_id,
            idempotency_key=key, request_hash=evaluation_request_hash(request), receipt_code=next(self.receipts),
            source=SOURCE, created_at=when.astimezone(UTC),
        )
        ev.leaf_hash = crypto.sm3_hex(canonical_bytes(ev, labels))
        s = self.summary
        s.evaluations += 1
        s.followups += type_ == EvaluationType.FOLLOWUP
        s.bad += ev.is_bad
        s.real_name += ev.is_real_name
        s.supplementary += ev.is_supplementary
        s.channels[channel] += 1
        return ev, labels
