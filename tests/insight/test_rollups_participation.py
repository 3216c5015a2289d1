"""参评率 counters (DailyParticipation) kept in step with 办件 completions, completion corrections and first
evaluations, and a rebuild that agrees with them exactly (docs/metrics.md "汇总计数")."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haochaping.core.problems import DomainError
from haochaping.evaluation import services as evaluation_services
from haochaping.evaluation.models import Channel
from haochaping.insight import metrics, rollups
from haochaping.insight.metrics import StatsFilter
from haochaping.insight.models import DailyParticipation
from haochaping.insight.rollups import participation as participation
from haochaping.records import services as record_services
from haochaping.records.models import ServiceRecord
from tests import factories

from .helpers import completed_record, exclude, import_default, rate

pytestmark = pytest.mark.django_db


def raw_participation() -> Counter:
    """Independently of rollups.participation.expected: one 办件 at a time, in Python."""
    out: dict = {}
    for record in ServiceRecord.objects.filter(status=3).prefetch_related("evaluations").order_by():
        units = (timezone.localtime(record.completed_at).date(), record.region_id, record.department_id,
                 record.agency_id or 0, record.window_id or 0, record.staff_id or 0, record.item_id,
                 record.platform_id or 0)
        channels = {ev.channel for ev in record.evaluations.all() if ev.channel != Channel.SYSTEM_DEFAULT}
        cell = out.setdefault((*units, ""), [0, 0])
        cell[0] += 1
        cell[1] += 1 if channels else 0
        for channel in channels:
            out.setdefault((*units, channel), [0, 0])[1] += 1
    return Counter({k: tuple(v) for k, v in out.items()})


def rows() -> dict:
    return {(r.channel, r.day): (r.completed, r.rated) for r in DailyParticipation.objects.exclude(completed=0, rated=0)}


def evaluate(record, *, stage="complete", channel="pc", type_="active", level=5):
    data = evaluation_services.EvaluationInput(
        idempotency_key=uuid.uuid4().hex, project_no=record.project_no, stage=stage, channel=channel, level=level,
        type=type_, labels={1: ["110"], 2: ["209"]}.get(level, []),
    )
    return evaluation_services.submit_evaluation(data, source="test").evaluation


def test_a_completed_record_counts_once_and_its_first_evaluation_rates_it(org, item):
    record = completed_record(org, item)
    day = timezone.localtime(record.completed_at).date()
    assert rows() == {("", day): (1, 0)}
    rate(record, 5, channel="kiosk")
    rate(record, 4, channel="kiosk", type_="followup")  # a second evaluation: still one rated 办件
    assert rows() == {("", day): (1, 1), ("kiosk", day): (0, 1)}
    stats = metrics.figures(_root(), StatsFilter())
    assert (stats.total.completed, stats.total.rated) == (1, 1)
    by_channel = metrics.figures(_root(), StatsFilter(channel="pc")).total
    assert (by_channel.completed, by_channel.rated) == (1, 0)


def _root():
    from haochaping.accounts.models import User

    return User.objects.get_or_create(username="root", defaults={"is_superuser": True, "is_staff": True})[0]


def test_system_defaults_do_not_rate_and_excluded_evaluations_still_do(org, item):
    imported = completed_record(org, item)
    import_default(imported)
    appealed = completed_record(org, item)
    exclude(rate(appealed, 1))
    assert participation.stored() == raw_participation()
    total = metrics.figures(_root(), StatsFilter()).total
    assert (total.completed, total.rated) == (2, 1)


def test_an_evaluation_before_completion_counts_when_the_record_completes(org, item):
    record = factories.make_record(org, item, completed=False)
    evaluate(record, stage="accept", channel="qr")
    assert rows() == {}
    done = factories.earlier_today(5 / 60)  # not before the 办件's acceptance, which the factory keeps to today
    record_services.update_record(record.project_no, {"status": 3, "completed_at": done}, actor="test")
    day = timezone.localtime(done).date()
    assert rows() == {("", day): (1, 1), ("qr", day): (0, 1)}
    assert participation.stored() == participation.expected() == raw_participation()


def test_a_corrected_completion_time_moves_the_counts_to_the_new_day(org, item):
    now = timezone.now()
    record = factories.make_record(org, item, accepted_at=now - timedelta(days=3))
    rate(record, 5, channel="mobile")
    new_time = now - timedelta(days=2)
    record_services.update_record(record.project_no, {"completed_at": new_time}, actor="test")
    day = timezone.localtime(new_time).date()
    assert rows() == {("", day): (1, 1), ("mobile", day): (0, 1)}
    assert rollups.rebuild(apply=False).agrees


def test_a_failed_update_leaves_the_counts_alone(org, item):
    record = factories.make_record(org, item, accepted_at=timezone.now() - timedelta(days=3))
    before = participation.stored()
    with pytest.raises(RuntimeError), transaction.atomic():
        record_services.update_record(record.project_no, {"completed_at": timezone.now() - timedelta(days=1)},
                                      actor="test")
        assert participation.stored() != before
        raise RuntimeError("rolled back")
    assert participation.stored() == before


def test_rebuild_repairs_participation_drift_and_check_reports_it(org, item, capsys):
    rate(completed_record(org, item), 5)
    completed_record(org, item)
    DailyParticipation.objects.filter(channel="").update(completed=9)
    report = rollups.rebuild(apply=False)
    assert (report.participation_differing, report.differing, report.agrees) == (1, 0, False)
    with pytest.raises(CommandError):
        call_command("rebuild_rollups", "--check")
    assert "参评计数" in capsys.readouterr().out
    call_command("rebuild_rollups")
    assert participation.stored() == raw_participation()
    assert rollups.rebuild(apply=False).agrees


# --- hypothesis: random completions, corrections, evaluations before and after completion ------------------------

steps = st.lists(
    st.one_of(
        st.tuples(st.just("record"), st.integers(0, 2), st.booleans(), st.integers(0, 3)),  # unit, completed, day
        st.tuples(st.just("complete"), st.integers(0, 9), st.integers(0, 3)),
        st.tuples(st.just("correct"), st.integers(0, 9), st.integers(0, 3)),
        st.tuples(st.just("rate"), st.integers(0, 9), st.sampled_from(["accept", "complete"]),
                  st.sampled_from(["active", "followup"]), st.sampled_from(["pc", "kiosk", "qr"])),
        st.tuples(st.just("default"), st.integers(0, 9)),
        st.tuples(st.just("exclude"), st.integers(0, 9)),
    ),
    min_size=1, max_size=12,
)


@pytest.fixture
def units(org, item):
    other_dept = factories.department(org.other_county, "市中区人社局")
    item2 = factories.make_item(org, department=other_dept, region=org.other_county)
    return [
        dict(item=item),
        dict(item=item2, region=org.other_county, department=other_dept, agency=None, window=None, staff=None,
             platform=org.platform),
        dict(item=item, window=None, staff=None),
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(plan=steps)
def test_participation_counters_equal_a_rebuild_after_random_writes(org, units, plan):
    with transaction.atomic():
        now = timezone.now()
        accepted = now - timedelta(days=4)
        records, evaluations = [], []

        def pick(i):
            return ServiceRecord.objects.get(pk=records[i % len(records)]) if records else None

        for step in plan:
            kind = step[0]
            try:
                if kind == "record":
                    _, unit, completed, days = step
                    done = dict(completed_at=now - timedelta(days=days, minutes=30)) if completed else {}
                    rec = factories.make_record(org, accepted_at=accepted, completed=completed, **units[unit], **done)
                    records.append(rec.pk)
                elif (rec := pick(step[1])) is None:
                    continue
                elif kind == "complete" and rec.status != 3:
                    record_services.update_record(
                        rec.project_no, {"status": 3, "completed_at": now - timedelta(days=step[2], minutes=20)},
                        actor="test")
                elif kind == "correct" and rec.status == 3:
                    record_services.update_record(
                        rec.project_no, {"completed_at": now - timedelta(days=step[2], minutes=10)}, actor="test")
                elif kind == "rate":
                    _, _, stage, type_, channel = step
                    evaluations.append(evaluate(rec, stage=stage, type_=type_, channel=channel, level=(5, 2)[len(evaluations) % 2]))
                elif kind == "default" and rec.status == 3 and not rec.evaluations.filter(stage="complete").exists():
                    evaluations.append(import_default(rec))
                elif kind == "exclude" and evaluations:
                    exclude(evaluations[step[1] % len(evaluations)], "malicious")
            except DomainError:
                pass  # refused by the services (not completed yet, duplicate, already excluded): nothing written
        assert participation.stored() == participation.expected() == raw_participation()
        assert rollups.rebuild(apply=False).agrees
        total = metrics.figures(_root(), StatsFilter()).total
        raw = raw_participation()
        assert (total.completed, total.rated) == (
            sum(v[0] for k, v in raw.items() if k[-1] == ""), sum(v[1] for k, v in raw.items() if k[-1] == ""))
        transaction.set_rollback(True)


def test_rebuild_repairs_the_wide_counters(org, item, capsys):
    from haochaping.insight.models import RegionDayCounter, UnitDayCounter

    rate(completed_record(org, item), 2)
    row = RegionDayCounter.objects.get()
    assert (row.level2, row.completed, row.rated) == (1, 1, 1)
    RegionDayCounter.objects.update(level2=5)
    UnitDayCounter.objects.all().delete()
    assert rollups.rebuild(apply=False).wide_differing == 2
    with pytest.raises(CommandError):
        call_command("rebuild_rollups", "--check")
    call_command("rebuild_rollups")
    assert RegionDayCounter.objects.get().level2 == 1
    assert UnitDayCounter.objects.get().level2 == 1
    assert rollups.rebuild(apply=False).agrees
