"""Scopes in the admin: every ModelAdmin lists, shows, offers and accepts only what its user may see.

The rows come from :func:`haochaping.core.scoping.scope`, so the admin decides nothing of its own:

- lists, counts, exports and the change/delete/history pages read ``get_queryset``, which is scoped; an object
  out of scope is therefore "does not exist", exactly like a nonexistent id;
- foreign-key and many-to-many choices (and the autocomplete behind them) offer only visible rows;
- a saved object must itself land inside the user's scope (a county administrator cannot create a department
  in the neighbouring county, nor an API key for the whole country);
- models that declare no ``scope_paths`` (label dictionary, calendar, audit log, login and task records) are
  for those who see everything: superusers and administrators without a region.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Manager
from django.utils.translation import gettext as _

from .scoping import ScopePaths, Visibility, paths_of, scope, visibility_for


def _paths(model) -> ScopePaths | None:
    return paths_of(model)


def _values(obj, path: str) -> list:
    """The values ``path`` (an ORM path such as ``agency__region_id``) reaches from an unsaved or saved object."""
    parts = path.split("__")
    current = obj
    for i, part in enumerate(parts):
        if current is None:
            return []
        if isinstance(current, Manager):
            # A to-many hop: only a saved object has related rows to ask the database about.
            rest = "__".join(parts[i:])
            return list(current.values_list(rest, flat=True)) if obj.pk else []
        current = current.pk if part == "pk" else getattr(current, part, None)
    if isinstance(current, Manager):
        return list(current.values_list("pk", flat=True)) if obj.pk else []
    return [] if current is None else [current]


def in_scope(obj, visibility: Visibility) -> bool:
    """Whether ``obj`` (possibly not yet saved) lies inside ``visibility`` — the Python twin of scoping.condition."""
    if visibility.everything:
        return True
    paths = _paths(type(obj))
    if paths is None or visibility.nothing:
        return False
    if visibility.region_prefix:
        return any(str(v).startswith(visibility.region_prefix) for p in paths.region for v in _values(obj, p))
    if visibility.staff_id:
        return any(v == visibility.staff_id for p in paths.staff for v in _values(obj, p))
    hits = [v == visibility.department_id for p in paths.department for v in _values(obj, p) if visibility.department_id]
    hits += [v == visibility.agency_id for p in paths.agency for v in _values(obj, p) if visibility.agency_id]
    return any(hits)


def scope_field_names(model) -> list[str]:
    """The model fields a scope path starts with (``agency__region_id`` → ``agency``), in declaration order."""
    paths = _paths(model)
    if paths is None:
        return []
    names = []
    for path in (*paths.region, *paths.department, *paths.agency, *paths.staff):
        head = path.split("__")[0]
        head = "code" if head == "code" else head.removesuffix("_id")
        if head != "pk" and head not in names:
            names.append(head)
    return names


def out_of_scope_message(actor) -> str:
    region = getattr(actor, "region", None)
    if region is not None:
        return _("超出您的管辖范围：只能填写本辖区（%(region)s）及下级地区的数据") % {"region": region}
    return _("超出您的管辖范围：只能填写您所在单位的数据")


def scoped_form(form_class, actor):
    """``form_class`` refusing, with a Chinese error on the field that decides, an object outside ``actor``'s scope."""
    visibility = visibility_for(actor)
    if visibility.everything or _paths(form_class._meta.model) is None:
        return form_class

    class ScopedForm(form_class):
        def _post_clean(self):
            super()._post_clean()
            if in_scope(self.instance, visibility):
                return
            names = [n for n in scope_field_names(type(self.instance)) if n in self.fields]
            if any(n in self._errors for n in names):
                return  # already refused, e.g. a choice outside the scoped list
            field = names[0] if names else None
            self.add_error(field, forms.ValidationError(out_of_scope_message(actor), code="out_of_scope"))

    ScopedForm.__name__ = form_class.__name__
    return ScopedForm


class _ScopedChoicesMixin:
    """Foreign-key and many-to-many choices limited to the related rows the user may see."""

    def _scoped_field(self, formfield, request):
        queryset = getattr(formfield, "queryset", None)
        if queryset is not None and _paths(queryset.model) is not None:
            formfield.queryset = scope(queryset, request.user)
            # Out of scope and nonexistent read the same: nobody learns that a row exists elsewhere.
            formfield.error_messages["invalid_choice"] = _("所选项不存在或不在您的管辖范围内")
            if "invalid_pk_value" in formfield.error_messages:
                formfield.error_messages["invalid_pk_value"] = _("所选项不存在或不在您的管辖范围内")
        return formfield

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return self._scoped_field(super().formfield_for_foreignkey(db_field, request, **kwargs), request)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)
        return self._scoped_field(formfield, request) if formfield is not None else None


def _everything(request) -> bool:
    return visibility_for(request.user).everything


