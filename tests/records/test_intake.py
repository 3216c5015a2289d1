"""The set-based push (records.intake, issue 16 item 3): many 办件 answered as if pushed one after the other through
the single service, with the same rows, 参评率 counters, outbox entries and SMS invitations."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import transaction

from haochaping.core.problems import DomainError
from haochaping.exchange.models import OutboxEntry, Upstream
from haochaping.insight import rollups
from haochaping.insight.models import DailyParticipation, RegionDayCounter, UnitDayCounter
from haochaping.org.models import Department
from haochaping.records import intake, services
from haochaping.records.models import ServiceRecord
from tests import factories
from tests.factories import SHANGHAI

pytestmark = pytest.mark.django_db

ACCEPTED = datetime(2026, 3, 3, 9, 0, tzinfo=SHANGHAI)  # a Tuesday
SKIP = {"id", "created_at", "updated_at", "applicant_name", "applicant_id_number", "applicant_phone"}


def data(org, item, n: int, **kw) -> services.RecordInput:
    accepted = ACCEPTED + timedelta(days=n % 5, hours=n % 3)
    defaults = dict(
        project_no=f"BATCH-{n:04d}", implementation_code=item.implementation_code, region_code=org.county.code,
        department_credit_code=org.department.credit_code, agency_code=org.agency.code, window_code=org.window.code,
        staff_no=org.staff.staff_no, applicant_type=1, record_type="promised", promised_days=3, status=3,
        accepted_at=accepted, completed_at=accepted + timedelta(hours=2),
    )
    return services.RecordInput(**{**defaults, **kw})


@pytest.fixture
def upstream(db):
    up = Upstream(name="上级", url="http://127.0.0.1:9", profile=Upstream.Profile.INTERNAL, app_id="lower")
    up.set_api_key("hcp_test_secret")
    up.set_payload_key("")
    up.save()
    return up


@pytest.fixture
def items(org, item):
    other_department = Department.objects.create(credit_code=factories.credit_code("370103"), name="市中区某局",
                                                 region=org.other_county)
    stored = data(org, item, 90)
    services.push_record(stored, source="apikey:earlier")  # there before the batch
    first = data(org, item, 1, applicant_name="欧阳娜娜", applicant_phone="13987654321",
                 applicant_id_number="370102199003077713")
    return [
        first,
        data(org, item, 2, status=2, completed_at=None),  # in progress: counted nowhere yet
        data(org, item, 3, platform_code=org.platform.code, window_code=None, staff_no=None, agency_code=None,
             record_type="immediate", promised_days=0),
        first,  # the same push again inside the batch: replayed
        data(org, item, 1, status=2, completed_at=None),  # other content under a number of this batch: conflict
        stored,  # pushed before the batch: replayed
        data(org, item, 90, promised_days=4),  # other content under a stored number: conflict
        data(org, item, 4, region_code="379999"),  # no such region
        data(org, item, 5, agency_code=None),  # a window without its agency
        data(org, item, 6, staff_no="NOBODY"),
        data(org, item, 7, completed_at=None),  # completed without a completion time
        data(org, item, 8, department_credit_code=other_department.credit_code),  # another branch's department
        data(org, item, 9, agency_code=None, window_code=None, staff_no=None),  # nobody answers for it
        data(org, item, 10, implementation_code="NO-SUCH-ITEM"),
        data(org, item, 11, accepted_at=ACCEPTED + timedelta(days=1), completed_at=ACCEPTED),
        data(org, item, 12, applicant_phone="13911112222"),
        data(org, item, 10),  # a number refused earlier in the batch, now valid: created
    ]


def answer(outcome) -> tuple:
    if isinstance(outcome, DomainError):
        return ("refused", outcome.status, outcome.field, outcome.detail)
    record, created = outcome
    return ("created" if created else "replayed", record.project_no)


def state(captured) -> dict:
    """Everything a push leaves behind, without ids and write times (which differ between the two runs)."""
    numbers = dict(ServiceRecord.objects.values_list("id", "project_no"))
    rows = {}
    for r in ServiceRecord.objects.order_by("project_no"):
        row = {f.attname: getattr(r, f.attname) for f in ServiceRecord._meta.concrete_fields if f.attname not in SKIP}
        for f in ("applicant_name", "applicant_id_number", "applicant_phone"):
            row[f] = getattr(r, f).reveal() if getattr(r, f) else None
        rows[r.project_no] = row
    counters = {}
    for model in (DailyParticipation, RegionDayCounter, UnitDayCounter):
        columns = [f.attname for f in model._meta.concrete_fields if not f.primary_key]  # their own ids differ
        counters[model.__name__] = sorted(model.objects.order_by().values_list(*columns))
    outbox = [(e.upstream_id, e.kind, numbers[e.object_id], e.project_no, e.status)
              for e in OutboxEntry.objects.order_by("id")]
    invited = [numbers[callback.args[0]] for callback in captured
               if getattr(getattr(callback, "func", None), "__name__", "") == "schedule_invitation"]
    return {"rows": rows, "counters": counters, "outbox": outbox, "invited": invited}


def run_both(items, django_capture_on_commit_callbacks, *, region_scope=None):
    """(answers, state) of the items pushed one by one, then of the same items pushed together, from one start."""
    results = []
    # A week after the pushes' days: their 办件 can still be rated, so both ways invite.
    with time_machine.travel(ACCEPTED + timedelta(days=7)):
        for together in (False, True):
            results.append(_push_and_roll_back(items, together, django_capture_on_commit_callbacks, region_scope))
    return results


def _push_and_roll_back(items, together, django_capture_on_commit_callbacks, region_scope):
    with transaction.atomic():
        with django_capture_on_commit_callbacks() as captured:
            if together:
                outcomes = intake.push_records(items, source="import:test", region_scope=region_scope)
            else:
                outcomes = []
                for d in items:
                    try:
                        outcomes.append(services.push_record(d, source="import:test", region_scope=region_scope))
                    except DomainError as exc:
                        outcomes.append(exc)
        result = ([answer(o) for o in outcomes], state(captured))
        assert rollups.rebuild(apply=False).agrees
        transaction.set_rollback(True)  # back to the start for the other way
    return result


def test_a_history_import_invites_nobody_to_rate_what_was_completed_long_ago(org, item, django_capture_on_commit_callbacks):
    items = [data(org, item, n, applicant_phone="13812345678") for n in range(3)]
    # Half a year after: past every region's rating period, so no SMS and not even a task to skip it.
    with time_machine.travel(ACCEPTED + timedelta(days=180)), django_capture_on_commit_callbacks() as captured:
        intake.push_records(items, source="import:test")
        services.push_record(data(org, item, 9, applicant_phone="13812345678"), source="import:test")
    assert ServiceRecord.objects.count() == 4
    assert not [c for c in captured if getattr(getattr(c, "func", None), "__name__", "") == "schedule_invitation"]


def test_a_batch_is_answered_and_written_as_single_pushes_would_be(upstream, items, django_capture_on_commit_callbacks):
    (single_answers, single_state), (batch_answers, batch_state) = run_both(items, django_capture_on_commit_callbacks)
    assert batch_answers == single_answers
    assert batch_state == single_state
    # The cases the items were written for are what the test says they are.
    kinds = [a[0] if a[0] != "refused" else (a[1], a[2]) for a in batch_answers]
    assert kinds == ["created", "created", "created", "replayed", (409, "project_no"), "replayed", (409, "project_no"),
                     (422, "region_code"), (422, "agency_code"), (422, "staff_no"), (422, "completed_at"),
                     (422, "department_credit_code"), (422, "agency_code"), (422, "implementation_code"),
                     (422, "completed_at"), "created", "created"]
    assert batch_state["invited"] == ["BATCH-0001", "BATCH-0012"]  # completed, with a phone to invite
    # Six 办件 queued upward (the one stored before and five new), five counted as completed (not the one in progress).
    assert len(batch_state["outbox"]) == 6
    assert sum(row[-2] for row in batch_state["counters"]["DailyParticipation"]) == 5


def test_a_key_of_one_region_is_refused_another_regions_records_alike(org, item, django_capture_on_commit_callbacks):
    elsewhere = data(org, item, 1, region_code=org.other_county.code)
    stored = data(org, item, 2)
    services.push_record(stored, source="apikey:earlier")
    items = [elsewhere, stored, data(org, item, 3)]
    (single_answers, single_state), (batch_answers, batch_state) = run_both(
        items, django_capture_on_commit_callbacks, region_scope=org.other_county)
    assert batch_answers == single_answers and batch_state == single_state
    assert [a[:3] for a in batch_answers] == [("refused", 403, "department_credit_code"),
                                              ("refused", 409, "project_no"), ("refused", 403, "region_code")]


def test_the_single_service_sees_what_the_batch_wrote(org, item):
    items = [data(org, item, n) for n in range(3)]
    out = intake.push_records(items, source="import:test")
    assert [created for _r, created in out] == [True, True, True]
    record, created = services.push_record(items[1], source="import:test")
    assert not created and record.pk == out[1][0].pk
    assert ServiceRecord.objects.get(pk=record.pk).applicant_name is None


def test_a_number_taken_meanwhile_falls_back_to_the_single_service(org, item, monkeypatch):
    items = [data(org, item, 1), data(org, item, 2)]
    services.push_record(items[0], source="apikey:other")
    # As if the other push had committed between the batch's read of the stored numbers and its write.
    monkeypatch.setattr(intake, "_stored", lambda numbers: {})
    out = intake.push_records(items, source="import:test")
    assert [(r.project_no, created) for r, created in out] == [("BATCH-0001", False), ("BATCH-0002", True)]
    assert ServiceRecord.objects.get(project_no="BATCH-0001").source == "apikey:other"
    assert ServiceRecord.objects.count() == 2
