"""Pickers of regions (3,211 rows), units, windows, staff, items, platforms and users search as you type in every
admin form, and only offer what the signed-in person may see."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client

from haochaping.accounts.models import User
from haochaping.accounts.roles import Role
from haochaping.core.admin_scoping import PICKED_BY_SEARCH

pytestmark = pytest.mark.django_db


def test_every_big_picker_of_every_admin_is_an_autocomplete_box():
    plain = []
    for model, model_admin in admin.site._registry.items():
        for f in model._meta.get_fields():
            if not (f.is_relation and f.concrete and getattr(f, "editable", False)) or f.related_model is None:
                continue
            if f.related_model._meta.label in PICKED_BY_SEARCH and f.name not in model_admin.autocomplete_fields \
                    and f.name not in (model_admin.raw_id_fields or ()):
                plain.append(f"{model._meta.label}.{f.name}")
    assert plain == []


def test_the_api_key_form_searches_regions_as_typed_within_the_administrators_region(org):
    regional = User.objects.create(username="admin-jinan", role=Role.ADMINISTRATOR, region=org.city, is_staff=True)
    client = Client()
    client.force_login(regional)
    form = client.get("/admin/accounts/apikey/add/").content.decode()
    assert 'class="admin-autocomplete' in form and 'data-field-name="region"' in form
    assert f'<option value="{org.other_county.pk}"' not in form  # no dropdown of every region
    found = client.get("/admin/autocomplete/", {"app_label": "accounts", "model_name": "apikey", "field_name": "region",
                                                "term": "历下"}).json()["results"]
    assert [r["id"] for r in found] == [org.county.pk]
    outside = client.get("/admin/autocomplete/", {"app_label": "accounts", "model_name": "apikey",
                                                  "field_name": "region", "term": "山东"}).json()["results"]
    assert outside == []  # the province lies above the administrator's city
