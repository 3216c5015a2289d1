"""Two people acting on one case at the same moment, over real HTTP against a live server on PostgreSQL: the case
row lock lets exactly one step through; the other gets 409 in Chinese, and the case keeps one transition for the
step and a state that matches it (issue 5, item 8)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from haochaping.accounts.models import Role, User
from haochaping.rectification.models import CaseTransition, RectificationCase

from .api_helpers import callback_body, open_case, person, problem

pytestmark = [pytest.mark.pg_only, pytest.mark.django_db(transaction=True)]


def at_once(live_server, calls):
    """Run each (user, path, json) at the same moment, each from its own signed-in client; the responses in order."""
    clients = [person(live_server, user) for user, _path, _body in calls]
    barrier = threading.Barrier(len(calls))

    def go(i):
        _user, path, body = calls[i]
        barrier.wait()
        return clients[i].post(path, json=body)

    try:
        with ThreadPoolExecutor(len(calls)) as pool:
            return list(pool.map(go, range(len(calls))))
    finally:
        for client in clients:
            client.close()


@pytest.fixture
def two_handlers(org, people):
    second = User.objects.create(username="handler-1b", role=Role.HANDLER, is_staff=True, region=org.county,
                                 department=org.department)
    return people["handler"], second


def one_won(responses) -> int:
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409], [r.text for r in responses]
    loser = next(r for r in responses if r.status_code == 409)
    assert "不能变更" in problem(loser, 409)["detail"]
    return next(i for i, r in enumerate(responses) if r.status_code == 200)


@pytest.mark.parametrize("attempt", range(3))
def test_two_callbacks_at_once_record_one(live_server, record, two_handlers, attempt):
    case = open_case(record)
    path = f"/api/v1/cases/{case.pk}/callback"
    responses = at_once(live_server, [(h, path, callback_body(contact=f"第{n}人联系")) for n, h in enumerate(two_handlers)])
    winner = one_won(responses)
    fresh = RectificationCase.objects.get(pk=case.pk)
    assert fresh.state == "called_back" and fresh.callback_contact == f"第{winner}人联系"
    assert CaseTransition.objects.filter(case=case, action="callback").count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_two_different_outcomes_at_once_leave_one(live_server, record, two_handlers, attempt):
    case = open_case(record)
    with person(live_server, two_handlers[0]) as http:
        assert http.post(f"/api/v1/cases/{case.pk}/callback", json=callback_body()).status_code == 200
    path = f"/api/v1/cases/{case.pk}/outcome"
    bodies = [{"outcome": "fixed_now", "detail": "已当场补办"},
              {"outcome": "explained", "detail": "该材料为法定要求", "legal_basis": "《行政许可法》第三十一条"}]
    responses = at_once(live_server, [(h, path, b) for h, b in zip(two_handlers, bodies, strict=True)])
    winner = one_won(responses)
    fresh = RectificationCase.objects.get(pk=case.pk)
    expected = [("fixed_now", "rectified"), ("explained", "explained")][winner]
    assert (fresh.outcome, fresh.state) == expected
    assert list(CaseTransition.objects.filter(case=case, action="outcome").values_list("to_state", flat=True)) == [
        expected[1]]
