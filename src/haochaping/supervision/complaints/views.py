"""综合点评 pages (/work/intake/): the list, the intake form for walk-ins, 意见箱 slips, phone calls and platform
items, and a complaint's page (its files, its case, the complainant's contact revealed with a logged reason).
For the management agency's supervisors and 12345 operators (as rectification's complaint form). Thin: each
form calls one service and shows a refusal next to the field it names."""

from __future__ import annotations

from axes.helpers import get_client_ip_address
from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from haochaping.catalog.models import ServiceItem
from haochaping.core.problems import DomainError
from haochaping.core.scoping import scope
from haochaping.org.models import Department, Staff
from haochaping.records.models import ServiceRecord
from haochaping.rectification.downloads import attachment_response
from haochaping.rectification.views.common import may_open_complaint, visible_cases, workbench_view
from haochaping.rectification.views.forms import ContactForm, MultipleFileField, show_error

from . import rules, services
from .models import Nature, SocialReview, Source

PAGE_SIZE = 50
# Sources a person types in; e-mail comes from the mailbox reader.
TYPED_SOURCES = [(s.value, s.label) for s in Source if s != Source.EMAIL]


def visible_complaints(user):
    return scope(SocialReview.objects.all(), user)


class IntakeForm(forms.Form):
    required_css_class = "required"

    source = forms.ChoiceField(label=gettext_lazy("来源"), choices=TYPED_SOURCES,
                               error_messages={"required": gettext_lazy("请选择来源")})
    nature = forms.ChoiceField(label=gettext_lazy("性质"), choices=Nature.choices, initial=Nature.COMPLAINT)
    reference = forms.CharField(label=gettext_lazy("工单编号或平台编号"), required=False, max_length=rules.MAX_REFERENCE,
                                help_text=gettext_lazy("12345热线、监督平台来件必填；同一编号只登记一次"))
    summary = forms.CharField(label=gettext_lazy("内容"), max_length=rules.MAX_TEXT,
                              widget=forms.Textarea(attrs={"rows": 5}),
                              error_messages={"required": gettext_lazy("请填写投诉或建议的内容")})
    department = forms.ModelChoiceField(label=gettext_lazy("被投诉单位"), queryset=Department.objects.none(),
                                        required=False)
    project_no = forms.CharField(label=gettext_lazy("涉及的办件编号"), required=False, max_length=64)
    staff_no = forms.CharField(label=gettext_lazy("涉及工作人员工号"), required=False, max_length=40)
    item = forms.CharField(label=gettext_lazy("涉及事项实施编码"), required=False, max_length=64)
    name = forms.CharField(label=gettext_lazy("投诉人姓名"), required=False, max_length=50,
                           help_text=gettext_lazy("加密保存，页面上脱敏显示"))
    phone = forms.CharField(label=gettext_lazy("投诉人电话"), required=False, max_length=20)
    email = forms.CharField(label=gettext_lazy("投诉人电子邮箱"), required=False, max_length=254)
    files = MultipleFileField(label=gettext_lazy("附件"), help_text=gettext_lazy("JPG、PNG 图片或 PDF 文件，最多10个"))

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments


class ComplaintFilter(forms.Form):
    source = forms.ChoiceField(label=gettext_lazy("来源"), required=False,
                               choices=[("", gettext_lazy("全部"))] + list(Source.choices))
    nature = forms.ChoiceField(label=gettext_lazy("性质"), required=False,
                               choices=[("", gettext_lazy("全部"))] + list(Nature.choices))


def _lookup(form, user, queryset, field: str, lookup: str, message: str):
    value = (form.cleaned_data.get(field) or "").strip()
    if not value:
        return None
    row = scope(queryset, user).filter(**{lookup: value}).first()
    if row is None:
        form.add_error(field, message)
    return row


