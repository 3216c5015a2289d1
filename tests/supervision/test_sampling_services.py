"""Callback sampling through its services, on the real database: the stratified draw of a unit's month, a redraw
that adds nothing, the worker's monthly run, recording calls (mismatches flagged and counted per unit), and the
phone revealed to the operator with the access logged."""

from __future__ import annotations

from collections import Counter

import pytest
from django.test import override_settings
from django.utils import timezone

from haochaping.accounts.models import PersonalDataAccess, Role, User
from haochaping.core.models import AuditEntry
from haochaping.core.problems import DomainError
from haochaping.supervision.sampling import rules, services, tasks
from haochaping.supervision.sampling.models import CallbackCall, CallbackItem, CallbackSample, CallStatus
from haochaping.supervision.sampling.rules import Answer, CallOutcome
from tests import factories
from tests.supervision.sampling_world import last_month, month_of, rate

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(org):
    return User.objects.create(username="hotline-1", role=Role.HOTLINE, region=org.city)


@pytest.fixture
def month(org, item):
    return month_of(org, item, {1: 2, 2: 3, 3: 4, 4: 10, 5: 41})


def test_a_units_month_is_drawn_by_level_at_the_configured_ratio(org, month):
    start, end = last_month()
    drawn = services.draw_sample(org.department.pk, start, end)
    assert drawn.created
    sample = drawn.sample
    assert sample.population == 60 and sample.ratio == rules.DEFAULT_RATIO
    levels = Counter(sample.items.values_list("level", flat=True))
    # ceil(5% of each level), at least one of each: 差评 and 好评 are both checked.
    assert levels == {1: 1, 2: 1, 3: 1, 4: 1, 5: 3}
    # The same draw as the pure rule with the unit's seed (an independent computation).
    expected = rules.draw([rules.Candidate(e.pk, e.level) for e in month], 0.05,
                          rules.seed_for(org.department.pk, start, end))
    assert sorted(sample.items.values_list("evaluation_id", flat=True)) == sorted(c.evaluation_id for c in expected)
    assert AuditEntry.objects.filter(action="callback.draw", object_id=str(sample.pk)).count() == 1


def test_a_redraw_gives_the_same_sample_and_adds_nothing(org, month):
    start, end = last_month()
    first = services.draw_sample(org.department.pk, start, end).sample
    ids = list(first.items.values_list("evaluation_id", flat=True))
    again = services.draw_sample(org.department.pk, start, end)
    assert not again.created and again.sample.pk == first.pk
    assert list(again.sample.items.values_list("evaluation_id", flat=True)) == ids
    assert CallbackSample.objects.count() == 1 and CallbackItem.objects.count() == len(ids)
    # Even if the sample is deleted and drawn afresh, the seed gives the same evaluations.
    CallbackSample.objects.all().delete()
    assert sorted(services.draw_sample(org.department.pk, start, end).sample.items
                  .values_list("evaluation_id", flat=True)) == sorted(ids)


@override_settings(HAOCHAPING_CALLBACK_RATIO=0.5)
def test_the_ratio_comes_from_the_settings(org, month):
    start, end = last_month()
    sample = services.draw_sample(org.department.pk, start, end).sample
    assert Counter(sample.items.values_list("level", flat=True)) == {1: 1, 2: 2, 3: 2, 4: 5, 5: 21}


def test_evaluations_without_a_phone_cannot_be_called_and_are_not_drawn(org, item):
    with_phone = rate(org, item, 5)
    rate(org, item, 5, phone="")
    start, end = last_month()
    sample = services.draw_sample(org.department.pk, start, end).sample
    assert sample.population == 1
    assert list(sample.items.values_list("evaluation_id", flat=True)) == [with_phone.pk]


def test_a_period_not_yet_over_is_refused_and_nothing_is_written(org, month):
    today = timezone.localdate()
    with pytest.raises(DomainError) as exc:
        services.draw_sample(org.department.pk, today.replace(day=1), today)
    assert exc.value.status == 422 and exc.value.field == "end"
    assert not CallbackSample.objects.exists()


def test_a_supervisor_draws_only_for_units_in_their_region(org, month):
    start, end = last_month()
    far = User.objects.create(username="sup-far", role=Role.SUPERVISOR, region=org.other_county)
    with pytest.raises(DomainError) as exc:
        services.draw_sample(org.department.pk, start, end, actor=far)
    assert exc.value.status == 404 and exc.value.field == "department"
    near = User.objects.create(username="sup-near", role=Role.SUPERVISOR, region=org.county)
    assert services.draw_sample(org.department.pk, start, end, actor=near).sample.drawn_by == near


def test_the_worker_draws_every_units_last_month_once(org, item, month):
    other_unit = factories.department(org.county, name="历下区人力资源和社会保障局")
    other_item = factories.make_item(org, department=other_unit, name="失业登记")
    rate(org, other_item, 1, department=other_unit)
    assert tasks.draw_callback_samples.call() == 2
    assert set(CallbackSample.objects.values_list("department_id", flat=True)) == {org.department.pk, other_unit.pk}
    items = CallbackItem.objects.count()
    assert tasks.draw_callback_samples.call() == 0  # the next day: nothing new
    assert CallbackItem.objects.count() == items


