"""Simultaneous submits against the live server on the configured database (PostgreSQL in `make test-pg`):
the database, not luck, keeps one row per idempotency key and one active evaluation per (办件, stage).

Not collected on an in-memory SQLite test database (see conftest.py): pytest-django's live server then
shares one connection among its threads, which no deployment does. test_real_server.py races a real
server process on a file SQLite database instead, in every run."""

import httpx
import pytest

from haochaping.evaluation.models import Evaluation
from tests.records.helpers import record_payload

from .concurrent import (
    assert_one_created_rest_conflict,
    assert_one_row_same_id,
    different_key_bodies,
    same_key_bodies,
    simultaneously,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def make_client(live_server, api_key):
    _key, secret = api_key
    return lambda: httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30)


@pytest.fixture
def project_no(http, org, item):
    body = record_payload(org, item)
    assert http.post("/api/v1/records", json=body).status_code == 201
    return body["project_no"]


def test_simultaneous_retries_with_one_key_write_one_row(make_client, project_no):
    evaluation_id = assert_one_row_same_id(simultaneously(make_client, same_key_bodies(project_no)))
    assert list(Evaluation.objects.values_list("id", flat=True)) == [evaluation_id]


def test_simultaneous_active_evaluations_of_one_stage_one_wins(make_client, project_no):
    assert_one_created_rest_conflict(simultaneously(make_client, different_key_bodies(project_no)))
    assert Evaluation.objects.filter(record__project_no=project_no, stage="complete", type="active").count() == 1