@workbench_view(allow=may_open_complaint)
def complaint_list(request):
    form = ComplaintFilter(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    qs = visible_complaints(request.user).select_related("department", "agency", "staff", "item", "case")
    if data.get("source"):
        qs = qs.filter(source=data["source"])
    if data.get("nature"):
        qs = qs.filter(nature=data["nature"])
    page = Paginator(qs.order_by("-received_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "supervision/complaint_list.html", {
        "form": form, "page": page, "query": params.urlencode(), "workbench_section": "intake",
    })


@workbench_view(allow=may_open_complaint)
@require_http_methods(["GET", "POST"])
def complaint_new(request):
    user = request.user
    departments = scope(Department.objects.filter(is_active=True), user).order_by("region_id", "sector", "name")
    # ?source=hotline from the 12345 operator's pages: the form opens with its source chosen.
    source = request.GET.get("source", "")
    initial = {"source": source} if source in dict(TYPED_SOURCES) else {}
    form = IntakeForm(request.POST or None, request.FILES or None, departments=departments, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            record = _lookup(form, user, ServiceRecord.objects.select_related("department", "agency", "item"),
                             "project_no", "project_no", _("没有找到这个办件编号，请核对"))
            staff = _lookup(form, user, Staff.objects.select_related("department", "agency"), "staff_no", "staff_no",
                            _("没有找到这个工号，请核对"))
            item = _lookup(form, user, ServiceItem.objects.select_related("department"), "item",
                           "implementation_code", _("没有找到这个事项实施编码，请核对"))
            if not form.errors:
                data = form.cleaned_data
                try:
                    registered = services.register(services.ComplaintInput(
                        source=data["source"], nature=data["nature"], reference=data["reference"],
                        summary=data["summary"], name=data["name"], phone=data["phone"], email=data["email"],
                        department=data["department"], record=record, staff=staff, item=item,
                        files=data["files"],
                    ), actor=user)
                except DomainError as exc:
                    show_error(form, exc)
                    status = exc.status
                else:
                    complaint = registered.complaint
                    if not registered.created and not visible_complaints(user).filter(pk=complaint.pk).exists():
                        form.add_error("reference", _("该编号已由其他地区登记"))
                        return render(request, "supervision/complaint_new.html",
                                      {"form": form, "workbench_section": "intake_new"}, status=409)
                    if registered.created:
                        messages.success(request, _("已登记，整改案件编号%(no)06d") % {"no": complaint.case_id})
                    else:
                        messages.info(request, _("该编号此前已登记，未重复登记"))
                    return redirect("intake:detail", complaint_id=complaint.pk)
    return render(request, "supervision/complaint_new.html", {"form": form, "workbench_section": "intake_new"},
                  status=status)


def _get(user, complaint_id: int) -> SocialReview:
    complaint = (visible_complaints(user).select_related("department", "agency", "staff", "item", "record", "case",
                                                         "registered_by")
                 .filter(pk=complaint_id).first())
    if complaint is None:
        raise Http404(_("没有这条投诉或建议"))
    return complaint


def _detail(request, complaint: SocialReview, *, form=None, revealed=None, status=200):
    fields = services.contact_fields(complaint, request.user)
    response = render(request, "supervision/complaint_detail.html", {
        "complaint": complaint, "attachments": complaint.attachments.all(),
        "case_visible": visible_cases(request.user).filter(pk=complaint.case_id).exists(),
        "contact_form": form or (ContactForm(fields=fields, prefix="contact") if fields else None),
        "revealed": revealed, "workbench_section": "intake",
    }, status=status)
    if revealed:
        add_never_cache_headers(response)  # the clear value must not stay in a browser or proxy cache
    return response


@workbench_view(allow=may_open_complaint)
@require_http_methods(["GET", "POST"])
def complaint_detail(request, complaint_id: int):
    complaint = _get(request.user, complaint_id)
    if request.method != "POST":
        return _detail(request, complaint)
    fields = services.contact_fields(complaint, request.user)
    form = ContactForm(request.POST, fields=fields, prefix="contact")
    form.is_valid()  # the service decides
    field = request.POST.get("contact-field", "")
    try:
        value = services.reveal_contact(complaint, field, request.POST.get("contact-reason", ""),
                                        actor=request.user, ip=get_client_ip_address(request))
    except DomainError as exc:
        if exc.status == 404:
            raise Http404(exc.detail) from exc
        if exc.status == 403:
            return render(request, "rectification/forbidden.html", {"step": _("查看联系方式")}, status=403)
        form.errors.clear()
        show_error(form, exc)
        return _detail(request, complaint, form=form, status=exc.status)
    return _detail(request, complaint, revealed={"label": dict(fields).get(field, ""), "value": value})


@workbench_view(allow=may_open_complaint)
def complaint_file(request, complaint_id: int, file_id: int):
    complaint = _get(request.user, complaint_id)
    item = complaint.attachments.filter(pk=file_id).first()
    if item is None:
        raise Http404(_("没有这个附件"))
    try:
        return attachment_response(item)
    except FileNotFoundError:
        raise Http404(_("附件文件已不存在")) from None
