"""Rectification cases for the demo's bad reviews (``haochaping demo``).

The generator bulk-inserts evaluations, so no receiver opens their cases: this module does, for every demo 差评,
with the same routing (rules.route) and the same deadlines (region policy periods on the region's working-day
calendar) as ``services.open_case_for_evaluation``. Each case then lives a plausible life up to the anchor (the
start of today, Beijing time): callback, outcome (立行立改, 解释说明, 限期整改 with a 台账 and progress notes,
误评/恶意差评 proposed and confirmed by the supervisor), answer, the evaluator's 满意/不满意 or the system's close
after the confirmation period, escalations for deadlines missed, and a few appeals (pending, rejected, upheld).
Every step is a CaseTransition row whose states chain; a step that would fall after the anchor has not happened
yet, so recent cases are still open. Deterministic: one seeded random stream, times relative to the anchor.

Bulk inserts (bulk_create, a few statements per table); no audit entries, since nobody acted.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model

from haochaping.evaluation.models import Evaluation, ExclusionReason
from haochaping.org import policy
from haochaping.org.models import Department
from haochaping.rectification import rules
from haochaping.rectification.models import (
    Appeal,
    CaseNotice,
    LedgerEntry,
    RectificationCase,
)
from haochaping.rectification.rules import AppealState, CallbackMethod, DeadlineKind, Kind, Outcome, State

from .case_rows import save
from .common import SEED, SOURCE, WorkingDays, at, end_of, local_day

FACTS = ("评价人反映窗口要求提交办事指南以外的材料，经调取窗口录像核实属实。", "评价人反映等候时间较长，经核查当日取号量较大、开放窗口不足。",
         "评价人反映网上申报页面多次提交失败，经技术人员核实系接口故障所致。", "评价人反映工作人员解释不清，经核实系对政策理解不一致。",
         "评价人反映办理超期，经核查系审批环节流转延误。")
FIXED = ("已取消指南外材料要求，并对窗口人员开展业务培训。", "已增开综合受理窗口，高峰时段实行弹性排班。",
         "已修复申报系统接口，评价人业务已重新提交并办结。", "已约谈相关工作人员并在科室内通报。")
EXPLAINED = (("经核实，所需材料为法定要件，已向评价人当面解释说明。", "《中华人民共和国行政许可法》第三十一条"),
             ("经核实，该事项须经现场核查，办理时限符合规定，已向评价人说明。", "本事项办事指南及《政务服务事项实施清单》"))
LEDGER = (("办事指南材料清单与实际要求不一致", "修订办事指南并组织窗口人员学习，开展材料清单专项自查"),
          ("午间和周末时段窗口开放不足", "调整排班制度，增设午间延时服务窗口"),
          ("网上申报系统稳定性不足", "升级申报系统并增加故障监测和应急预案"))
PROGRESS = ("已完成问题梳理，制定整改方案。", "整改措施已部署，正在组织落实。", "整改基本完成，正在收集佐证材料。")
ANSWERS = ("您好，您反映的问题已核实并整改完毕，感谢您的监督。", "您好，经核实已向您作出解释说明，如仍有疑问可拨打12345热线。",
           "您好，您反映的问题已纳入限期整改并已完成，欢迎再次评价。")
NOT_ADOPTED = ("经调取窗口录像和系统日志核实，评价内容与实际办理情况不符。", "经核实，评价人误将其他单位的服务评价为本单位。")
APPEALS = ("该差评针对的是法定材料要求，非工作人员服务问题，申请不计入统计。", "办件已在承诺时限内办结，差评所述超期情况不属实。")
# An appeal forced to show a missing outcome is on a case this old, so its decision lies well before today.
FORCED_APPEAL_AGE_DAYS = 45
DECISIONS = {True: "经审核，申诉理由成立，该差评不计入统计。", False: "经审核，申诉理由不成立，差评计入统计，请继续整改。"}
REACHED = ("评价人本人", "评价人家属（代为接听）")
# Of the cases routed away from the 办件's department, every TRANSFER_EVERY-th (the first included, so a small demo
# shows one too) is transferred back to it by the unit that received it.
TRANSFER_EVERY = 6
TRANSFER_REASONS = {
    True: "经核查平台运行正常，评价人反映的是审批环节的问题，转办理部门处理",
    False: "经核实窗口仅代为受理，评价人反映的是审批事项本身的问题，转办理部门处理",
}
NOT_REACHED = "电话三次未接通，已发送短信告知回访事项"


@dataclass
class CaseSummary:
    cases: int = 0
    states: Counter = field(default_factory=Counter)
    escalated: int = 0
    appeals: Counter = field(default_factory=Counter)
    excluded: int = 0


@dataclass
class _Plan:
    """One case's life, collected before the bulk inserts (ids are filled in afterwards)."""

    case: RectificationCase
    steps: list = field(default_factory=list)  # (at, action, from, to, actor_id, note)
    ledger: LedgerEntry | None = None
    progress: list = field(default_factory=list)  # (at, actor_id, note)
    notices: list = field(default_factory=list)  # (kind, deadline, due, at, agency_region)
    appeal: Appeal | None = None
    exclusion: tuple | None = None  # (reason, source kind, at, actor_id)
    staff_id: int | None = None  # the rated staff member, who may appeal


