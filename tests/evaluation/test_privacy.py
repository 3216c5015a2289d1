"""Personal data at rest (R7.2, R8.5): after a record, an evaluation and a status change arrive over HTTP,
no column of any table holds a citizen's phone, ID number or name in clear — on the configured database."""

from datetime import datetime, timedelta

import pytest
from django.db import connection

from haochaping.core import crypto
from haochaping.evaluation.models import Evaluation
from haochaping.records.models import ServiceRecord
from tests.records.helpers import (
    APPLICANT_ID,
    APPLICANT_NAME,
    APPLICANT_PHONE,
    EVALUATOR_NAME,
    EVALUATOR_PHONE,
    full_evaluation_payload,
    iso,
    record_payload,
)

pytestmark = pytest.mark.django_db(transaction=True)

SECRETS = [APPLICANT_PHONE, APPLICANT_ID, APPLICANT_NAME, EVALUATOR_PHONE, EVALUATOR_NAME]


def every_value():
    """(table, column, value as text) for every column of every row, read with raw SQL."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, memoryview | bytes | bytearray):
                        raw = bytes(value)
                        yield table, column, raw.decode("utf-8", "replace") + raw.hex()
                    elif value is not None:
                        yield table, column, str(value)


def test_no_column_holds_personal_data_in_clear(http, org, item):
    body = record_payload(org, item, completed=False)
    assert http.post("/api/v1/records", json=body).status_code == 201
    done = iso(datetime.fromisoformat(body["accepted_at"]) + timedelta(hours=1))
    assert http.patch(f"/api/v1/records/{body['project_no']}", json={"status": 3, "completed_at": done}).status_code == 200
    r = http.post("/api/v1/evaluations", json=full_evaluation_payload(body["project_no"]))
    assert r.status_code == 201, r.text

    found = [(t, c, s) for t, c, v in every_value() for s in SECRETS if s in v or s.encode().hex() in v]
    assert found == []

    # Stored encrypted and findable by the blind index, not lost.
    record = ServiceRecord.objects.get()
    assert record.applicant_phone_index == crypto.blind_index(APPLICANT_PHONE, kind="phone")
    assert record.applicant_id_index == crypto.blind_index(APPLICANT_ID, kind="id_number")
    assert record.applicant_name.reveal() == APPLICANT_NAME
    ev = Evaluation.objects.get()
    assert ev.evaluator_phone_index == crypto.blind_index(EVALUATOR_PHONE, kind="phone")
    assert ev.evaluator_name.reveal() == EVALUATOR_NAME
    assert Evaluation.objects.filter(evaluator_phone_index=crypto.blind_index(" 158 1111 2222", kind="phone")).count() == 1
