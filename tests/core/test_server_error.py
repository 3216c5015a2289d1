"""handler500 (core.views.server_error): a database out of reach is 503 "try again", anything else the plain 500."""

from __future__ import annotations

import json

import pytest
from django.db import InterfaceError, OperationalError
from django.test import RequestFactory

from haochaping.core.middleware import InputGuardMiddleware
from haochaping.core.views import server_error


def _answer_while_handling(exc: Exception, path: str = "/public/"):
    request = RequestFactory().get(path)
    try:
        raise exc
    except Exception:
        return server_error(request)


@pytest.mark.parametrize("exc", [OperationalError("terminating connection"), InterfaceError("connection already closed")])
def test_a_lost_database_connection_answers_the_busy_page_with_503_and_retry_after(exc):
    response = _answer_while_handling(exc)
    assert response.status_code == 503 and response["Retry-After"] == "5"
    text = response.content.decode()
    assert "系统繁忙" in text and "请过几秒钟后再试" in text and "terminating" not in text


def test_any_other_error_keeps_the_500_page_without_retry_after():
    response = _answer_while_handling(RuntimeError("a bug"))
    assert response.status_code == 500 and "Retry-After" not in response
    text = response.content.decode()
    assert "系统繁忙" in text and "a bug" not in text


def test_under_the_api_the_503_page_becomes_problem_details_keeping_retry_after():
    """An error before the API's own handlers (a middleware's query) reaches handler500; InputGuardMiddleware turns
    the page into problem details, as it does for every non-problem error under /api/."""
    request = RequestFactory().get("/api/v1/levels")
    guard = InputGuardMiddleware(lambda r: _answer_while_handling(OperationalError("gone"), r.path))
    response = guard(request)
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content)["type"] == "about:blank#unavailable"