class _People:
    """The demo accounts acting in cases: a handler per department and hall, a supervisor per region, staff."""

    def __init__(self):
        self.department, self.agency, self.region, self.staff = {}, {}, {}, {}
        self.department_names = dict(Department.objects.values_list("pk", "name"))
        rows = get_user_model().objects.filter(is_demo=True).order_by("pk").values_list(
            "pk", "role", "region_id", "department_id", "agency_id", "staff_id")
        for pk, role, region_id, department_id, agency_id, staff_id in rows:
            if role == "handler" and department_id:
                self.department.setdefault(department_id, pk)
            elif role == "handler" and agency_id:
                self.agency.setdefault(agency_id, pk)
            elif role == "supervisor" and region_id:
                self.region.setdefault(region_id, pk)
            elif staff_id:
                self.staff[staff_id] = pk


class _Life:
    def __init__(self, rng: random.Random, anchor: datetime, wd: WorkingDays, people: _People):
        self.rng, self.anchor, self.wd, self.people = rng, anchor, wd, people
        # Decided appeals so far, by outcome (upheld?): the demo shows both on any date, not only when the dice
        # happen to fall that way on the day it is loaded.
        self.decided: Counter = Counter()
        self.routed_away = 0

    def missing_decision(self) -> bool | None:
        """The appeal outcome (upheld?) the demo has not shown yet, or None once it has both."""
        for upheld in (True, False):
            if not self.decided[upheld]:
                return upheld
        return None

    def between(self, start: datetime, end: datetime) -> datetime:
        """A whole-second moment in [start, end) (start itself when the span is empty)."""
        span = int((end - start).total_seconds())
        return start + timedelta(seconds=self.rng.randrange(span)) if span > 0 else start

    def live(self, ev: dict, *, appeal_days: int, review_days: int, satisfaction_days: int) -> _Plan:
        rng = self.rng
        units = rules.RecordUnits(
            region_id=ev["record__region_id"], department_id=ev["record__department_id"],
            agency_id=ev["record__agency_id"], window_id=ev["record__window_id"],
            window_department_id=ev["record__window__department_id"], platform_id=ev["record__platform_id"],
            platform_operator_id=ev["record__platform__operator_id"],
        )
        who = rules.route(units, label_texts=ev["labels"], comment=ev["comment"])
        region = who.region_id
        t0 = ev["created_at"]
        opened_on = local_day(t0)
        add = lambda d, n: self.wd.add(d, n, region)  # noqa: E731
        days = rules.DeadlineDays(*(policy.period_days(region, n) for n in ("callback_days", "fix_now_days", "rectify_days")))
        due = rules.deadlines(opened_on, add, days)
        case = RectificationCase(
            kind=Kind.BAD_REVIEW, state=State.OPEN, evaluation_id=ev["pk"], record_id=ev["record_id"],
            region_id=region, department_id=who.department_id, agency_id=who.agency_id, platform_id=who.platform_id,
            is_real_name=ev["is_real_name"], opened_at=t0, callback_due=due.callback_due, fix_now_due=due.fix_now_due,
            rectify_due=due.rectify_due, appeal_due=add(opened_on, appeal_days),
        )
        plan = _Plan(case, staff_id=ev["staff_id"])
        supervisor = self.people.region.get(region)
        # 转办: now and then the unit the rule chose finds on checking that the problem is the 办件 department's
        # (the platform runs normally; the window only accepted the application) and transfers the case, before
        # the callback. Its own dice, so every other case's life stays as it was.
        transfer = None
        if who.department_id != units.department_id:
            self.routed_away += 1
            if self.routed_away % TRANSFER_EVERY == 1:
                transfer = t0 + timedelta(minutes=random.Random(f"{SEED}:transfer-at:{ev['pk']}").randint(30, 240))
                if transfer >= self.anchor:
                    transfer = None
        first_unit = who.department_id
        if transfer is not None:
            moved = rules.responsible_for(units, units.department_id)
            case.department_id, case.agency_id, case.platform_id = moved.department_id, moved.agency_id, moved.platform_id
            who = moved
        handler = self.people.department.get(who.department_id) or self.people.agency.get(who.agency_id)

        # An appeal (about 1 in 20) is decided before the rest of the case's life is played out: an upheld one
        # closes the case, so nothing after its decision happens.
        appeal_plan = None
        # Cases are played oldest first; an old enough one is made to appeal while an outcome is still missing.
        missing = self.missing_decision()
        forced = missing is not None and t0 < self.anchor - timedelta(days=FORCED_APPEAL_AGE_DAYS)
        if forced or rng.random() < 0.05:
            submitted = self.between(t0 + timedelta(hours=2), end_of(case.appeal_due))
            if submitted < self.anchor:
                review_due = add(local_day(submitted), review_days)
                decided = self.between(submitted + timedelta(hours=20), end_of(review_due) + timedelta(days=2))
                upheld = missing if forced else rng.random() < 0.35
                appeal_plan = (submitted, review_due, decided if decided < self.anchor else None, upheld)
        stop = self.anchor
        if appeal_plan and appeal_plan[2] is not None and appeal_plan[3]:
            stop = appeal_plan[2]

        def step(when, action, frm, to, actor=None, note=""):
            plan.steps.append((when, action, frm, to, actor, note))

        def escalate(kind, due_day, done_at, state):
            # The worker's first run after the due day ends (every 15 minutes).
            when = at(due_day + timedelta(days=1), rng.randint(60, 900))
            if when < stop and (done_at is None or done_at > when):
                plan.notices.append((CaseNotice.Kind.ESCALATION, kind, due_day, when, region))
                step(when, "escalate", state, state, None, f"{DeadlineKind(kind).label}期限{due_day.isoformat()}已过，已上报政务服务管理机构")
                case.escalated_at = min(case.escalated_at or when, when)

        step(t0, "open", "", State.OPEN)
        if transfer is not None:
            names = self.people.department_names
            reason = TRANSFER_REASONS[units.online]
            step(transfer, "transfer", State.OPEN, State.OPEN, self.people.department.get(first_unit),
                 f"由{names.get(first_unit, '')}转至{names.get(units.department_id, '')}：{reason}")
        assigned = (transfer or t0) + timedelta(minutes=rng.randint(5, 19))  # before the earliest callback
        if handler and rng.random() < 0.8 and assigned < stop:
            step(assigned, "assign", State.OPEN, State.OPEN, handler)
            case.assignee_id = handler

        # 回访核实: mostly within the day, some late, a few never.
        r = rng.random()
        if r < 0.93:
            called = self.between(t0 + timedelta(minutes=20), max(end_of(due.callback_due), t0 + timedelta(hours=1)))
        elif r < 0.98:
            called = self.between(end_of(due.callback_due) + timedelta(hours=2), end_of(due.callback_due) + timedelta(days=3))
        else:
            called = None
        if called is not None and transfer is not None and called < transfer + timedelta(minutes=30):
            called = transfer + timedelta(minutes=30)  # the unit it was transferred to assigns, then calls back
        if called is not None and called >= stop:
            called = None
        escalate(DeadlineKind.CALLBACK, due.callback_due, called, State.OPEN)
        if called is None:
            escalate(DeadlineKind.HANDLING, due.fix_now_due, None, State.OPEN)
            return self._appeal(plan, appeal_plan, handler, supervisor)
        reached = rng.random() < 0.88
        case.callback_at, case.callback_reached = called, reached
        case.callback_method = rng.choices(CallbackMethod.values, (70, 15, 8, 7))[0]
        case.callback_contact = rng.choice(REACHED) if reached else NOT_REACHED
        case.callback_facts = rng.choice(FACTS)
        step(called, "callback", State.OPEN, State.CALLED_BACK, handler,
             f"{CallbackMethod(case.callback_method).label}；{'已联系上评价人' if reached else '未联系上评价人'}")

        # The outcome.
        outcome = rng.choices(Outcome.values, (44, 17, 35, 3, 1))[0]
        handled, state = None, State.CALLED_BACK
        if outcome in (Outcome.FIXED_NOW, Outcome.EXPLAINED):
            if rng.random() < 0.94:
                handled = self.between(called + timedelta(hours=1), max(end_of(due.fix_now_due), called + timedelta(hours=2)))
            else:
                handled = self.between(end_of(due.fix_now_due) + timedelta(hours=3), end_of(due.fix_now_due) + timedelta(days=4))
            if handled >= stop:
                handled = None
            escalate(DeadlineKind.HANDLING, due.fix_now_due, handled, State.CALLED_BACK)
            if handled is not None:
                state = State.RECTIFIED if outcome == Outcome.FIXED_NOW else State.EXPLAINED
                case.outcome = outcome
                if outcome == Outcome.FIXED_NOW:
                    case.outcome_detail = rng.choice(FIXED)
                else:
                    case.outcome_detail, case.legal_basis = rng.choice(EXPLAINED)
                step(handled, "outcome", State.CALLED_BACK, state, handler, Outcome(outcome).label)
        elif outcome in (Outcome.MISTAKEN, Outcome.MALICIOUS):
            proposed = called + timedelta(hours=rng.randint(2, 30))
            if proposed < stop:
                case.evidence = rng.choice(NOT_ADOPTED)
                case.proposed_outcome, case.proposed_by_id, case.proposed_at = outcome, handler, proposed
                step(proposed, "propose", State.CALLED_BACK, State.CALLED_BACK, handler, Outcome(outcome).label)
                confirmed = proposed + timedelta(hours=rng.randint(3, 60))
                if confirmed < stop:
                    handled, state = confirmed, State.NOT_ADOPTED
                    case.outcome, case.confirmed_by_id = outcome, supervisor
                    case.proposed_outcome, case.proposed_by_id, case.proposed_at = "", None, None
                    step(confirmed, "confirm", State.CALLED_BACK, State.NOT_ADOPTED, supervisor)
                    plan.exclusion = (outcome, "case", confirmed, supervisor)
                    plan.notices.append((CaseNotice.Kind.REPORT, "", None, confirmed, region))
            escalate(DeadlineKind.HANDLING, due.fix_now_due, handled, State.CALLED_BACK)
        else:
            handled, state = self._ledger(plan, called, due, stop, handler, supervisor, escalate)
        if handled is None:
            return self._appeal(plan, appeal_plan, handler, supervisor)
        case.handled_at = handled

        # The answer, then the evaluator's view or the system's close after the confirmation period.
        answered = handled + timedelta(minutes=rng.randint(30, 2 * 24 * 60))
        if answered >= stop:
            return self._appeal(plan, appeal_plan, handler, supervisor)
        case.answer, case.answered_at = rng.choice(ANSWERS), answered
        case.satisfaction_due = add(local_day(answered), satisfaction_days)
        step(answered, "answer", state, State.ANSWERED, handler)
        r = rng.random()
        said = self.between(answered + timedelta(hours=1), end_of(case.satisfaction_due))
        if r < 0.62 and said < stop:
            case.satisfaction, case.satisfaction_at, case.closed_at = "satisfied", said, said
            step(said, "satisfaction", State.ANSWERED, State.CLOSED)
        elif r < 0.72 and said < stop:
            case.satisfaction, case.satisfaction_at, case.reopen_count = "unsatisfied", said, 1
            step(said, "reopen", State.ANSWERED, State.REOPENED)
            reviewed = said + timedelta(hours=rng.randint(4, 72))
            if reviewed < stop:  # only the last few days' reopened cases still wait for the supervisor
                case.closed_at = reviewed
                step(reviewed, "close", State.REOPENED, State.CLOSED, supervisor, "经复核，处理得当，予以办结")
        elif r >= 0.72:
            closed = at(case.satisfaction_due + timedelta(days=1), rng.randint(0, 3600))
            if closed < stop:
                case.closed_at = closed
                step(closed, "close", State.ANSWERED, State.CLOSED, None, "评价人逾期未确认")
        return self._appeal(plan, appeal_plan, handler, supervisor)

    def _ledger(self, plan, called, due, stop, handler, supervisor, escalate):
        """限期整改: the 台账, maybe an extension, progress notes, completion (or not yet)."""
        rng, case = self.rng, plan.case
        decided = called + timedelta(hours=rng.randint(2, 30))
        # Until the 台账 exists, the 5-day handling deadline is the one that runs.
        escalate(DeadlineKind.HANDLING, due.fix_now_due, decided if decided < stop else None, State.CALLED_BACK)
        if decided >= stop:
            return None, State.CALLED_BACK
        problem, measures = rng.choice(LEDGER)
        r = rng.random()
        requested = due.rectify_due if r < 0.65 else (
            min(due.fix_now_due + timedelta(days=rng.randint(1, 7)), due.rectify_due) if r < 0.85
            else due.rectify_due + timedelta(days=rng.randint(10, 20)))
        requested = max(requested, local_day(decided))
        entry = LedgerEntry(problem=problem, measures=measures, responsible_person="科室负责人", deadline=requested)
        plan.ledger = entry
        case.outcome = Outcome.DEADLINE
        step = lambda *a: plan.steps.append(a)  # noqa: E731
        step(decided, "outcome", State.CALLED_BACK, State.RECTIFYING, handler, Outcome.DEADLINE.label)
        if requested > due.rectify_due:
            entry.extension_reason = "整改涉及系统升级，需上级部门统一部署"
            answer = decided + timedelta(hours=rng.randint(4, 48))
            if answer < stop:
                entry.extension_approved = rng.random() < 0.7
                entry.extension_decided_by_id, entry.extension_decided_at = supervisor, answer
                step(answer, "extension", State.RECTIFYING, State.RECTIFYING, supervisor,
                     "同意延期" if entry.extension_approved else "不同意延期，请按原期限完成")
        effective = rules.ledger_due(due.rectify_due, requested, entry.extension_approved)
        r = rng.random()
        if r < 0.9:
            done = self.between(decided + timedelta(days=1), max(end_of(effective), decided + timedelta(days=2)))
        elif r < 0.97:
            done = self.between(end_of(effective) + timedelta(hours=3), end_of(effective) + timedelta(days=5))
        else:
            done = None
        if done is not None and entry.extension_decided_at is not None and done <= entry.extension_decided_at:
            done = entry.extension_decided_at + timedelta(hours=1)  # the 台账 is completed after the extension decision
        if done is not None and done >= stop:
            done = None
        last = done or stop
        for n, note in enumerate(PROGRESS[: rng.randint(1, 3)]):
            when = decided + (last - decided) * (n + 1) / 4
            when = when.replace(microsecond=0)
            if when < stop:
                plan.progress.append((when, handler, note))
                step(when, "progress", State.RECTIFYING, State.RECTIFYING, handler, note)
        escalate(DeadlineKind.RECTIFY, effective, done, State.RECTIFYING)
        if done is None:
            return None, State.RECTIFYING
        entry.completed_at, entry.evidence = done, "整改前后对比照片、修订后的办事指南及培训签到表"
        step(done, "complete_ledger", State.RECTIFYING, State.RECTIFIED, handler, entry.evidence)
        return done, State.RECTIFIED

    def _appeal(self, plan: _Plan, appeal_plan, handler, supervisor) -> _Plan:
        plan.steps.sort(key=lambda s: s[0])
        if appeal_plan is None:
            return plan
        submitted, review_due, decided, upheld = appeal_plan
        case = plan.case

        def state_at(moment):
            current = State.OPEN
            for when, _a, _f, to, _actor, _n in plan.steps:
                if when > moment:
                    break
                current = to
            return current

        staff_user = self.people.staff.get(plan.staff_id) if plan.staff_id else None
        appellant = staff_user or handler
        if appellant is None:
            return plan
        appeal = Appeal(evaluation_id=case.evaluation_id, appellant_id=appellant,
                        party=Appeal.Party.STAFF if staff_user else Appeal.Party.UNIT,
                        explanation=self.rng.choice(APPEALS), state=AppealState.SUBMITTED, submitted_at=submitted,
                        review_due=review_due)
        plan.appeal = appeal
        new = [(submitted, "appeal_submitted", state_at(submitted), state_at(submitted), appellant, "")]
        review = submitted + timedelta(hours=self.rng.randint(2, 20))
        if review < self.anchor and (decided is None or review < decided):
            appeal.state, appeal.reviewer_id = AppealState.UNDER_REVIEW, supervisor
            new.append((review, "appeal_review", state_at(review), state_at(review), supervisor, ""))
        if decided is not None:
            self.decided[upheld] += 1
            appeal.state = AppealState.UPHELD if upheld else AppealState.REJECTED
            appeal.reviewer_id, appeal.decided_at, appeal.decision_note = supervisor, decided, DECISIONS[upheld]
            before = state_at(decided)
            if upheld:
                new.append((decided, "appeal_upheld", before, State.CLOSED, supervisor, appeal.decision_note))
                if before != State.CLOSED:  # closed meanwhile (satisfied): it keeps its closing time, as in appeals.py
                    case.closed_at = decided
                if plan.exclusion is None:
                    plan.exclusion = (ExclusionReason.APPEAL_UPHELD, "appeal", decided, supervisor)
            else:
                new.append((decided, "appeal_rejected", before, before, supervisor, appeal.decision_note))
        else:
            when = at(review_due + timedelta(days=1), self.rng.randint(60, 900))
            if when < self.anchor:
                plan.notices.append((CaseNotice.Kind.ESCALATION, DeadlineKind.APPEAL_REVIEW, review_due, when, "above"))
                new.append((when, "escalate", state_at(when), state_at(when), None,
                            f"申诉审核期限{review_due.isoformat()}已过，已上报上级政务服务管理机构"))
        plan.steps = sorted(plan.steps + new, key=lambda s: s[0])
        return plan


