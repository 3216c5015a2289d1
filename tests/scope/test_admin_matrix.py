"""Every registered admin page, against every kind of actor: nobody of county A can list, count or open a row of
county B, and opening one looks exactly like opening a row that does not exist.

The models are enumerated from the admin registry, so an admin added later without scoping fails here.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.urls import reverse

from haochaping.core.admin_scoping import ScopedAdminMixin

from .world import COUNTY_A_ACTORS, REGION_ACTORS

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry, key=lambda m: m._meta.label)
SCOPED = [m for m in REGISTERED if getattr(m, "scope_paths", None) is not None]
UNSCOPED = [m for m in REGISTERED if getattr(m, "scope_paths", None) is None]


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def missing_pk(model):
    # A key of the right shape that no row has.
    if model._meta.pk.get_internal_type() == "CharField":
        return "370199"
    return (model._default_manager.order_by("-pk").values_list("pk", flat=True).first() or 0) + 10_000


def answer(client, model, view: str, pk):
    """What the admin says about object ``pk``: status, where it redirects, and its messages with the id blanked."""
    client.cookies.pop("messages", None)  # only this request's messages
    r = client.get(url(model, view, pk))
    messages = [str(m).replace(str(pk), "<id>") for m in get_messages(r.wsgi_request)]
    return r.status_code, r.get("Location"), messages


def test_every_registered_admin_is_scoped():
    unscoped = [m._meta.label for m, a in admin.site._registry.items() if not isinstance(a, ScopedAdminMixin)]
    assert unscoped == []


def test_the_world_has_rows_of_every_scoped_model_in_both_counties(world):
    # A scoped model registered later needs rows here, or the matrix below would check nothing for it.
    thin = [m._meta.label for m in SCOPED if not (world.in_county(m, "A") and world.in_county(m, "B"))]
    assert thin == []


@pytest.mark.parametrize("model", SCOPED, ids=lambda m: m._meta.label)
def test_scoped_admin_lists_and_details(client, world, model):
    rows_a = {o.pk for o in world.in_county(model, "A")}
    rows_b_objs = world.in_county(model, "B")
    rows_b = {o.pk for o in rows_b_objs}
    missing = missing_pk(model)
    seen_by = {}
    for name in (*COUNTY_A_ACTORS, "sup_city", "superuser"):
        client.force_login(world.users[name])
        r = client.get(url(model, "changelist"))
        if r.status_code == 403:
            assert name not in ("superuser",), f"{name} cannot open the {model._meta.label} list"
            # No view permission: the details are refused alike, existing or not.
            for b in rows_b_objs:
                assert answer(client, model, "change", b.pk)[0] == answer(client, model, "change", missing)[0] == 403
            continue
        assert r.status_code == 200, (name, r.status_code)
        cl = r.context["cl"]
        listed = set(cl.queryset.values_list("pk", flat=True))
        seen_by[name] = listed
        # What the page counts is what it lists (every page of it), nothing more.
        assert cl.result_count == len(listed)
        if cl.show_full_result_count:
            assert cl.full_result_count == cl.root_queryset.count()
        if name in COUNTY_A_ACTORS:
            assert not listed & rows_b, f"{name} lists county B {model._meta.label}"
            assert not set(cl.root_queryset.values_list("pk", flat=True)) & rows_b
            html = r.content.decode()
            for b in rows_b_objs:
                assert str(b) not in html, f"{name} sees “{b}” on the {model._meta.label} list"
            for b in rows_b_objs:
                for view in ("change", "delete", "history"):
                    assert answer(client, model, view, b.pk) == answer(client, model, view, missing), (name, view)
        expected = {"superuser": rows_a | rows_b, **{n: rows_a | (rows_b if "B" in c else set()) for n, c in REGION_ACTORS.items()}}
        if name in expected:
            assert expected[name] <= listed, f"{name} misses rows of {model._meta.label} in their region"
            for pk in expected[name]:
                assert client.get(url(model, "change", pk)).status_code == 200, (name, pk)
    # The city's supervisor sees both counties wherever supervisors may look.
    if "sup_city" in seen_by:
        assert rows_a | rows_b <= seen_by["sup_city"]


@pytest.mark.parametrize("model", UNSCOPED, ids=lambda m: m._meta.label)
def test_unscoped_admins_are_for_those_who_see_everything(client, world, model):
    for name in (*COUNTY_A_ACTORS, "sup_city"):
        client.force_login(world.users[name])
        assert client.get(url(model, "changelist")).status_code == 403, name
        assert client.get(url(model, "add")).status_code == 403, name
    client.force_login(world.users["superuser"])
    assert client.get(url(model, "changelist")).status_code == 200


def test_a_region_scoped_administrator_gets_no_rights_on_unscoped_models_even_if_granted(world):
    from django.contrib.auth.models import Permission
    from django.test import RequestFactory

    admin_a = world.users["admin_a"]
    admin_a.user_permissions.set(Permission.objects.all())
    admin_a = type(admin_a).objects.get(pk=admin_a.pk)  # drop the permission cache
    request = RequestFactory().get("/admin/")
    request.user = admin_a
    for model in UNSCOPED:
        model_admin = admin.site._registry[model]
        rights = [model_admin.has_view_permission(request), model_admin.has_add_permission(request),
                  model_admin.has_change_permission(request), model_admin.has_delete_permission(request),
                  model_admin.has_module_permission(request)]
        assert not any(rights), model._meta.label
