"""The management agency's survey pages (/work/surveys/): the list, a new or edited draft, a survey's page (its
questions, launch, revise, close, SMS invitations, web link and QR code) and its results (charts, filters,
Excel). Thin: each form calls one service and shows a refusal next to the field it names."""

from __future__ import annotations

import segno
from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from haochaping.catalog.models import ServiceItem
from haochaping.core.problems import DomainError
from haochaping.core.scoping import scope
from haochaping.org.models import Region
from haochaping.rectification.views.common import workbench_view

from . import results, rules, services
from .models import Channel, Identity, SurveyStatus

LIST_SIZE = 200


def _manager(user) -> bool:
    return services.may_manage(user)


def _survey(request, survey_id):
    survey = (services.visible_surveys(request.user).select_related("target_region", "target_item", "previous")
              .filter(pk=survey_id).first())
    if survey is None:
        raise Http404(_("没有这份问卷"))
    return survey


class SurveyForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("问卷标题"), max_length=200,
                            error_messages={"required": gettext_lazy("请填写问卷标题")})
    description = forms.CharField(label=gettext_lazy("说明（显示在问卷开头）"), required=False, max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    identity = forms.ChoiceField(label=gettext_lazy("作答方式"), choices=Identity.choices, widget=forms.RadioSelect,
                                 initial=Identity.ANONYMOUS)
    target_region = forms.ChoiceField(label=gettext_lazy("调查范围（行政区划及其下级）"))
    target_item = forms.ChoiceField(label=gettext_lazy("调查事项（可不选）"), required=False)
    completed_from = forms.DateField(label=gettext_lazy("办结日期起（向该期间办结该事项的人发送短信）"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}))
    completed_to = forms.DateField(label=gettext_lazy("办结日期止"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        regions = scope(Region.objects.all(), user).order_by("code")[:500]
        self.fields["target_region"].choices = [(r.code, f"{r.name}（{r.code}）") for r in regions]
        items = scope(ServiceItem.objects.all(), user).order_by("name", "pk").only("pk", "name")[:1000]
        self.fields["target_item"].choices = [("", _("全部事项"))] + [(str(i.pk), i.name) for i in items]


class QuestionForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("题目"), max_length=500,
                           error_messages={"required": gettext_lazy("请填写题目")})
    kind = forms.ChoiceField(label=gettext_lazy("题型"), choices=rules.Kind.choices)
    theme = forms.ChoiceField(label=gettext_lazy("主题"), choices=rules.Theme.choices)
    options = forms.CharField(label=gettext_lazy("选项（选择题填写，每行一个）"), required=False,
                              widget=forms.Textarea(attrs={"rows": 4}))
    scale_max = forms.IntegerField(label=gettext_lazy("量表最高分（量表题）"), required=False, initial=5,
                                   min_value=rules.SCALE_MIN_MAX, max_value=rules.SCALE_MAX_MAX)
    required = forms.BooleanField(label=gettext_lazy("必答"), required=False, initial=True)


def _input(data) -> services.SurveyInput:
    return services.SurveyInput(
        title=data["title"], description=data["description"], identity=data["identity"],
        target_region=data["target_region"], target_item=int(data["target_item"]) if data["target_item"] else None,
        completed_from=data["completed_from"], completed_to=data["completed_to"])


@workbench_view(allow=_manager)
def survey_list(request):
    surveys = (services.visible_surveys(request.user).select_related("target_region", "target_item")
               .order_by("-created_at", "-pk")[:LIST_SIZE])
    return render(request, "supervision/surveys/list.html", {"surveys": surveys, "workbench_section": "surveys"})


@workbench_view(allow=_manager)
def survey_edit(request, survey_id: int | None = None):
    survey = _survey(request, survey_id) if survey_id else None
    if survey is not None and survey.status != SurveyStatus.DRAFT:
        messages.error(request, _("已发布的问卷不能修改；请“修订为新版本”"))
        return redirect("surveys:detail", survey_id=survey.pk)
    initial = {}
    if survey is not None:
        initial = {"title": survey.title, "description": survey.description, "identity": survey.identity,
                   "target_region": survey.target_region_id, "target_item": survey.target_item_id or "",
                   "completed_from": survey.completed_from, "completed_to": survey.completed_to}
    form = SurveyForm(request.POST or None, user=request.user, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                if survey is None:
                    survey = services.create_survey(_input(form.cleaned_data), actor=request.user)
                else:
                    services.update_survey(survey.pk, _input(form.cleaned_data), actor=request.user)
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.detail)
            else:
                messages.success(request, _("问卷已保存"))
                return redirect("surveys:detail", survey_id=survey.pk)
        status = 422
    return render(request, "supervision/surveys/edit.html", {"form": form, "survey": survey,
                                                              "workbench_section": "surveys"}, status=status)


@workbench_view(allow=_manager)
def survey_detail(request, survey_id: int):
    survey = _survey(request, survey_id)
    form = QuestionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.add_question(survey.pk, services.QuestionInput(
                    kind=d["kind"], text=d["text"], theme=d["theme"], required=d["required"],
                    options=d["options"].splitlines(), scale_max=d["scale_max"]), actor=request.user)
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.detail)
            else:
                messages.success(request, _("题目已添加"))
                return redirect("surveys:detail", survey_id=survey.pk)
        status = 422
    return render(request, "supervision/surveys/detail.html", {
        "survey": survey, "questions": survey.questions.order_by("position"), "form": form,
        "public_link": services.public_link(survey), "qr_link": services.public_link(survey) + "?c=qr",
        "invitations": survey.invitations.count(), "sent": survey.invitations.filter(sent_ok=True).count(),
        "responses": survey.responses.count(), "next_version": getattr(survey, "next_version", None),
        "targets": services.target_records(survey).values("applicant_phone_index").distinct().count()
        if survey.target_item_id else None,
        "workbench_section": "surveys",
    }, status=status)


