"""The reveal form on admin change pages and the personal-data access log admin (R7.2), over Django's test client."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from haochaping.accounts.models import PersonalDataAccess
from haochaping.accounts.roles import Role

from .privacy_helpers import EVALUATOR_PHONE, NAME, PHONE, SECRETS, evaluation_of, record_in, supervisor, user

pytestmark = pytest.mark.django_db

REASON = "核实差评回访电话无法接通"


@pytest.fixture
def record(org, item):
    return record_in(org, item)


@pytest.fixture
def sup_a(org):
    return supervisor(org.county)


def client_for(u, **kw) -> Client:
    c = Client(**kw)
    c.force_login(u)
    return c


def change_url(obj):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def reveal_url(obj_or_model, pk=None):
    opts = obj_or_model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_reveal", args=[pk if pk is not None else obj_or_model.pk])


def body(response) -> str:
    return response.content.decode()


# The change page ---------------------------------------------------------------------------------------------------


def test_change_page_shows_masked_values_and_the_reveal_form(record, sup_a):
    page = client_for(sup_a).get(change_url(record))
    assert page.status_code == 200
    html = body(page)
    assert "欧**花" in html and "139****5678" in html
    assert not any(s in html for s in SECRETS)
    assert "查看完整个人信息" in html and f'action="{reveal_url(record)}"' in html
    assert 'name="csrfmiddlewaretoken"' in html and 'name="reason"' in html
    assert 'value="applicant_phone"' in html


def test_users_without_the_permission_do_not_see_the_form(org, record):
    # A county administrator may view 办件 but holds no reveal permission.
    admin = user("admin-county", Role.ADMINISTRATOR, org.county)
    page = client_for(admin).get(change_url(record))
    assert page.status_code == 200
    assert "查看完整个人信息" not in body(page) and "/reveal/" not in body(page)
    assert not any(s in body(page) for s in SECRETS)


def test_reveal_shows_the_value_once_in_the_response_body(record, sup_a, caplog):
    c = client_for(sup_a)
    with caplog.at_level(logging.DEBUG):
        page = c.post(reveal_url(record), {"field": "applicant_phone", "reason": REASON}, REMOTE_ADDR="10.9.8.7")
    assert page.status_code == 200
    assert PHONE in body(page) and "申请人手机号" in body(page)
    assert "no-store" in page["Cache-Control"]
    # Only in the body: not in a URL, a cookie (messages) or the log.
    assert not page.cookies.get("messages")
    assert PHONE not in page.get("Location", "")
    assert not any(PHONE in r.getMessage() for r in caplog.records)
    row = PersonalDataAccess.objects.get()
    assert (row.user, row.field, row.reason, row.ip_address) == (sup_a, "applicant_phone", REASON, "10.9.8.7")
    # Shown once: the change page afterwards is masked again.
    assert PHONE not in body(c.get(change_url(record)))


def test_evaluation_change_page_reveals_the_evaluator(record, sup_a):
    ev = evaluation_of(record)
    c = client_for(sup_a)
    page = c.get(change_url(ev))
    assert page.status_code == 200 and "查看完整个人信息" in body(page)
    assert not any(s in body(page) for s in SECRETS)
    page = c.post(reveal_url(ev), {"field": "evaluator_phone", "reason": REASON})
    assert page.status_code == 200 and EVALUATOR_PHONE in body(page)
    assert PersonalDataAccess.objects.get().subject_type == "evaluation.evaluation"


@pytest.mark.parametrize("reason", ["", "核实"])
def test_missing_or_short_reason_is_refused_in_chinese(record, sup_a, reason):
    page = client_for(sup_a).post(reveal_url(record), {"field": "applicant_phone", "reason": reason})
    assert page.status_code == 400 and "理由" in body(page)
    assert not any(s in body(page) for s in SECRETS)
    assert PersonalDataAccess.objects.count() == 0


def test_unknown_field_is_refused(record, sup_a):
    page = client_for(sup_a).post(reveal_url(record), {"field": "project_no", "reason": REASON})
    assert page.status_code == 400 and "请选择要查看的字段" in body(page)
    assert PersonalDataAccess.objects.count() == 0


def test_forged_post_without_the_permission_is_refused_and_logged(org, record, caplog):
    admin = user("admin-county", Role.ADMINISTRATOR, org.county)
    with caplog.at_level(logging.WARNING, logger="haochaping.accounts.privacy"):
        page = client_for(admin).post(reveal_url(record), {"field": "applicant_phone", "reason": REASON})
    assert page.status_code == 403 and "您没有查看完整个人信息的权限" in body(page)
    assert PHONE not in body(page)
    assert PersonalDataAccess.objects.count() == 0
    assert any("refused" in r.getMessage() and str(admin.pk) in r.getMessage() for r in caplog.records)


def without_csrf_token(html: str) -> str:
    import re

    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', 'name="csrfmiddlewaretoken" value=""', html)


def test_out_of_scope_answers_exactly_like_a_nonexistent_object(org, item, sup_a):
    theirs = record_in(org, item, region=org.other_county)
    c = client_for(sup_a)
    out_of_scope = c.post(reveal_url(theirs), {"field": "applicant_phone", "reason": REASON})
    missing = c.post(reveal_url(theirs._meta.model, theirs.pk + 1000), {"field": "applicant_phone", "reason": REASON})
    assert out_of_scope.status_code == missing.status_code == 404
    # The per-response masked CSRF token (BREACH protection) is the only thing allowed to differ.
    assert without_csrf_token(body(out_of_scope)) == without_csrf_token(body(missing))
    assert PHONE not in body(out_of_scope)
    assert PersonalDataAccess.objects.count() == 0


def test_get_is_not_a_reveal(record, sup_a):
    assert client_for(sup_a).get(reveal_url(record)).status_code == 405
    assert PersonalDataAccess.objects.count() == 0


def test_post_without_csrf_token_is_refused(record, sup_a):
    page = client_for(sup_a, enforce_csrf_checks=True).post(reveal_url(record), {"field": "applicant_phone", "reason": REASON})
    assert page.status_code == 403 and PHONE not in body(page)
    assert PersonalDataAccess.objects.count() == 0


def test_post_with_the_csrf_token_of_the_change_page_reveals(record, sup_a):
    c = client_for(sup_a, enforce_csrf_checks=True)
    c.get(change_url(record))
    token = c.cookies["csrftoken"].value
    page = c.post(reveal_url(record), {"field": "applicant_name", "reason": REASON, "csrfmiddlewaretoken": token})
    assert page.status_code == 200 and NAME in body(page)


# The access log admin ----------------------------------------------------------------------------------------------

LOG_URL = "/admin/accounts/personaldataaccess/"


def access(actor, record, n=1, ago=timedelta(minutes=1)):
    created = PersonalDataAccess.objects.bulk_create([
        PersonalDataAccess(user=actor, subject_type="records.servicerecord", subject_id=str(record.pk),
                           field="applicant_phone", reason=REASON, region_code=record.region_id)
        for _ in range(n)
    ])
    PersonalDataAccess.objects.filter(pk__in=[r.pk for r in created]).update(at=timezone.now() - ago)


@pytest.fixture
def two_counties(org, item, sup_a):
    sup_b = supervisor(org.other_county)
    mine, theirs = record_in(org, item), record_in(org, item, region=org.other_county)
    access(sup_a, mine, 2)
    access(sup_b, theirs, 3)
    return sup_a, sup_b, mine, theirs


def shown_ids(page):
    return sorted(a.pk for a in page.context["cl"].result_list)


def test_supervisor_sees_only_their_subtree_in_the_access_log(org, two_counties):
    sup_a, sup_b, mine, theirs = two_counties
    page = client_for(sup_a).get(LOG_URL)
    assert page.status_code == 200
    assert shown_ids(page) == sorted(PersonalDataAccess.objects.filter(region_code=mine.region_id).values_list("pk", flat=True))
    assert sup_b.username not in body(page)  # not even in the user filter
    page = client_for(sup_b).get(LOG_URL)
    assert shown_ids(page) == sorted(PersonalDataAccess.objects.filter(region_code=theirs.region_id).values_list("pk", flat=True))
    # A row of county B is "not found" for county A, by its URL too.
    row_b = PersonalDataAccess.objects.filter(user=sup_b).first()
    hidden = client_for(sup_a).get(f"{LOG_URL}{row_b.pk}/change/")
    missing = client_for(sup_a).get(f"{LOG_URL}{row_b.pk + 1000}/change/")
    assert (hidden.status_code, hidden.get("Location")) == (missing.status_code, missing.get("Location")) == (302, "/admin/")
    assert client_for(sup_b).get(f"{LOG_URL}{row_b.pk}/change/").status_code == 200


def test_city_supervisor_and_superuser_see_everything_below(org, two_counties):
    city = supervisor(org.city)
    assert len(shown_ids(client_for(city).get(LOG_URL))) == 5
    root = user("root", Role.ADMINISTRATOR, None, is_superuser=True)
    assert len(shown_ids(client_for(root).get(LOG_URL))) == 5


def test_users_without_the_log_permission_cannot_open_it(org, two_counties):
    admin = user("admin-county", Role.ADMINISTRATOR, org.county)
    assert client_for(admin).get(LOG_URL).status_code == 403


def test_the_access_log_is_read_only(two_counties):
    sup_a, _sup_b, _mine, _theirs = two_counties
    c = client_for(sup_a)
    assert c.get(f"{LOG_URL}add/").status_code == 403
    row = PersonalDataAccess.objects.filter(user=sup_a).first()
    page = c.post(f"{LOG_URL}{row.pk}/change/", {"reason": "改掉"})
    assert page.status_code == 403
    assert c.post(f"{LOG_URL}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert PersonalDataAccess.objects.get(pk=row.pk).reason == REASON


def test_filters_by_user_field_and_date(org, two_counties):
    sup_a, _sup_b, mine, _theirs = two_counties
    city = supervisor(org.city)
    c = client_for(city)
    assert len(shown_ids(c.get(LOG_URL, {"user__id__exact": sup_a.pk}))) == 2
    assert len(shown_ids(c.get(LOG_URL, {"field": "applicant_phone"}))) == 5
    assert len(shown_ids(c.get(LOG_URL, {"field": "applicant_name"}))) == 0
    old = PersonalDataAccess.objects.filter(user=sup_a).first()
    PersonalDataAccess.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=10))
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert len(shown_ids(c.get(LOG_URL, {"at__gte": since}))) == 4


def test_supervisor_sees_the_unusual_volume_flag(org, item, sup_a, settings):
    settings.HAOCHAPING_REVEAL_DAILY_LIMIT = 50
    mine = record_in(org, item)
    handler = user("handler-busy", Role.HANDLER, org.county, department=org.department)
    calm = user("handler-calm", Role.HANDLER, org.county, department=org.department)
    access(handler, mine, 12)  # above the minimum of 10 with no history
    access(calm, mine, 4)
    page = client_for(sup_a).get(LOG_URL)
    html = body(page)
    assert "（账号 handler-busy），24小时内查看12次" in html  # named by role and unit, not by login name alone
    assert "（账号 handler-calm），24小时内" not in html
    flags = {a.user.username: page.context["cl"].model_admin.unusual(a) for a in page.context["cl"].result_list}
    assert flags == {"handler-busy": True, "handler-calm": False}
    only = client_for(sup_a).get(LOG_URL, {"unusual": "yes"})
    assert {a.user.username for a in only.context["cl"].result_list} == {"handler-busy"}
