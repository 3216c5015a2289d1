"""Schema-driven fuzzing of the whole API (schemathesis) against the live server, bounded and seeded.

Every operation of /api/v1/openapi.json gets valid and invalid requests (derandomized, so a run repeats exactly)
from an API key holding every scope and from nobody (valid requests only: refused before any input is read), and
the case and appeal operations also from the two people who take their steps, signed in with a CSRF token: the
handler of the case's unit and the region's supervisor, against a real case. Any 5xx, any status the document does not list for the
operation, any other content type or any body that contradicts the documented schema fails the test, with the
whole list of findings. The totals are printed (run with -s to see them).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.conf import settings
from django.test import Client
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from haochaping.accounts.models import ApiKey, Role, User
from haochaping.api import api
from haochaping.rectification.models import Appeal
from tests import factories
from tests.rectification.conftest import submit

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Per operation, mode and caller: small enough that the whole run adds well under a minute to the suite.
MAX_EXAMPLES = 3
SESSION_PATHS = ("/api/v1/cases", "/api/v1/appeals")


@dataclass
class Tally:
    operations: set = field(default_factory=set)
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    findings: list = field(default_factory=list)
    no_negative: set = field(default_factory=set)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


def _fuzz(
    operation, base_url: str, tally: Tally, *, caller: str, headers: dict, cookies: dict, path_parameters=None,
    modes=(GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
):
    for mode in modes:
        try:
            _fuzz_mode(operation, mode, base_url, tally, f"{caller} {mode.value}", headers, cookies, path_parameters)
        except Unsatisfiable:
            # No invalid request exists for some operations (nothing to negate); valid ones must always exist.
            if mode is GenerationMode.POSITIVE:
                raise
            tally.no_negative.add(operation.label)
    tally.operations.add(operation.label)


def _fuzz_mode(operation, mode, base_url, tally: Tally, who: str, headers, cookies, path_parameters) -> None:
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    @hypothesis_settings(
        max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    )
    def run(case):
        response = case.call(base_url=base_url, headers=headers, cookies=cookies, timeout=30)
        tally.requests += 1
        tally.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis' failure group: report all at the end
            what = "; ".join(f"{type(e).__name__}: {e}".splitlines()[0] for e in getattr(exc, "exceptions", [exc]))
            tally.findings.append(f"{who} {operation.label} → {response.status_code}: {what}")

    run()


@pytest.fixture
def fuzz_world(live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"  # evidence files the fuzzer uploads
    org = factories.make_org()
    item = factories.make_item(org)
    key, secret = factories.make_api_key()
    # The fuzzer sends hundreds of requests a minute with one key: lift the key's per-minute limit for the run.
    ApiKey.objects.filter(pk=key.pk).update(rate_limit_per_minute=100_000)
    case_id = submit(factories.make_record(org, item), level=1).case_id
    # The two people who take the steps (docs/api.md): the handler of the case's unit, the region's supervisor.
    people = {
        "handler": User.objects.create(username="fuzz-handler", role=Role.HANDLER, is_staff=True, region=org.county,
                                       department=org.department),
        "supervisor": User.objects.create(username="fuzz-supervisor", role=Role.SUPERVISOR, is_staff=True,
                                          region=org.county),
    }
    appeal = Appeal.objects.first()
    return {"secret": secret, "case_id": case_id, "appeal_id": appeal.pk if appeal else 1, "people": people}


def _session(user) -> tuple[dict, dict]:
    client = Client()
    client.force_login(user)
    token = get_random_string(32)
    cookies = {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value,
               settings.CSRF_COOKIE_NAME: token}
    return {"X-CSRFToken": token}, cookies


def test_no_input_gets_a_5xx_or_an_answer_the_schema_does_not_promise(live_server, fuzz_world, capsys):
    schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
    sessions = {name: _session(user) for name, user in fuzz_world["people"].items()}
    known_ids = {"case_id": fuzz_world["case_id"], "appeal_id": fuzz_world["appeal_id"]}
    tally = Tally()
    for result in schema.get_all_operations():
        operation = result.ok()
        _fuzz(operation, live_server.url, tally, caller="key",
              headers={"Authorization": f"Bearer {fuzz_world['secret']}"}, cookies={})
        # Nobody signed in is refused before any input is read: valid requests are enough to check the refusals.
        _fuzz(operation, live_server.url, tally, caller="anonymous", headers={}, cookies={},
              modes=(GenerationMode.POSITIVE,))
        if operation.path.startswith(SESSION_PATHS):
            fixed = {p.name: known_ids[p.name] for p in operation.path_parameters if p.name in known_ids}
            for name, (headers, cookies) in sessions.items():
                _fuzz(operation, live_server.url, tally, caller=name, headers=headers, cookies=cookies,
                      path_parameters=fixed or None)
    with capsys.disabled():
        print(f"\nfuzzing: {len(tally.operations)} operations, {tally.requests} requests, "
              f"{tally.server_errors} × 5xx, statuses {dict(sorted(tally.statuses.items()))}; "
              f"no invalid request possible: {sorted(tally.no_negative)}")
    assert len(tally.operations) == len(list(schema.get_all_operations()))
    assert tally.server_errors == 0 and not tally.findings, "\n".join(tally.findings[:40])
