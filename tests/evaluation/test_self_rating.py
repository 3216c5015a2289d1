"""No one rates themselves (R7.1): signed-in staff, handlers, supervisors and administrators cannot submit
evaluations, neither through the service nor through the API with a valid platform key."""

from __future__ import annotations

import logging
import uuid

import httpx
import pytest
from django.conf import settings
from django.test import Client

from haochaping.accounts.models import User
from haochaping.accounts.roles import Role
from haochaping.core.problems import DomainError
from haochaping.evaluation import services
from haochaping.evaluation.models import Evaluation
from tests import factories

MESSAGE = "工作人员不能提交评价（不得代评、自评）"


def make_user(org, role: str, **kw) -> User:
    fields = {
        Role.STAFF: {"region": org.county, "staff": org.staff},
        Role.HANDLER: {"region": org.county, "department": org.department},
        Role.SUPERVISOR: {"region": org.county},
        Role.ADMINISTRATOR: {},
        Role.EVALUATOR: {},
    }[role]
    return User.objects.create_user(f"u-{role}-{factories.seq()}", role=role, **fields, **kw)


def evaluation_input(project_no: str) -> services.EvaluationInput:
    return services.EvaluationInput(idempotency_key=uuid.uuid4().hex, project_no=project_no, stage="complete",
                                    channel="pc", level=5)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.STAFF, Role.HANDLER, Role.SUPERVISOR, Role.ADMINISTRATOR])
def test_insiders_are_refused_and_logged(org, item, role, caplog):
    user = make_user(org, role)
    record = factories.make_record(org, item)
    with caplog.at_level(logging.WARNING, logger="haochaping.evaluation.services"), pytest.raises(DomainError) as exc:
        services.submit_evaluation(evaluation_input(record.project_no), source="test", actor=user)
    assert (exc.value.status, exc.value.detail, exc.value.code) == (403, MESSAGE, "forbidden")
    assert not Evaluation.objects.exists()
    assert f"user_id={user.pk} role={role}" in caplog.text


@pytest.mark.django_db
def test_a_superuser_is_an_insider_too(org, item):
    user = User.objects.create_superuser("root", "root@example.org", None)
    record = factories.make_record(org, item)
    with pytest.raises(DomainError):
        services.submit_evaluation(evaluation_input(record.project_no), source="test", actor=user)
    assert not Evaluation.objects.exists()


@pytest.mark.django_db
def test_a_signed_in_evaluator_and_an_anonymous_submit_are_accepted(org, item):
    evaluator = make_user(org, Role.EVALUATOR)
    first, second = factories.make_record(org, item), factories.make_record(org, item)
    services.submit_evaluation(evaluation_input(first.project_no), source="test", actor=evaluator)
    services.submit_evaluation(evaluation_input(second.project_no), source="test", actor=None)
    assert Evaluation.objects.count() == 2


@pytest.mark.django_db
def test_the_refusal_comes_before_a_replay(org, item):
    # An insider must not read an existing evaluation's receipt by replaying its idempotency key either.
    record = factories.make_record(org, item)
    data = evaluation_input(record.project_no)
    services.submit_evaluation(data, source="test")
    with pytest.raises(DomainError) as exc:
        services.submit_evaluation(data, source="test", actor=make_user(org, Role.STAFF))
    assert exc.value.status == 403


def session_cookie(user) -> dict[str, str]:
    browser = Client()
    browser.force_login(user)
    return {settings.SESSION_COOKIE_NAME: browser.cookies[settings.SESSION_COOKIE_NAME].value}


def body(project_no: str) -> dict:
    return {"idempotency_key": uuid.uuid4().hex, "project_no": project_no, "stage": "complete", "channel": "pc", "level": 5}


@pytest.mark.django_db(transaction=True)
def test_signed_in_staff_with_a_valid_key_is_refused_over_http(live_server, api_key, org, item):
    _key, secret = api_key
    record = factories.make_record(org, item)
    headers = {"Authorization": f"Bearer {secret}"}
    for role in (Role.STAFF, Role.SUPERVISOR):
        cookies = session_cookie(make_user(org, role))
        with httpx.Client(base_url=live_server.url, headers=headers, cookies=cookies, timeout=30) as signed_in:
            r = signed_in.post("/api/v1/evaluations", json=body(record.project_no))
        assert r.status_code == 403, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail"] == MESSAGE
    assert not Evaluation.objects.exists()

    # The same key and the same request without the session: an ordinary platform submission.
    with httpx.Client(base_url=live_server.url, headers=headers, timeout=30) as anonymous:
        r = anonymous.post("/api/v1/evaluations", json=body(record.project_no))
    assert r.status_code == 201, r.text
    assert Evaluation.objects.count() == 1
