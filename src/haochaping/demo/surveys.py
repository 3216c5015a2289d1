"""Demo 监督查评 and 回访调查 (supervision.surveys, supervision.sampling): a launched survey of 历下区 about its
busiest item, answered by a few dozen of the people who completed it (personal SMS links, written as sent: the
demo sends no messages), and last month's callback samples of 历下区's units with some calls recorded by the
12345 operator — one evaluator who never rated, one asked for five stars, one not reached.

Idempotent: a database that has a survey keeps it. Seeded, so the same day gives the same demo."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count

from haochaping.records.models import RecordStatus, ServiceRecord
from haochaping.supervision.sampling import rules as sampling_rules
from haochaping.supervision.sampling import services as sampling
from haochaping.supervision.sampling.rules import Answer, CallOutcome
from haochaping.supervision.surveys import services as surveys
from haochaping.supervision.surveys.models import Survey, SurveyInvitation
from haochaping.supervision.surveys.rules import Kind, Theme

COUNTY = "370102"
ANSWERS = 36
CALLS = 8


@dataclass
class SurveySummary:
    surveys: int = 0
    responses: int = 0
    samples: int = 0
    drawn: int = 0
    calls: int = 0
    mismatches: int = 0


def build(today: date) -> SurveySummary:
    out = SurveySummary()
    if Survey.objects.exists():
        return out
    User = get_user_model()
    supervisor = User.objects.filter(username=f"sup-{COUNTY}").first()
    operator = User.objects.filter(username=f"hotline-{COUNTY[:4]}00").first()
    if supervisor is None or operator is None:
        return out
    rng = random.Random(f"demo-surveys:{today.isoformat()}")
    since = today - timedelta(days=30)
    completed = ServiceRecord.objects.filter(region_id=COUNTY, status=RecordStatus.COMPLETED,
                                             completed_at__date__gte=since).exclude(applicant_phone_index="")
    busiest = completed.order_by().values("item_id").annotate(n=Count("pk")).order_by("-n", "item_id").first()
    if busiest is not None:
        _survey(supervisor, completed.filter(item_id=busiest["item_id"]), busiest["item_id"], since, today, rng, out)
    _sampling(operator, today, rng, out)
    return out


def _survey(supervisor, records, item_id, since, today, rng, out: SurveySummary) -> None:
    survey = surveys.create_survey(surveys.SurveyInput(
        title="个体工商户登记便利化新政知悉度与满意度调查", target_region=COUNTY, target_item=item_id,
        completed_from=since, completed_to=today,
        description="今年起个体工商户登记实行“一次告知、一表申请、一网通办”。请您花两分钟告诉我们办理的感受。"),
        actor=supervisor)
    questions = [
        surveys.QuestionInput(Kind.SINGLE, "您是否了解个体工商户登记便利化新政？", Theme.POLICY,
                              options=["了解", "听说过，不清楚内容", "不了解"]),
        surveys.QuestionInput(Kind.MULTIPLE, "您是通过哪些渠道了解到的？", Theme.POLICY, required=False,
                              options=["政府网站", "窗口工作人员告知", "短信通知", "亲友介绍"]),
        surveys.QuestionInput(Kind.SCALE, "办理过程是否方便（跑动次数、材料、等候时间）？", Theme.CONVENIENCE, scale_max=5),
        surveys.QuestionInput(Kind.SCALE, "您对这次办事服务的总体满意程度", Theme.SATISFACTION, scale_max=5),
        surveys.QuestionInput(Kind.TEXT, "您对改进服务还有什么建议？", Theme.OTHER, required=False),
    ]
    for q in questions:
        surveys.add_question(survey.pk, q, actor=supervisor)
    surveys.launch(survey.pk, actor=supervisor)
    survey.refresh_from_db()
    out.surveys = 1
    ids = [q.pk for q in survey.questions.order_by("position")]
    suggestions = ["希望增加周末服务时间", "材料清单可以再简化", "窗口人员很耐心", "线上预约号源不够", ""]
    seen = set()
    for record in records.order_by("-completed_at", "pk").iterator(chunk_size=500):
        if len(seen) >= ANSWERS:
            break
        if record.applicant_phone_index in seen:
            continue
        seen.add(record.applicant_phone_index)
        invitation = SurveyInvitation.objects.create(
            survey=survey, token_hash=surveys.token_hash(secrets.token_urlsafe(24)), record=record,
            phone_index=record.applicant_phone_index, region_id=record.region_id, item_id=record.item_id,
            sent_ok=True, sent_at=survey.launched_at)
        if rng.random() < 0.2:
            continue  # invited, not (yet) answered
        satisfied = rng.choices([5, 4, 3, 2, 1], [45, 30, 13, 8, 4])[0]
        data = {f"q{ids[0]}": [str(rng.choices([0, 1, 2], [50, 30, 20])[0])],
                f"q{ids[1]}": [str(i) for i in sorted(rng.sample(range(4), rng.randint(0, 2)))],
                f"q{ids[2]}": [str(max(1, min(5, satisfied + rng.choice([-1, 0, 0, 1]))))],
                f"q{ids[3]}": [str(satisfied)], f"q{ids[4]}": [rng.choice(suggestions)]}
        surveys.submit_response(survey, data, channel="sms", invitation=invitation)
        out.responses += 1


def _sampling(operator, today, rng, out: SurveySummary) -> None:
    start, end = sampling_rules.previous_month(today)
    drawn = sampling.draw_period(start, end, region=COUNTY)
    out.samples = len(drawn)
    items = [i for d in drawn for i in d.sample.items.order_by("level", "pk")]
    out.drawn = len(items)
    outcomes = [CallOutcome(True, Answer.NO, Answer.NO, 2, "称从未对该事项作出评价"),
                CallOutcome(True, Answer.YES, Answer.YES, 3, "称窗口人员要求当场打五星"),
                CallOutcome(False, notes="无人接听")]
    outcomes += [CallOutcome(True, Answer.YES, Answer.NO, rng.randint(3, 5)) for _ in range(CALLS - len(outcomes))]
    picked = rng.sample(items, min(CALLS, len(items)))
    for item, outcome in zip(picked, outcomes, strict=False):
        done = sampling.record_call(item.pk, outcome, actor=operator)
        out.calls += 1
        out.mismatches += int(done.mismatch)