class RelatedOnlyFieldListFilter(admin.RelatedOnlyFieldListFilter):
    """Django's related-only filter, loading the choices with what their names need (a model's ``label_related``,
    e.g. a user's unit and region for 张三（经办人，历下区人社局）) in the same query, not one query per choice."""

    def field_choices(self, field, request, model_admin):
        related = getattr(field.related_model, "label_related", ())
        if not related:
            return super().field_choices(field, request, model_admin)
        shown = model_admin.get_queryset(request).distinct().values_list(f"{field.name}__pk", flat=True)
        qs = field.related_model._default_manager.filter(pk__in=shown).select_related(*related)
        ordering = self.field_admin_ordering(field, request, model_admin)
        return [(obj.pk, str(obj)) for obj in (qs.order_by(*ordering) if ordering else qs)]


class ScopedAdminMixin(_ScopedChoicesMixin):
    """Put first in a ModelAdmin's bases: ``class XAdmin(ScopedAdminMixin, admin.ModelAdmin)``."""

    def get_queryset(self, request):
        return scope(super().get_queryset(request), request.user)

    def get_form(self, request, obj=None, change=False, **kwargs):
        return scoped_form(super().get_form(request, obj, change, **kwargs), request.user)

    def get_list_filter(self, request):
        # A plain related-field filter lists every related row in the database; list only those in the rows shown.
        result = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str) and "__" not in entry and _is_relation(self.model, entry):
                entry = (entry, RelatedOnlyFieldListFilter)
            result.append(entry)
        return result

    # Unscoped models: for those who see everything only.
    def _allowed(self, request) -> bool:
        return _paths(self.model) is not None or _everything(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args, **kwargs):
        return self._allowed(request) and super().has_add_permission(request, *args, **kwargs)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request) and super().has_delete_permission(request, obj)

    def has_module_permission(self, request):
        return self._allowed(request) and super().has_module_permission(request)

    # django-import-export: importing writes rows, so it needs the right to add or change them; exporting
    # reads the (scoped) change list, so it needs the right to view.
    def has_import_permission(self, request):
        parent = getattr(super(), "has_import_permission", None)
        allowed = self.has_add_permission(request) or self.has_change_permission(request)
        return bool(parent and allowed and parent(request))

    def has_export_permission(self, request):
        parent = getattr(super(), "has_export_permission", None)
        return bool(parent and self.has_view_permission(request) and parent(request))


def _is_relation(model, name: str) -> bool:
    try:
        field = model._meta.get_field(name)
    except Exception:
        return False
    return bool(field.is_relation and (field.many_to_one or field.many_to_many or field.one_to_one))


class ScopedInlineMixin(_ScopedChoicesMixin):
    """For inlines: the related rows shown and the choices offered are scoped like the page around them."""

    def get_queryset(self, request):
        return scope(super().get_queryset(request), request.user)


def scope_registered_admins(site: admin.AdminSite) -> list[str]:
    """Give every registered ModelAdmin that is not yet scoped (third-party ones: axes, tasks, auth groups)
    the mixin, by subclassing its class in place. Returns the labels of the models so treated."""
    treated = []
    for model, model_admin in site._registry.items():
        cls = type(model_admin)
        if isinstance(model_admin, ScopedAdminMixin):
            continue
        model_admin.__class__ = type(f"Scoped{cls.__name__}", (ScopedAdminMixin, cls), {"__module__": cls.__module__})
        treated.append(model._meta.label)
    return treated


# Models with many rows that admin forms pick from: 3,211 regions, thousands of units, windows, staff and items.
PICKED_BY_SEARCH = ("org.Region", "org.Department", "org.ServiceAgency", "org.Window", "org.Staff", "org.Platform",
                    "catalog.ServiceItem", "accounts.User")


def search_as_you_type(site: admin.AdminSite) -> list[str]:
    """Make every region, unit, window, staff, item, platform and user picker of every registered admin an
    autocomplete box (Django's ``autocomplete_fields``: it searches the picked model's admin, which is scoped, as
    the user types) instead of a plain dropdown of every row. Only where the picked model's admin has
    ``search_fields`` and the field is not a raw id. Returns "label.field" of the pickers changed."""
    changed = []
    for model, model_admin in site._registry.items():
        fields = list(model_admin.autocomplete_fields or ())
        for f in model._meta.get_fields():
            if not (f.is_relation and f.concrete and getattr(f, "editable", False)) or f.name in fields:
                continue
            if f.related_model is None or f.related_model._meta.label not in PICKED_BY_SEARCH:
                continue
            target = site._registry.get(f.related_model)
            if target is None or not target.search_fields or f.name in (model_admin.raw_id_fields or ()):
                continue
            fields.append(f.name)
            changed.append(f"{model._meta.label}.{f.name}")
        model_admin.autocomplete_fields = tuple(fields)
    return changed
