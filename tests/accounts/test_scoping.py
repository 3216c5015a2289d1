"""The one scoping mechanism (core.scoping) and its Python twin for unsaved objects (admin_scoping.in_scope)."""

from __future__ import annotations

import pytest

from haochaping.accounts.models import ApiKey, PersonalDataAccess, Role, User
from haochaping.catalog.models import ServiceItem
from haochaping.core.admin_scoping import in_scope
from haochaping.core.scoping import (
    EVERYTHING,
    NOTHING,
    Visibility,
    can_see,
    condition,
    scope,
    visibility_for,
)
from haochaping.evaluation.models import Evaluation, Label
from haochaping.org.models import Region, Staff, Window
from haochaping.records.models import ServiceRecord

from ..scope.world import build_world


def user(role=Role.EVALUATOR, **kw) -> User:
    return User(username="u", role=role, **kw)


# --- visibility_for: who sees what ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "region, prefix",
    [
        ("370000", "37"),  # province
        ("370100", "3701"),  # city
        ("370102", "370102"),  # county (6 digits)
        ("370102001", "370102001"),  # township (9 digits)
        ("370102001001", "370102001001"),  # village (12 digits)
        ("370102000000", "370102"),  # a county written with 12 digits
    ],
)
@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ASSESSOR, Role.ADMINISTRATOR])
def test_region_roles_see_their_regions_subtree(role, region, prefix):
    assert visibility_for(user(role, region_id=region)) == Visibility(region_prefix=prefix)


def test_roles_without_what_they_need_see_nothing():
    assert visibility_for(None) is NOTHING
    assert visibility_for(user(Role.SUPERVISOR)) is NOTHING  # no region
    assert visibility_for(user(Role.ASSESSOR)) is NOTHING
    assert visibility_for(user(Role.HANDLER, region_id="370102")) is NOTHING  # no unit
    assert visibility_for(user(Role.STAFF, region_id="370102")) is NOTHING  # no staff record
    assert visibility_for(user(Role.EVALUATOR, region_id="370102")) is NOTHING
    assert visibility_for(user(Role.SUPERVISOR, region_id="370102", is_active=False)) is NOTHING


def test_anonymous_sees_nothing():
    from django.contrib.auth.models import AnonymousUser

    assert visibility_for(AnonymousUser()) is NOTHING


def test_superusers_and_administrators_without_region_see_everything():
    assert visibility_for(user(Role.EVALUATOR, is_superuser=True)) is EVERYTHING
    assert visibility_for(user(Role.STAFF, staff_id=3, is_superuser=True)) is EVERYTHING
    assert visibility_for(user(Role.ADMINISTRATOR)) is EVERYTHING


def test_unit_and_staff_roles():
    assert visibility_for(user(Role.HANDLER, department_id=7)) == Visibility(department_id=7)
    assert visibility_for(user(Role.HANDLER, agency_id=8)) == Visibility(agency_id=8)
    assert visibility_for(user(Role.HANDLER, department_id=7, agency_id=8)) == Visibility(department_id=7, agency_id=8)
    assert visibility_for(user(Role.STAFF, staff_id=9, region_id="370102")) == Visibility(staff_id=9)


def test_api_keys_see_their_region_or_everything():
    assert visibility_for(ApiKey(region_id="370100")) == Visibility(region_prefix="3701")
    assert visibility_for(ApiKey(region_id=None)) is EVERYTHING


# --- condition(): the filter for each model kind -------------------------------------------------------------


def pks(model, visibility) -> set:
    q = condition(model, visibility)
    return set() if q is None else set(model._default_manager.filter(q).values_list("pk", flat=True))


@pytest.fixture
def world(db):
    return build_world()


def test_nothing_and_unscoped_models(world):
    assert condition(Evaluation, NOTHING) is None
    assert condition(Label, Visibility(region_prefix="37")) is None  # no scope_paths: for those who see everything
    assert condition(Label, EVERYTHING) is not None
    assert scope(Label.objects.all(), user(Role.SUPERVISOR, region_id="370000")).count() == 0


