"""A kiosk never shows (let alone rates) a 办件 of another window, even when handed a validly signed form for it."""

from __future__ import annotations

import secrets

import pytest
from django.core import signing
from django.test import Client

from haochaping.evaluation import kiosk, pages
from haochaping.evaluation.models import Evaluation
from haochaping.org.models import Staff, Window
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_bad_level_for_another_windows_record_shows_nothing_of_it(org, item):
    other_window = Window.objects.create(agency=org.agency, code="A09", name="综合受理9号窗口", department=org.department)
    other_staff = Staff.objects.create(staff_no="S99009", name="钱多多", agency=org.agency, department=org.department,
                                       window=other_window)
    other = factories.make_record(org, item, window=other_window, staff=other_staff)
    _device, secret = kiosk.register_kiosk(org.window, "1号窗口评价器")
    client = Client()
    assert client.post("/kiosk/activate", {"secret": secret}).status_code == 302
    token = signing.dumps({"k": secrets.token_urlsafe(16), "p": other.project_no, "s": "complete", "t": "active"},
                          salt=pages.FORM_SALT)

    response = client.post("/kiosk/", {"form_token": token, "level": "1"})  # a bad level: the reasons step
    html = response.content.decode()
    assert response.status_code == 403
    assert "该办件不属于本窗口，评价器不能评价" in html
    assert "钱多多" not in html and "S99009" not in html and other.project_no not in html
    assert not Evaluation.objects.exists()