def _act(request, survey_id, action, done: str):
    survey = _survey(request, survey_id)
    try:
        result = action(survey.pk)
    except DomainError as exc:
        messages.error(request, exc.detail)
        return redirect("surveys:detail", survey_id=survey.pk)
    messages.success(request, done)
    return redirect("surveys:detail", survey_id=getattr(result, "pk", survey.pk))


@require_POST
@workbench_view(allow=_manager)
def survey_launch(request, survey_id: int):
    return _act(request, survey_id, lambda pk: services.launch(pk, actor=request.user), _("问卷已发布，题目不再可改"))


@require_POST
@workbench_view(allow=_manager)
def survey_revise(request, survey_id: int):
    return _act(request, survey_id, lambda pk: services.revise(pk, actor=request.user),
                _("已生成新版本草稿；原版本的答卷保留在原版本，新版本发布时原版本结束"))


@require_POST
@workbench_view(allow=_manager)
def survey_close(request, survey_id: int):
    return _act(request, survey_id, lambda pk: services.close(pk, actor=request.user), _("问卷已结束"))


@require_POST
@workbench_view(allow=_manager)
def question_remove(request, survey_id: int, question_id: int):
    return _act(request, survey_id, lambda pk: services.remove_question(pk, question_id, actor=request.user),
                _("题目已删除"))


@require_POST
@workbench_view(allow=_manager)
def survey_send(request, survey_id: int):
    survey = _survey(request, survey_id)
    try:
        sent = services.send_invitations(survey.pk, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("短信邀请：发送%(sent)s条，失败%(failed)s条，此前已邀请%(already)s人") % {
            "sent": sent.sent, "failed": sent.failed, "already": sent.already})
    return redirect("surveys:detail", survey_id=survey.pk)


@workbench_view(allow=_manager)
def survey_qr(request, survey_id: int):
    survey = _survey(request, survey_id)
    svg = segno.make(services.public_link(survey) + "?c=qr", error="m").svg_inline(scale=6, border=2, title=survey.title)
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="survey-{survey.pk}-qr.svg"'
    return response


class ResultFilter(forms.Form):
    region = forms.ChoiceField(label=gettext_lazy("行政区划"), required=False)
    item = forms.ChoiceField(label=gettext_lazy("事项"), required=False)
    channel = forms.ChoiceField(label=gettext_lazy("渠道"), required=False,
                                choices=[("", gettext_lazy("全部"))] + list(Channel.choices))
    start = forms.DateField(label=gettext_lazy("提交日期起"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("提交日期止"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, survey, **kwargs):
        super().__init__(*args, **kwargs)
        regions = Region.objects.subtree(survey.target_region_id).order_by("code")[:500]
        self.fields["region"].choices = [("", _("全部"))] + [(r.code, r.name) for r in regions]
        item_ids = survey.responses.exclude(item=None).values_list("item_id", flat=True).distinct()
        items = ServiceItem.objects.filter(pk__in=item_ids).order_by("name")
        self.fields["item"].choices = [("", _("全部"))] + [(str(i.pk), i.name) for i in items]

    def filters(self) -> results.Filters:
        if not self.is_bound or not self.is_valid():
            return results.Filters()
        d = self.cleaned_data
        return results.Filters(region=d["region"], item=int(d["item"]) if d["item"] else None, channel=d["channel"],
                               start=d["start"], end=d["end"])


@workbench_view(allow=_manager)
def survey_results(request, survey_id: int):
    survey = _survey(request, survey_id)
    form = ResultFilter(request.GET or None, survey=survey)
    filters = form.filters()
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(results.export_xlsx(survey, filters),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="survey-{survey.pk}-v{survey.version}.xlsx"'
        return response
    total, rows = results.summary(survey, filters)
    params = request.GET.copy()
    params["format"] = "xlsx"
    return render(request, "supervision/surveys/results.html", {
        "survey": survey, "form": form, "total": total, "rows": rows, "export_query": params.urlencode(),
        "workbench_section": "surveys",
    }, status=200 if not form.is_bound or form.is_valid() else 422)
