"""Filing findings, a supervisor's decision, and what the detectors compare with, against the real database."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from haochaping.core.models import AuditEntry
from haochaping.core.problems import DomainError
from haochaping.evaluation.fingerprint import ClientFingerprint, address_index, device_index
from haochaping.evaluation.models import EvaluationExclusion
from haochaping.insight import metrics
from haochaping.insight.reports import lists
from haochaping.supervision.fraud import services
from haochaping.supervision.fraud.models import FindingStatus, FraudFinding, HallHours, StaffFingerprint
from haochaping.supervision.fraud.rules import Pattern
from tests import factories

from .conftest import submit

pytestmark = pytest.mark.django_db


def detect():
    return services.detect(now=timezone.now() + timedelta(minutes=1))


def test_a_burst_becomes_one_open_finding_and_nothing_is_excluded(burst):
    result = detect()
    finding = FraudFinding.objects.get()
    assert result.created == [finding.pk] and finding.pattern == Pattern.BURST
    assert finding.status == FindingStatus.OPEN and finding.window_id == burst[0].window_id
    assert set(finding.evaluations.values_list("pk", flat=True)) == {e.pk for e in burst}
    assert finding.statistic == 5 and finding.threshold == 5
    assert not EvaluationExclusion.objects.exists()


def test_running_again_adds_new_evaluations_to_the_open_finding_instead_of_a_second_one(burst, org, item):
    detect()
    assert detect().created == []
    extra = submit(factories.make_record(org, item), now=timezone.now())
    result = detect()
    finding = FraudFinding.objects.get()
    assert result.updated == [finding.pk] and extra.pk in set(finding.evaluations.values_list("pk", flat=True))


def test_confirming_excludes_every_evaluation_as_falsification_and_records_who(burst, people):
    detect()
    finding = FraudFinding.objects.get()
    with pytest.raises(DomainError) as refused:
        services.confirm_finding(finding.pk, actor=people["supervisor"], note="  ")
    assert refused.value.field == "note" and not EvaluationExclusion.objects.exists()
    services.confirm_finding(finding.pk, actor=people["supervisor"], note="调取监控，系工作人员代评")
    finding.refresh_from_db()
    assert finding.status == FindingStatus.CONFIRMED and finding.decided_by == people["supervisor"]
    exclusions = EvaluationExclusion.objects.filter(evaluation__in=burst)
    assert exclusions.count() == 5 and {x.reason for x in exclusions} == {"fraud"}
    assert {x.source for x in exclusions} == {f"fraud:{finding.pk}"}
    assert AuditEntry.objects.filter(action="fraud.confirm", object_id=str(finding.pk)).exists()
    with pytest.raises(DomainError) as again:
        services.confirm_finding(finding.pk, actor=people["supervisor"], note="再次确认")
    assert again.value.status == 409


def test_a_confirmed_finding_puts_the_unit_on_the_accountability_list(burst, people, org):
    detect()
    finding = FraudFinding.objects.get()
    everywhere = metrics.StatsFilter()
    assert metrics.fraud_counts(people["supervisor"], everywhere, "department") == {}
    services.confirm_finding(finding.pk, actor=people["supervisor"], note="核实属实")
    counts = metrics.fraud_counts(people["supervisor"], everywhere, "department")
    assert counts == {org.department.credit_code: (org.department.name, 1)}
    assert metrics.fraud_counts(people["far_supervisor"], everywhere, "department") == {}
    sup = people["supervisor"]
    rankings = {"department": metrics.rankings(sup, everywhere, by="department")}
    figures = {"department": metrics.figures(sup, everywhere, group_by="department")}
    [row] = lists.accountability(rankings, figures, None, {"department": counts})
    assert (row[0], row[1], row[2]) == ("部门", org.department.credit_code, org.department.name)
    assert "经核查确认弄虚作假1起" in row[-1]
    assert lists.accountability(rankings, figures, None, None) == []  # five 好评 alone list nobody


def test_dismissing_excludes_nothing_and_the_same_evaluations_are_not_filed_again(burst, people):
    detect()
    finding = FraudFinding.objects.get()
    services.dismiss_finding(finding.pk, actor=people["supervisor"], note="当日为集中办理活动，已核实")
    assert FraudFinding.objects.get().status == FindingStatus.DISMISSED
    assert not EvaluationExclusion.objects.exists()
    assert detect().created == [] and FraudFinding.objects.count() == 1


def test_a_supervisor_decides_only_in_their_own_region(burst, people):
    detect()
    finding = FraudFinding.objects.get()
    with pytest.raises(DomainError) as refused:
        services.confirm_finding(finding.pk, actor=people["far_supervisor"], note="越权")
    assert refused.value.status == 404 and FraudFinding.objects.get().status == FindingStatus.OPEN


def test_retaliation_confirmed_excludes_nothing(org, item, people):
    """The 差评 a retaliation finding rests on was genuine: confirming puts the unit on the list, no exclusion."""
    ev = submit(factories.make_record(org, item), level=1, comment="材料反复退回", evaluator_phone="13900001111")
    finding = FraudFinding.objects.create(
        pattern=Pattern.RETALIATION, subject=f"retaliation:{ev.pk}", region=org.county, department=org.department,
        statistic=1e-5, threshold=1e-3, summary="…", evidence={}, first_at=ev.created_at, last_at=ev.created_at,
        detected_at=timezone.now())
    finding.evaluations.add(ev)
    services.confirm_finding(finding.pk, actor=people["supervisor"], note="核实存在打击报复")
    assert not EvaluationExclusion.objects.exists()


def test_evaluations_from_a_staff_members_own_device_are_found(org, item):
    from haochaping.accounts.models import Role, User

    staff_user = User.objects.create(username="staff-1", role=Role.STAFF, staff=org.staff, region=org.county)
    own = ClientFingerprint(address_index("10.0.0.8"), device_index("device-of-the-staff-member"))
    services.record_sign_in(staff_user, own)
    services.record_sign_in(staff_user, own)  # signing in again is the same row, seen later
    assert StaffFingerprint.objects.count() == 1
    submit(factories.make_record(org, item), channel="qr", client=own)
    submit(factories.make_record(org, item), channel="qr",
           client=ClientFingerprint(address_index("10.9.9.9"), device_index("someone-else")))
    detect()
    finding = FraudFinding.objects.get(pattern=Pattern.OWN_CLIENT)
    assert finding.evaluations.count() == 1 and finding.evidence["device"] == 1


def test_evaluations_from_a_staff_members_registered_phone_are_found(org, item):
    services.register_staff_phone(org.staff, "139 0000 2222", actor=None)
    with pytest.raises(DomainError):
        services.register_staff_phone(org.staff, "12345", actor=None)
    submit(factories.make_record(org, item), channel="qr", evaluator_phone="13900002222")
    detect()
    finding = FraudFinding.objects.get(pattern=Pattern.STAFF_PHONE)
    assert finding.department_id == org.department.pk and "13900002222" not in str(finding.evidence)


def test_kiosk_ratings_when_the_hall_is_closed_follow_its_own_hours(org, item):
    from datetime import datetime, time

    # Two kiosk ratings at 21:30 and 21:45 three days ago: after the default closing time (18:00 + grace) on any day.
    day = timezone.localdate() - timedelta(days=3)
    for minutes in (0, 15):
        when = timezone.make_aware(datetime.combine(day, time(21, 30))) + timedelta(minutes=minutes)
        submit(factories.make_record(org, item, accepted_at=when - timedelta(hours=2)), now=when)
    services.set_hall_hours(org.agency, opens=time(8), closes=time(23), open_on_rest_days=True)
    detect()
    assert not FraudFinding.objects.filter(pattern=Pattern.CLOSED_HOURS).exists()  # a hall open late
    HallHours.objects.all().delete()  # back to the defaults: 08:30–18:00 on working days
    detect()
    finding = FraudFinding.objects.get(pattern=Pattern.CLOSED_HOURS)
    assert finding.window_id == org.window.pk and finding.evaluations.count() == 2
    with pytest.raises(DomainError):
        services.set_hall_hours(org.agency, opens=time(18), closes=time(9))


def test_the_command_runs_the_detectors_and_says_so_in_chinese(burst):
    out = io.StringIO()
    call_command("detect_fraud", stdout=out)
    assert "新增1条" in out.getvalue() and FraudFinding.objects.count() == 1


def test_the_worker_runs_the_detectors_daily():
    from haochaping.core import schedule

    schedule.autodiscover()
    entry = next(p for p in schedule.registered() if p.name.endswith("detect_fraud"))
    assert entry.every == timedelta(days=1)
