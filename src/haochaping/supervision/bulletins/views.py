"""通报 pages (/work/bulletins/): supervisors issue bulletins and see which units have not acknowledged; a unit's
handlers read the bulletins sent to it and acknowledge receipt. Thin: each form calls one service."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from haochaping.core.problems import DomainError
from haochaping.core.scoping import scope
from haochaping.rectification.views.common import is_supervisor, may_use_workbench, workbench_view
from haochaping.rectification.views.forms import show_error

from . import services
from .models import Bulletin, BulletinKind

PAGE_SIZE = 50


def _issuer(user) -> bool:
    return user.is_active and is_supervisor(user)


class BulletinForm(forms.Form):
    required_css_class = "required"

    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=BulletinKind.choices, widget=forms.RadioSelect,
                             error_messages={"required": gettext_lazy("请选择通报类型（典型差评案例或典型经验）")})
    title = forms.CharField(label=gettext_lazy("标题"), max_length=services.MAX_TITLE,
                            error_messages={"required": gettext_lazy("请填写标题")})
    body = forms.CharField(label=gettext_lazy("正文"), max_length=services.MAX_BODY,
                           widget=forms.Textarea(attrs={"rows": 12}),
                           error_messages={"required": gettext_lazy("请填写正文")},
                           help_text=gettext_lazy("通报的案例、原因分析与要求。不要写入群众的姓名、电话等个人信息。"))


@workbench_view(allow=may_use_workbench)
def bulletin_list(request):
    user = request.user
    qs = scope(Bulletin.objects.all(), user).select_related("region").annotate(
        total=Count("recipients", distinct=True),
        acknowledged=Count("recipients", filter=Q(recipients__acknowledged_at__isnull=False), distinct=True),
    )
    page = Paginator(qs.order_by("-issued_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    own = {}
    if not is_supervisor(user):
        for bulletin in page.object_list:
            rows = services.own_recipients(bulletin, user)
            own[bulletin.pk] = rows.exists() and not rows.filter(acknowledged_at__isnull=True).exists()
    rows = [(b, own.get(b.pk)) for b in page.object_list]
    return render(request, "supervision/bulletin_list.html", {
        "page": page, "rows": rows, "issuer": is_supervisor(user), "query": "", "workbench_section": "bulletins",
    })


@workbench_view(allow=_issuer)
@require_http_methods(["GET", "POST"])
def bulletin_new(request):
    form = BulletinForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                bulletin = services.issue(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                show_error(form, exc)
                status = exc.status
            else:
                messages.success(request, _("通报已印发，共%(n)d个单位") % {"n": bulletin.recipients.count()})
                return redirect("bulletins:detail", bulletin_id=bulletin.pk)
    return render(request, "supervision/bulletin_new.html", {"form": form, "workbench_section": "bulletins"},
                  status=status)


@workbench_view(allow=may_use_workbench)
@require_http_methods(["GET", "POST"])
def bulletin_detail(request, bulletin_id: int):
    user = request.user
    bulletin = scope(Bulletin.objects.all(), user).select_related("region", "issued_by").filter(pk=bulletin_id).first()
    if bulletin is None:
        raise Http404(_("没有这份通报"))
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "publish":
                services.publish(bulletin.pk, actor=user)
                messages.success(request, _("通报已公开，门户网站可以看到"))
            else:
                done = services.acknowledge(bulletin.pk, actor=user)
                messages.success(request, _("已签收") if done.newly else _("本单位此前已签收"))
        except DomainError as exc:
            if exc.status == 403:
                return render(request, "rectification/forbidden.html", {"step": _("签收或公开通报")}, status=403)
            messages.error(request, exc.detail)
        return redirect("bulletins:detail", bulletin_id=bulletin.pk)
    issuer = is_supervisor(user)
    recipients = bulletin.recipients.select_related("department", "agency", "acknowledged_by")
    own = services.own_recipients(bulletin, user) if not issuer else None
    return render(request, "supervision/bulletin_detail.html", {
        "bulletin": bulletin, "issuer": issuer,
        "may_publish": issuer and services.is_issuer(user) and user.region_id == bulletin.region_id,
        "pending": services.pending(bulletin) if issuer else [],
        "recipients": recipients if issuer else [],
        "acknowledged": recipients.filter(acknowledged_at__isnull=False).count(),
        "total": recipients.count(),
        "own_pending": own is not None and own.filter(acknowledged_at__isnull=True).exists(),
        "own_received": own is not None and own.exists(),
        "workbench_section": "bulletins",
    })