def build(today: date, *, progress=None) -> CaseSummary:
    """Open and play out a case for every demo 差评 that has none (see the module docstring)."""
    say = progress or (lambda _msg: None)
    anchor = at(today, 0)
    evaluations = list(
        Evaluation.objects.filter(is_bad=True, source=SOURCE, case__isnull=True).order_by("created_at", "pk").values(
            "pk", "created_at", "is_real_name", "staff_id", "record_id", "record__region_id", "record__department_id",
            "record__agency_id", "record__window_id", "record__window__department_id", "record__platform_id",
            "record__platform__operator_id", "comment")
    )
    summary = CaseSummary()
    if not evaluations:
        return summary
    # The routing rule reads the labels' texts and the comment, as services.open_case_for_evaluation does.
    texts: dict[int, list[str]] = {}
    through = Evaluation.labels.through.objects.filter(evaluation__source=SOURCE, evaluation__is_bad=True)
    for evaluation_id, text in through.order_by("evaluation_id", "label_id").values_list("evaluation_id", "label__text"):
        texts.setdefault(evaluation_id, []).append(text)
    for ev in evaluations:
        ev["labels"] = texts.get(ev["pk"], [])
    say(f"正在为{len(evaluations)}条演示差评建立整改案件…")
    life = _Life(random.Random(f"{SEED}:cases"), anchor, WorkingDays(), _People())
    periods: dict[str, tuple[int, int, int]] = {}
    plans = []
    for ev in evaluations:
        region = ev["record__region_id"]
        if region not in periods:
            periods[region] = tuple(policy.period_days(region, n) for n in ("appeal_days", "appeal_review_days", "satisfaction_days"))
        appeal_days, review_days, satisfaction_days = periods[region]
        plan = life.live(ev, appeal_days=appeal_days, review_days=review_days, satisfaction_days=satisfaction_days)
        plans.append(plan)
    _show_every_state(plans, evaluations, lambda seed: _Life(random.Random(seed), anchor, life.wd, life.people), periods)
    save(plans, summary)
    return summary