def _item(org, item, level=5, **kw):
    rate(org, item, level, **kw)
    start, end = last_month()
    return services.draw_sample(org.department.pk, start, end).sample.items.get()


def test_an_operator_records_a_call_and_a_denied_rating_is_flagged(org, item, operator):
    entry = _item(org, item)
    done = services.record_call(entry.pk, CallOutcome(True, Answer.NO, Answer.NO, 2, "说没有评价过"), actor=operator)
    assert done.status == CallStatus.DONE and done.mismatch and done.mismatch_reasons == ["never_rated"]
    assert done.satisfaction_now == 2 and done.attempts == 1
    call = CallbackCall.objects.get()
    assert (call.operator, call.reached, call.notes) == (operator, True, "说没有评价过")
    start, end = last_month()
    assert services.mismatch_counts([org.department.pk, 999], start, end) == {org.department.pk: 1, 999: 0}


def test_pressured_five_stars_are_flagged_and_not_sure_is_not(org, item, operator):
    a, b = rate(org, item, 5, phone="13900000001"), rate(org, item, 5, phone="13900000002")
    start, end = last_month()
    sample = services.draw_sample(org.department.pk, start, end, ratio_=1.0).sample
    first, second = sample.items.order_by("evaluation_id")
    assert [first.evaluation_id, second.evaluation_id] == [a.pk, b.pk]
    services.record_call(first.pk, CallOutcome(True, Answer.YES, Answer.YES, 3), actor=operator)
    services.record_call(second.pk, CallOutcome(True, Answer.UNSURE, Answer.UNSURE, 4), actor=operator)
    assert list(CallbackItem.objects.order_by("evaluation_id").values_list("mismatch_reasons", flat=True)) == [
        ["pressured"], []]
    assert services.mismatch_counts([org.department.pk], start, end) == {org.department.pk: 1}
    # Outside the period asked for: not counted.
    assert services.mismatch_counts([org.department.pk], end, end) == {org.department.pk: 0}


def test_an_unreached_call_leaves_the_item_open_for_another_attempt(org, item, operator):
    entry = _item(org, item)
    services.record_call(entry.pk, CallOutcome(False, notes="无人接听"), actor=operator)
    entry.refresh_from_db()
    assert entry.status == CallStatus.UNREACHED and not entry.mismatch
    services.record_call(entry.pk, CallOutcome(True, Answer.YES, Answer.NO, 5), actor=operator)
    entry.refresh_from_db()
    assert entry.status == CallStatus.DONE and entry.attempts == 2 and CallbackCall.objects.count() == 2
    with pytest.raises(DomainError) as exc:
        services.record_call(entry.pk, CallOutcome(True, Answer.NO, Answer.NO, 1), actor=operator)
    assert exc.value.status == 409
    assert CallbackCall.objects.count() == 2


def test_an_invalid_call_names_the_fields_and_writes_nothing(org, item, operator):
    entry = _item(org, item)
    with pytest.raises(DomainError) as exc:
        services.record_call(entry.pk, CallOutcome(True, Answer.YES, "", 9), actor=operator)
    assert exc.value.status == 422 and set(exc.value.extra["errors"]) == {"pressured", "satisfaction_now"}
    assert not CallbackCall.objects.exists()
    entry.refresh_from_db()
    assert entry.status == CallStatus.PENDING and entry.attempts == 0


def test_only_operators_and_supervisors_of_the_region_record_calls(org, item):
    entry = _item(org, item)
    staff = User.objects.create(username="staff-1", role=Role.STAFF, region=org.county, staff=org.staff)
    with pytest.raises(DomainError) as exc:
        services.record_call(entry.pk, CallOutcome(False), actor=staff)
    assert exc.value.status == 403
    far = User.objects.create(username="hotline-far", role=Role.HOTLINE, region=org.other_county)
    with pytest.raises(DomainError) as exc:
        services.record_call(entry.pk, CallOutcome(False), actor=far)
    assert exc.value.status == 404
    assert not CallbackCall.objects.exists()


def test_the_phone_is_masked_and_revealed_with_the_access_logged(org, item, operator):
    entry = _item(org, item, phone="13955556666")
    assert services.masked_phone(entry) == "139****6666"
    assert services.reveal_phone(entry.pk, "回访调查：拨打评价人电话核实评价", actor=operator, ip="10.0.0.9") == "13955556666"
    log = PersonalDataAccess.objects.get()
    assert (log.user, log.subject_type, log.field, log.region_code, log.ip_address) == (
        operator, "records.servicerecord", "applicant_phone", org.county.code, "10.0.0.9")


def test_the_evaluators_own_phone_is_preferred(org, item, operator):
    entry = _item(org, item, phone="13955556666", evaluator_phone="13800001111")
    assert services.masked_phone(entry) == "138****1111"
    assert services.reveal_phone(entry.pk, "回访调查核实评价", actor=operator) == "13800001111"
    assert PersonalDataAccess.objects.get().field == "evaluator_phone"


def test_a_reveal_without_a_reason_is_refused_and_not_logged(org, item, operator):
    entry = _item(org, item)
    with pytest.raises(DomainError) as exc:
        services.reveal_phone(entry.pk, "看", actor=operator)
    assert exc.value.status == 422 and exc.value.field == "reason"
    assert not PersonalDataAccess.objects.exists()