def test_region_model_by_code(world):
    Region.objects.create(code="370102001", name="解放路街道", level=4, parent_id="370102")
    Region.objects.create(code="370102001001", name="某社区", level=5, parent_id="370102001")
    assert pks(Region, Visibility(region_prefix="3701")) == {"370100", "370102", "370103", "370102001", "370102001001"}
    assert pks(Region, Visibility(region_prefix="370102")) == {"370102", "370102001", "370102001001"}
    assert pks(Region, Visibility(region_prefix="370102001")) == {"370102001", "370102001001"}
    assert pks(Region, Visibility(region_prefix="370102001001")) == {"370102001001"}


def test_models_with_a_direct_region_column(world):
    a, b = world.a, world.b
    county_a = Visibility(region_prefix="370102")
    assert pks(ServiceRecord, county_a) == {r.pk for r in a.records}
    assert pks(Evaluation, Visibility(region_prefix="3701")) == {e.pk for e in a.evaluations + b.evaluations}
    assert pks(PersonalDataAccess, Visibility(region_prefix="370103")) == {x.pk for x in world.in_county(PersonalDataAccess, "B")}


def test_models_reached_through_a_join(world):
    a = world.a
    assert pks(Window, Visibility(region_prefix="370102")) == {w.pk for w in a.windows}
    assert pks(Window, Visibility(department_id=a.departments[1].pk)) == {a.windows[1].pk}
    assert pks(Window, Visibility(agency_id=a.agency.pk)) == {w.pk for w in a.windows}
    assert pks(Window, Visibility(staff_id=a.staff[0].pk)) == set()  # a window has no staff path


def test_alternative_paths_any_may_match(world):
    a, b = world.a, world.b
    # A staff member of a department only (no hall) is still found by the department's region.
    lone = Staff.objects.create(staff_no="S-LONE", name="历下孤", department=a.departments[0])
    assert lone.pk in pks(Staff, Visibility(region_prefix="370102"))
    # An item of county B led by a county-A department is visible to that department's handler.
    led = ServiceItem.objects.create(
        implementation_code="IC-LED", basic_code="1", name="跨区事项", item_type="01", department=b.departments[0],
        region=b.region, lead_department=a.departments[0],
    )
    assert led.pk in pks(ServiceItem, Visibility(department_id=a.departments[0].pk))
    assert led.pk not in pks(ServiceItem, Visibility(region_prefix="370102"))


def test_handler_and_staff_conditions(world):
    a = world.a
    dept, agency = a.departments[0], a.agency
    assert pks(Evaluation, Visibility(department_id=dept.pk)) == {a.evaluations[0].pk, a.evaluations[2].pk}
    assert pks(Evaluation, Visibility(agency_id=agency.pk)) == {a.evaluations[0].pk, a.evaluations[1].pk}
    both = Visibility(department_id=dept.pk, agency_id=agency.pk)
    assert pks(Evaluation, both) == {e.pk for e in a.evaluations}
    assert pks(Evaluation, Visibility(staff_id=a.staff[1].pk)) == {a.evaluations[1].pk}


def test_can_see_and_scope(world):
    sup_a, sup_city = world.users["sup_a"], world.users["sup_city"]
    b_record = world.b.records[0]
    assert not can_see(sup_a, b_record)
    assert can_see(sup_city, b_record)
    assert set(scope(ServiceRecord.objects.all(), sup_a)) == set(world.a.records)


def test_in_scope_agrees_with_the_database_filter(world):
    """The admin's check of an unsaved object must say what the query would say, for every row and actor."""
    a = world.a
    visibilities = [
        EVERYTHING, NOTHING, Visibility(region_prefix="37"), Visibility(region_prefix="3701"),
        Visibility(region_prefix="370102"), Visibility(region_prefix="370103"),
        Visibility(department_id=a.departments[0].pk), Visibility(agency_id=a.agency.pk),
        Visibility(department_id=a.departments[1].pk, agency_id=a.agency.pk), Visibility(staff_id=a.staff[0].pk),
    ]
    for model, counties in world.rows.items():
        for obj in counties["A"] + counties["B"]:
            obj = model._default_manager.get(pk=obj.pk)
            for v in visibilities:
                assert in_scope(obj, v) == (obj.pk in pks(model, v)), (model.__name__, obj, v)