# What the workbench has in hand on any day; a demo must show each of them.
IN_HAND_SHOWN = (State.OPEN, State.CALLED_BACK, State.RECTIFYING, State.ANSWERED, State.REOPENED)
RECENT_CASES = 40
REPLAYS = 60


def _show_every_state(plans: list[_Plan], evaluations: list[dict], new_life, periods) -> None:
    """Where no case has reached an in-hand state today, replay one of the most recent cases' lives with other
    (seeded, so still deterministic) dice until it ends there. A replayed life is a natural one; only cases with
    no appeal and whose own state other cases also show are replayed, so nothing else goes missing."""
    ends = Counter(p.steps[-1][3] for p in plans)
    for wanted in IN_HAND_SHOWN:
        if ends[wanted]:
            continue
        for i in range(len(plans) - 1, max(-1, len(plans) - 1 - RECENT_CASES), -1):
            current = plans[i].steps[-1][3]
            if plans[i].appeal is not None or ends[current] < 2:
                continue
            ev = evaluations[i]
            appeal_days, review_days, satisfaction_days = periods[ev["record__region_id"]]
            replay = next((
                alt for alt in (
                    new_life(f"{SEED}:cases:{ev['pk']}:{n}").live(
                        ev, appeal_days=appeal_days, review_days=review_days, satisfaction_days=satisfaction_days)
                    for n in range(REPLAYS))
                if alt.steps[-1][3] == wanted and alt.appeal is None), None)
            if replay is not None:
                plans[i] = replay
                ends[current] -= 1
                ends[wanted] += 1
                break
