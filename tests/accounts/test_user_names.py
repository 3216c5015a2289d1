"""People are shown by name, role and unit (张三（经办人，历下区人社局）), never by a bare login name; an evaluator's
name is masked; showing users in a list costs no query per user."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from haochaping.accounts.models import User
from haochaping.accounts.roles import Role

pytestmark = pytest.mark.django_db


def test_a_named_handler_is_name_role_and_department(org):
    user = User.objects.create(username="handler-11370", role=Role.HANDLER, region=org.county,
                               department=org.department, last_name="张", first_name="三")
    assert str(user) == f"张三（经办人，{org.department.name}）"


def test_staff_take_their_staff_records_name_and_supervisors_their_region(org):
    staff = User.objects.create(username="s-1", role=Role.STAFF, region=org.county, staff=org.staff)
    assert str(staff) == f"{org.staff.name}（窗口工作人员，{org.county.name}）"
    sup = User.objects.create(username="sup-1", role=Role.SUPERVISOR, region=org.city, last_name="王", first_name="芳")
    assert str(sup) == f"王芳（监督人员，{org.city.name}）"


def test_without_a_name_the_role_and_unit_come_first_and_an_evaluator_is_masked(org):
    nameless = User.objects.create(username="handler-9", role=Role.HANDLER, department=org.department)
    assert str(nameless) == f"经办人，{org.department.name}（账号 handler-9）"
    evaluator = User.objects.create(username="e-1", role=Role.EVALUATOR, last_name="李", first_name="小明")
    assert str(evaluator) == "李*明（评价人）"


def test_listing_users_with_their_labels_is_one_query(org):
    for n in range(5):
        User.objects.create(username=f"h{n}", role=Role.HANDLER, region=org.county, department=org.department,
                            last_name="赵", first_name=str(n))
    with CaptureQueriesContext(connection) as queries:
        names = [str(u) for u in User.objects.select_related(*User.label_related).filter(username__startswith="h")]
    assert len(names) == 5 and len(queries) == 1
