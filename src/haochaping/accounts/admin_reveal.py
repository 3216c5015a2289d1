"""The "查看完整个人信息" form on admin change pages (R7.2).

A model admin adds it with two small methods (see records/admin.py)::

    change_form_template = REVEAL_CHANGE_FORM_TEMPLATE

    def get_urls(self):
        return reveal_urls(self) + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(request, object_id, form_url, reveal_context(self, request, object_id, extra_context))

The form posts (with its CSRF token) to ``<object>/reveal/``; the clear value comes back once, in the body of that
response, marked not to be cached: never in a URL, a message cookie or a log. All rules live in
:func:`haochaping.accounts.privacy.reveal`.
"""

from __future__ import annotations

from axes.helpers import get_client_ip_address
from django import forms
from django.contrib.admin.utils import unquote
from django.http import Http404, HttpResponseNotAllowed
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haochaping.core.problems import DomainError

from . import privacy

REVEAL_CHANGE_FORM_TEMPLATE = "admin/accounts/change_form_with_reveal.html"


class RevealForm(forms.Form):
    field = forms.ChoiceField(label=gettext_lazy("要查看的字段"), required=False)
    reason = forms.CharField(
        label=gettext_lazy("查看理由"), required=False, max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=gettext_lazy("至少5个字，例如“核实差评回访电话无法接通”。理由与查看记录一并保存，供监督人员审查。"),
    )

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = list(choices)


def _url_name(model_admin) -> str:
    opts = model_admin.model._meta
    return f"{opts.app_label}_{opts.model_name}_reveal"


def _choices(obj) -> list[tuple[str, str]]:
    # Only fields that hold a value: revealing an empty field would log an access that showed nothing.
    return [(f.name, str(f.verbose_name)) for f in privacy.revealable_fields(type(obj)) if getattr(obj, f.name)]


def reveal_urls(model_admin) -> list:
    def view(request, object_id):
        return reveal_view(model_admin, request, object_id)

    return [path("<path:object_id>/reveal/", model_admin.admin_site.admin_view(view), name=_url_name(model_admin))]


def reveal_context(model_admin, request, object_id, extra_context=None) -> dict:
    """``extra_context`` plus the reveal form, for users who hold the permission only."""
    extra = dict(extra_context or {})
    if not privacy.may_reveal(request.user):
        return extra
    obj = model_admin.get_object(request, unquote(object_id))
    choices = _choices(obj) if obj is not None else []
    if choices:
        extra["reveal_form"] = RevealForm(choices=choices)
        extra["reveal_url"] = reverse(f"{model_admin.admin_site.name}:{_url_name(model_admin)}", args=[object_id])
    return extra


def _page(model_admin, request, obj, *, status=200, **context):
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "original": obj,
        "title": _("查看完整个人信息"),
        **context,
    }
    response = TemplateResponse(request, "admin/accounts/reveal.html", context, status=status)
    add_never_cache_headers(response)  # the clear value must not stay in a browser or proxy cache
    return response


def _forbidden(model_admin, request, object_id):
    privacy.log_refusal(request.user, privacy.subject_type(model_admin.model), object_id, request.POST.get("field", ""))
    return _page(model_admin, request, None, status=403, refused=privacy.forbidden().detail)


def reveal_view(model_admin, request, object_id):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    # Permission first: someone without it learns nothing, not even whether the object exists.
    if not privacy.may_reveal(request.user):
        return _forbidden(model_admin, request, object_id)
    obj = model_admin.get_object(request, unquote(object_id))
    if obj is None:
        raise Http404(privacy.subject_not_found().detail)
    form = RevealForm(request.POST, choices=_choices(obj))
    form.is_valid()  # the service decides; the form only carries the values back with the service's message
    try:
        value = privacy.reveal(
            request.user, obj, request.POST.get("field", ""), request.POST.get("reason", ""), ip=get_client_ip_address(request)
        )
    except DomainError as exc:
        if exc.status == 403:
            return _forbidden(model_admin, request, object_id)
        if exc.status == 404:
            raise Http404(exc.detail) from None
        form.errors.clear()
        form.add_error(exc.field if exc.field in form.fields else None, exc.detail)
        return _page(model_admin, request, obj, status=400, reveal_form=form, reveal_url=request.path)
    field = request.POST["field"]
    return _page(
        model_admin, request, obj, revealed_value=value,
        revealed_label=str(model_admin.model._meta.get_field(field).verbose_name),
    )
