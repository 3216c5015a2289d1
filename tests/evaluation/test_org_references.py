"""An evaluation's org columns (item, region, department, agency, window, staff, platform) are copies of its 办件's,
and the database no longer checks them on the evaluation row (migration evaluation 0008, docs/operations.md
"评价表的外键与索引"). What keeps them valid: they equal the 办件's columns, which the 办件's own foreign keys check
and which never change, and the evaluation's key to its 办件 is checked. These tests hold each link of that chain."""

from __future__ import annotations

import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from haochaping.core.problems import DomainError
from haochaping.evaluation import intake, services
from haochaping.evaluation.models import Evaluation
from haochaping.org.models import Staff
from haochaping.records import services as record_services
from haochaping.records.models import ServiceRecord
from tests import factories

pytestmark = pytest.mark.django_db

ORG_COLUMNS = ("item_id", "region_id", "department_id", "agency_id", "window_id", "staff_id", "platform_id")


def data(record, **kw) -> services.EvaluationInput:
    return services.EvaluationInput(**{"idempotency_key": uuid.uuid4().hex, "project_no": record.project_no,
                                       "stage": "complete", "channel": "pc", "level": 5, **kw})


def test_single_and_batch_evaluations_copy_their_records_org_columns(org, item):
    single, batch = factories.make_record(org, item), factories.make_record(org, item)
    services.submit_evaluation(data(single), source="test")
    (created,) = intake.submit_evaluations([data(batch)], source="test")
    assert not isinstance(created, DomainError)
    for record in (single, batch):
        stored = Evaluation.objects.filter(record=record).values(*ORG_COLUMNS).get()
        assert stored == {c: getattr(record, c) for c in ORG_COLUMNS}


def test_a_records_org_columns_cannot_be_changed(org, item):
    record = factories.make_record(org, item)
    other = Staff.objects.create(agency=org.agency, department=org.department, name="李四", staff_no="S-OTHER")
    for field, value in (("staff", other), ("department_id", org.department.pk), ("region", org.city)):
        with pytest.raises(DomainError) as refused:
            record_services.update_record(record.project_no, {field: value}, actor="test")
        assert refused.value.field == field
    assert ServiceRecord.objects.get(pk=record.pk).staff_id == org.staff.pk


def test_an_org_row_an_evaluation_names_cannot_be_deleted(org, item):
    record = factories.make_record(org, item)
    services.submit_evaluation(data(record), source="test")
    # Through Django: on_delete=PROTECT is Django's own check, with or without a database constraint.
    with pytest.raises(ProtectedError):
        org.staff.delete()
    # In SQL, past Django: the 办件 names the same staff member, and its foreign key is checked.
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {Staff._meta.db_table} WHERE id = %s", [org.staff.pk])
        connection.check_constraints()
    assert Staff.objects.filter(pk=org.staff.pk).exists()
