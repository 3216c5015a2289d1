"""Without DATABASE_REPLICA_URL nothing of the replica machinery shows: one database, no routing header, and the
health endpoint's ``replica`` is empty."""

import pytest

pytestmark = pytest.mark.django_db


def test_without_a_replica_health_has_none_and_pages_carry_no_routing_header(client):
    body = client.get("/api/v1/health").json()
    assert body["replica"] is None and body["status"] == "ok"
    response = client.get("/public/", follow=True)
    assert response.status_code == 200
    assert "X-Haochaping-Read-From" not in response.headers
