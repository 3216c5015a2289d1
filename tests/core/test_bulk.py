"""core.bulk: rows written with executemany read back through the ORM exactly as written, in batches, with personal
data sealed as save() would seal it."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from django.db import connection

from haochaping.core import bulk
from haochaping.evaluation.models import Channel
from haochaping.insight.models import DailyCounter
from haochaping.records.models import ServiceRecord
from tests import factories

pytestmark = pytest.mark.django_db

FIELDS = ("day", "region", "department", "item", "channel", "level", "type", "is_real_name", "excluded", "count")


def test_rows_in_several_batches_read_back_as_written(monkeypatch):
    monkeypatch.setattr(bulk, "BATCH", 7)  # 20 rows: three executemany calls, the last one short
    rows = [(date(2026, 2, 1 + n), "370102", 3, 100 + n, Channel.KIOSK if n % 2 else "pc", 1 + n % 5, "first",
             n % 3 == 0, n == 5, n + 1) for n in range(20)]
    assert bulk.insert_rows(DailyCounter, FIELDS, iter(rows)) == 20
    stored = list(DailyCounter.objects.order_by("day").values_list(*FIELDS))
    assert stored == [(*r[:4], str(r[4]) if r[4] == "pc" else r[4].value, *r[5:]) for r in rows]
    # Columns not given take their database defaults from the model (agency, window, staff, platform: 0).
    assert set(DailyCounter.objects.values_list("agency", "window", "staff", "platform")) == {(0, 0, 0, 0)}


def test_nothing_to_insert_writes_nothing():
    assert bulk.insert_rows(DailyCounter, FIELDS, []) == 0
    assert not DailyCounter.objects.exists()


def test_a_value_missing_from_a_row_is_refused_before_anything_is_written():
    with pytest.raises(ValueError):
        bulk.insert_rows(DailyCounter, FIELDS, [(date(2026, 2, 1), "370102", 3)])
    assert not DailyCounter.objects.exists()


def test_objects_with_personal_data_are_sealed_like_save_and_missing_fields_take_defaults(org, item):
    saved = factories.make_record(org, item, applicant_name="欧阳娜娜", applicant_phone="13987654321")
    inserter = bulk.Inserter(ServiceRecord)
    attrs = {f.attname: getattr(saved, f.attname) for f in inserter.fields}
    attrs.update(project_no="P-BULK-1", applicant_name="欧阳娜娜", applicant_phone="13987654321")
    del attrs["source"]  # not set by the caller: the model default applies
    assert inserter.insert([SimpleNamespace(**attrs)]) == 1
    loaded = ServiceRecord.objects.get(project_no="P-BULK-1")
    assert loaded.applicant_phone.reveal() == "13987654321" and loaded.applicant_name == "欧阳娜娜"
    assert loaded.source == ServiceRecord._meta.get_field("source").get_default()
    with connection.cursor() as cursor:
        cursor.execute("SELECT applicant_phone FROM records_servicerecord WHERE id = %s", [loaded.pk])
        assert b"13987654321" not in bytes(cursor.fetchone()[0])
