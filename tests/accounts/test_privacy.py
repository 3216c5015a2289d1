"""Revealing personal data (R7.2): permission, scope, reason, the access log, and unusual volumes."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from haochaping.accounts import privacy
from haochaping.accounts.models import PersonalDataAccess
from haochaping.accounts.roles import Role
from haochaping.accounts.tasks import flag_unusual_reveals
from haochaping.core.problems import DomainError

from .privacy_helpers import (
    EVALUATOR_NAME,
    EVALUATOR_PHONE,
    ID_NUMBER,
    NAME,
    PHONE,
    SECRETS,
    evaluation_of,
    record_in,
    supervisor,
    user,
)

pytestmark = pytest.mark.django_db

REASON = "核实差评回访电话无法接通"


@pytest.fixture
def record(org, item):
    return record_in(org, item)


@pytest.fixture
def sup_a(org):
    return supervisor(org.county)


def refusal(call) -> DomainError:
    with pytest.raises(DomainError) as exc:
        call()
    return exc.value


@pytest.mark.parametrize(("field", "clear"), [("applicant_name", NAME), ("applicant_phone", PHONE), ("applicant_id_number", ID_NUMBER)])
def test_supervisor_reveals_a_record_field_and_the_access_is_logged(record, sup_a, field, clear):
    assert privacy.reveal(sup_a, record, field, f"  {REASON} ", "10.1.2.3") == clear
    row = PersonalDataAccess.objects.get()
    assert (row.user, row.subject_type, row.subject_id, row.field) == (sup_a, "records.servicerecord", str(record.pk), field)
    assert (row.reason, row.region_code, row.ip_address) == (REASON, record.region_id, "10.1.2.3")
    assert row.at is not None
    # The log row itself holds no personal value.
    assert not any(s in str(PersonalDataAccess.objects.values().get()) for s in SECRETS)


@pytest.mark.parametrize(("field", "clear"), [("evaluator_name", EVALUATOR_NAME), ("evaluator_phone", EVALUATOR_PHONE)])
def test_evaluation_fields_can_be_revealed(record, sup_a, field, clear):
    ev = evaluation_of(record)
    assert privacy.reveal(sup_a, ev, field, REASON, None) == clear
    assert PersonalDataAccess.objects.get().subject_type == "evaluation.evaluation"


def test_supervisor_of_the_city_reveals_in_every_county_below(org, item, record):
    other = record_in(org, item, region=org.other_county)
    city = supervisor(org.city)
    assert privacy.reveal(city, other, "applicant_phone", REASON) == PHONE
    assert PersonalDataAccess.objects.get().region_code == org.other_county.code


def test_handler_of_the_unit_may_reveal(org, record):
    handler = user("handler-1", Role.HANDLER, org.county, department=org.department)
    assert privacy.reveal(handler, record, "applicant_name", REASON) == NAME


@pytest.mark.parametrize("role", [Role.ASSESSOR, Role.STAFF, Role.EVALUATOR])
def test_without_the_permission_it_is_refused_and_logged(org, record, role, caplog):
    kw = {"staff": org.staff} if role == Role.STAFF else {}
    actor = user(f"u-{role}", role, org.county, **kw)
    with caplog.at_level(logging.WARNING, logger="haochaping.accounts.privacy"):
        exc = refusal(lambda: privacy.reveal(actor, record, "applicant_phone", REASON))
    assert exc.status == 403 and "权限" in exc.detail
    assert PersonalDataAccess.objects.count() == 0
    assert any("refused" in r.getMessage() and str(actor.pk) in r.getMessage() for r in caplog.records)


def test_anonymous_is_refused(record):
    from django.contrib.auth.models import AnonymousUser

    assert refusal(lambda: privacy.reveal(AnonymousUser(), record, "applicant_phone", REASON)).status == 403
    assert refusal(lambda: privacy.reveal(None, record, "applicant_phone", REASON)).status == 403


def test_out_of_scope_reads_exactly_like_a_nonexistent_object(org, item, sup_a):
    theirs = record_in(org, item, region=org.other_county)
    out_of_scope = refusal(lambda: privacy.reveal(sup_a, theirs, "applicant_phone", REASON))
    gone = record_in(org, item)
    gone_pk = gone.pk
    gone.delete()
    gone.pk = gone_pk
    missing = refusal(lambda: privacy.reveal(sup_a, gone, "applicant_phone", REASON))
    assert out_of_scope.status == missing.status == 404
    assert (out_of_scope.title, out_of_scope.detail, out_of_scope.field, out_of_scope.code) == (
        missing.title, missing.detail, missing.field, missing.code)
    assert PersonalDataAccess.objects.count() == 0


def test_handler_of_another_unit_cannot_reveal(org, record):
    from .. import factories

    other_dept = factories.department(org.county, name="历下区人力资源和社会保障局")
    handler = user("handler-2", Role.HANDLER, org.county, department=other_dept)
    # The record was handled at the org's hall, which this handler does not belong to either.
    assert refusal(lambda: privacy.reveal(handler, record, "applicant_phone", REASON)).status == 404


@pytest.mark.parametrize("reason", ["", "   ", "核实", None])
def test_missing_or_short_reason_is_refused_naming_the_field(record, sup_a, reason):
    exc = refusal(lambda: privacy.reveal(sup_a, record, "applicant_phone", reason))
    assert exc.status == 422 and exc.field == "reason" and "理由" in exc.detail
    assert PersonalDataAccess.objects.count() == 0


@pytest.mark.parametrize("field", ["applicant_id_index", "project_no", "totp_secret", "", "evaluator_phone"])
def test_only_personal_fields_of_the_model_can_be_revealed(record, sup_a, field):
    exc = refusal(lambda: privacy.reveal(sup_a, record, field, REASON))
    assert exc.status == 422 and exc.field == "field" and "申请人手机号" in exc.detail
    assert PersonalDataAccess.objects.count() == 0


def test_totp_secrets_are_never_revealable(org):
    admin = user("root", Role.ADMINISTRATOR, None, is_superuser=True)
    admin.totp_secret = "JBSWY3DPEHPK3PXP"
    admin.save()
    assert refusal(lambda: privacy.reveal(admin, admin, "totp_secret", REASON)).status == 422


def test_the_value_never_reaches_the_log(record, sup_a, caplog):
    with caplog.at_level(logging.DEBUG):
        for field in ("applicant_name", "applicant_phone", "applicant_id_number"):
            privacy.reveal(sup_a, record, field, REASON, "10.0.0.1")
        refusal(lambda: privacy.reveal(sup_a, record, "applicant_phone", "短"))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "personal data revealed" in text  # the reveals are logged …
    assert not any(s in text for s in SECRETS)  # … without the values


def test_an_invalid_address_is_not_stored(record, sup_a):
    privacy.reveal(sup_a, record, "applicant_phone", REASON, "not-an-ip")
    assert PersonalDataAccess.objects.get().ip_address is None


def test_no_value_is_handed_out_when_the_log_row_cannot_be_written(record, sup_a, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("database refused")

    monkeypatch.setattr(PersonalDataAccess.objects, "create", fail)
    with pytest.raises(RuntimeError):
        privacy.reveal(sup_a, record, "applicant_phone", REASON)


# Unusual volumes ---------------------------------------------------------------------------------------------------


def reveals(actor, record, n, *, ago):
    rows = [
        PersonalDataAccess(user=actor, subject_type="records.servicerecord", subject_id=str(record.pk),
                           field="applicant_phone", reason=REASON, region_code=record.region_id)
        for _ in range(n)
    ]
    created = PersonalDataAccess.objects.bulk_create(rows)
    # ``at`` is auto_now_add: move the rows into the past afterwards.
    PersonalDataAccess.objects.filter(pk__in=[r.pk for r in created]).update(at=timezone.now() - ago)


def test_counts_split_the_last_day_from_the_thirty_days_before(org, record, sup_a):
    reveals(sup_a, record, 4, ago=timedelta(hours=2))
    reveals(sup_a, record, 6, ago=timedelta(days=3))
    reveals(sup_a, record, 9, ago=timedelta(days=40))  # too old to count
    assert privacy.reveal_counts() == [(sup_a.pk, 4, 6)]


def test_users_above_their_usual_volume_are_flagged_and_warned_about(org, item, record, sup_a, caplog, settings):
    settings.HAOCHAPING_REVEAL_DAILY_LIMIT = 50
    busy = supervisor(org.city, "sup-busy")
    quiet = supervisor(org.province, "sup-quiet")
    reveals(sup_a, record, 11, ago=timedelta(hours=1))  # no history: above the minimum of 10
    reveals(busy, record, 30, ago=timedelta(hours=3))  # 300 in the month before: 3x average = 30, not above
    reveals(busy, record, 300, ago=timedelta(days=10))
    reveals(quiet, record, 3, ago=timedelta(hours=5))
    with caplog.at_level(logging.WARNING, logger="haochaping.accounts.tasks"):
        result = flag_unusual_reveals.call()
    assert [(f["user_id"], f["last_day"], f["reason"]) for f in result] == [(sup_a.pk, 11, "above_usual")]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(sup_a.pk) in warnings[0] and "11" in warnings[0]
    assert not any(s in warnings[0] for s in SECRETS)


def test_the_absolute_daily_limit_comes_from_the_setting(org, record, sup_a, settings):
    reveals(sup_a, record, 9, ago=timedelta(hours=1))
    settings.HAOCHAPING_REVEAL_DAILY_LIMIT = 50
    assert privacy.unusual_volumes() == []
    settings.HAOCHAPING_REVEAL_DAILY_LIMIT = 8
    [flag] = privacy.unusual_volumes()
    assert (flag.user_id, flag.reason) == (sup_a.pk, "daily_limit")


def test_check_reveals_command_prints_the_flags(org, record, sup_a):
    from io import StringIO

    from django.core.management import call_command

    reveals(sup_a, record, 12, ago=timedelta(hours=1))
    out = StringIO()
    call_command("check_reveals", stdout=out)
    assert f"用户 {sup_a.pk}：24小时内查看 12 次" in out.getvalue() and "异常的用户：1 个" in out.getvalue()
