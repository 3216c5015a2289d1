"""PersonalDataField: ciphertext in the database, a masked value by default, the clear text only by reveal()."""

import pytest
from django.db import connection

from haochaping.core import masking
from haochaping.core.fields import Sealed
from haochaping.records.models import ServiceRecord
from tests import factories

pytestmark = pytest.mark.django_db


def test_round_trip_through_the_database_stores_only_ciphertext(org, item):
    record = factories.make_record(org, item, applicant_name="欧阳娜娜", applicant_phone="13987654321",
                                   applicant_id_number="370102199003077713")
    with connection.cursor() as cursor:
        cursor.execute("SELECT applicant_phone, applicant_name FROM records_servicerecord WHERE id = %s", [record.pk])
        phone_blob, name_blob = (bytes(v) for v in cursor.fetchone())
    assert b"13987654321" not in phone_blob and "欧阳娜娜".encode() not in name_blob
    loaded = ServiceRecord.objects.get(pk=record.pk)
    assert isinstance(loaded.applicant_phone, Sealed)
    assert loaded.applicant_phone.reveal() == "13987654321"
    assert loaded.applicant_id_number.reveal() == "370102199003077713"
    assert loaded.applicant_name == "欧阳娜娜"


def test_str_repr_and_format_show_only_the_masked_value(org, item):
    loaded = ServiceRecord.objects.get(pk=factories.make_record(org, item, applicant_phone="13987654321").pk)
    phone = loaded.applicant_phone
    assert str(phone) == "139****4321"
    assert f"{phone}" == "139****4321"
    assert "13987654321" not in repr(phone)
    assert "13987654321" not in repr(loaded.__dict__)


def test_empty_values_are_stored_as_null(org, item):
    record = factories.make_record(org, item, applicant_name="", applicant_phone="")
    loaded = ServiceRecord.objects.get(pk=record.pk)
    assert loaded.applicant_name is None and loaded.applicant_phone is None
    assert ServiceRecord.objects.filter(pk=record.pk, applicant_phone__isnull=True).exists()


def test_saving_again_keeps_the_value(org, item):
    loaded = ServiceRecord.objects.get(pk=factories.make_record(org, item, applicant_phone="13987654321").pk)
    loaded.overdue_explanation = "材料补正"
    loaded.save()
    assert ServiceRecord.objects.get(pk=loaded.pk).applicant_phone.reveal() == "13987654321"


@pytest.mark.parametrize(
    ("fn", "value", "masked"),
    [
        (masking.mask_name, "王", "王*"),
        (masking.mask_name, "王小", "王*"),
        (masking.mask_name, "欧阳娜娜", "欧**娜"),
        (masking.mask_name, "", ""),
        (masking.mask_phone, "13987654321", "139****4321"),
        (masking.mask_phone, "12345", "*****"),
        (masking.mask_id_number, "370102199003077713", "3701**********7713"),
    ],
)
def test_masking(fn, value, masked):
    assert fn(value) == masked
