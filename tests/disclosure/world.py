"""Data for the portal tests, written through the services (so rollups and cases are what production has), with
a unique marker in every piece of personal data and free text: none of them may ever appear on a public page."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from haochaping.accounts.models import Role, User
from haochaping.evaluation import services as evaluation_services
from haochaping.evaluation.models import Evaluation
from haochaping.org.models import RegionPolicy, Staff
from haochaping.rectification import services
from haochaping.rectification.models import RectificationCase
from haochaping.rectification.services import CallbackInput, OutcomeInput, appeals, focus
from tests import factories

# Each marker is unique text that only ever sits in one private field.
M = {
    "evaluator_name": "评价人姓名MKA01",
    "comment_good": "好评内容MKA02",
    "comment_bad": "差评内容MKA03",
    "applicant_name": "申请人MKA04",
    "idempotency": "idemMKA05",
    "callback_contact": "回访对象MKA06",
    "callback_facts": "核实情况MKA07",
    "outcome_detail": "整改内容MKA08",
    "answer": "答复内容MKA09",
    "ledger_problem": "台账问题MKA10",
    "ledger_measures": "整改措施MKA11",
    "ledger_person": "责任人MKA12",
    "ledger_progress": "整改进展MKA13",
    "appeal_explanation": "申诉理由MKA14",
    "appeal_note": "审核意见MKA15",
    "complaint": "投诉内容MKA16",
    "focus": "集中问题概述MKA17",
    "supervision": "督办意见MKA18",
    "handler_username": "handlerMKA19",
    "supervisor_username": "supMKA20",
    "explained": "解释说明MKA21",
    "legal_basis": "依据MKA22",
}
PHONES = ["13900011101", "13900011102", "13900011103"]
APPLICANT_PHONE = "13900011199"
STAFF_NAME = "窗口员工MKS01"
STAFF_NO = "SMKS02"


@dataclass
class World:
    org: object
    item: object
    handler: User
    supervisor: User
    evaluations: list = field(default_factory=list)
    cases: dict = field(default_factory=dict)

    def private_strings(self) -> list[str]:
        """Everything that must never be published: the markers, phones (and their masked forms' digits), the
        receipt codes, idempotency keys and evidence hashes of every evaluation."""
        out = list(M.values()) + PHONES + [APPLICANT_PHONE]
        for ev in Evaluation.objects.all():
            out += [ev.receipt_code, ev.idempotency_key, ev.leaf_hash]
        return out


def _rate(record, level, *, n, labels=(), comment="", real_name=True):
    data = evaluation_services.EvaluationInput(
        idempotency_key=f"{M['idempotency']}-{uuid.uuid4().hex}", project_no=record.project_no, stage="complete",
        channel="kiosk", level=level, labels=list(labels), comment=comment,
        evaluator_name=M["evaluator_name"] if real_name else "", evaluator_phone=PHONES[n % len(PHONES)] if real_name else "",
    )
    return evaluation_services.submit_evaluation(data, source="test")


def _record(org, item):
    done = timezone.now() - timedelta(hours=3)
    return factories.make_record(org, item, accepted_at=done - timedelta(hours=1), applicant_name=M["applicant_name"],
                                 applicant_phone=APPLICANT_PHONE)


def _callback(case_id, handler):
    services.record_callback(case_id, CallbackInput(at=timezone.now(), method="phone", reached=True,
                                                    contact=M["callback_contact"], facts=M["callback_facts"]),
                             actor=handler)


def build(*, good: int = 4, publish_staff: bool | None = None) -> World:
    org = factories.make_org()
    Staff.objects.filter(pk=org.staff.pk).update(name=STAFF_NAME, staff_no=STAFF_NO)
    org.staff.refresh_from_db()
    item = factories.make_item(org, name="食品经营许可证核发")
    handler = User.objects.create(username=M["handler_username"], role=Role.HANDLER, is_staff=True, region=org.county,
                                  department=org.department, first_name="经办MKA23")
    supervisor = User.objects.create(username=M["supervisor_username"], role=Role.SUPERVISOR, is_staff=True,
                                     region=org.county, first_name="监督MKA24")
    staff_user = User.objects.create(username="staffMKA25", role=Role.STAFF, region=org.county, staff=org.staff)
    if publish_staff is not None:
        RegionPolicy.objects.update_or_create(region=org.county, defaults={"publish_staff_results": publish_staff})
    world = World(org, item, handler, supervisor)

    for n in range(good):
        world.evaluations.append(_rate(_record(org, item), 5 if n % 2 else 4, n=n, comment=M["comment_good"]).evaluation)
    bad = []
    for n in range(4):
        result = _rate(_record(org, item), 1 if n % 2 else 2, n=n, labels=["110"] if n % 2 else ["209"],
                       comment=M["comment_bad"])
        world.evaluations.append(result.evaluation)
        bad.append(result.case_id)
    fixed, ledger, appealed, explained = bad

    _callback(fixed, handler)
    services.choose_outcome(fixed, OutcomeInput("fixed_now", detail=M["outcome_detail"]), actor=handler)
    services.answer(fixed, text=M["answer"], actor=handler)
    services.add_supervision_note(fixed, actor=supervisor, note=M["supervision"])

    _callback(ledger, handler)
    case = RectificationCase.objects.get(pk=ledger)
    services.choose_outcome(ledger, OutcomeInput(
        "deadline", problem=M["ledger_problem"], measures=M["ledger_measures"], responsible_person=M["ledger_person"],
        deadline=case.rectify_due), actor=handler)
    services.add_ledger_progress(ledger, note=M["ledger_progress"], actor=handler)

    appeal = appeals.submit_appeal(appealed, actor=staff_user, explanation=M["appeal_explanation"])
    appeals.start_review(appeal.pk, actor=supervisor)
    appeals.decide_appeal(appeal.pk, actor=supervisor, upheld=True, note=M["appeal_note"])

    _callback(explained, handler)
    services.choose_outcome(explained, OutcomeInput("explained", detail=M["explained"], legal_basis=M["legal_basis"]),
                            actor=handler)

    complaint = services.open_complaint(summary=M["complaint"], actor=supervisor, record=_record(org, item))
    issue = focus.open_focus_issue(summary=M["focus"], department=org.department, actor=supervisor,
                                   source="painpoint:1")
    world.cases = {"fixed": fixed, "ledger": ledger, "appealed": appealed, "explained": explained,
                   "complaint": complaint.pk, "focus": issue.pk}
    return world
