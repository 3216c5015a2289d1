"""`check --deploy` must pass at any moment: Django warns (fields.W161) about a date or time field whose fixed default
lies within 10 seconds of now, so a default of time(18, 0) failed tests/core/test_security_settings.py at 18:00 UTC."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.apps import apps
from django.core import checks
from django.db import models

from haochaping.supervision.models import HallHours

DATE_TYPES = (models.DateField, models.TimeField)  # DateTimeField is a DateField


def test_no_date_or_time_field_has_a_fixed_default():
    fixed = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if model.__module__.startswith("haochaping.")
        for field in model._meta.get_fields()
        if isinstance(field, DATE_TYPES) and field.has_default() and not callable(field.default)
    ]
    assert fixed == []


@pytest.mark.parametrize("field", ["opens", "closes"])
def test_the_system_checks_pass_at_the_hall_hours_defaults_own_moment(field):
    default = HallHours._meta.get_field(field).get_default()
    moment = datetime.datetime.combine(datetime.date(2026, 12, 7), default, tzinfo=datetime.UTC)
    with time_machine.travel(moment, tick=False):
        found = [m for m in checks.run_checks() if m.id == "fields.W161"]
    assert found == []
