"""Workbench forms: they only parse what was typed (dates, choices, files). Whether a step is allowed and what it
must state is decided by the services (rules.py); their refusals are put back on these forms next to the field
they name (:func:`show_error`)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haochaping.accounts.models import User
from haochaping.accounts.roles import Role
from haochaping.core.problems import DomainError
from haochaping.rectification import rules
from haochaping.rectification.rules import MAX_TEXT, CallbackMethod, Outcome


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files (the services check type and size with core.uploads)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


def _text(label, *, required=True, rows=3, help_text=""):
    return forms.CharField(
        label=label, required=required, max_length=MAX_TEXT, help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"required": _("请填写%(label)s") % {"label": label}},
    )


class WorkbenchForm(forms.Form):
    """Required fields are still checked by the services (so the API says the same); the form marks them."""

    required_css_class = "required"


def show_error(form: forms.Form, exc: DomainError) -> None:
    """Put a service's refusal next to the field it names (all of them when it names several)."""
    problems = exc.extra.get("errors") or [{"field": exc.field, "message": exc.detail or exc.title}]
    for problem in problems:
        field = problem.get("field")
        field = ALIASES.get(field, field)
        form.add_error(field if field in form.fields else None, problem.get("message") or exc.title)


# Service field names that a form shows under another name.
ALIASES = {"text": "answer", "upheld": "approve", "record": "project_no"}


class AssignForm(WorkbenchForm):
    assignee = forms.ModelChoiceField(
        label=_("承办人"), queryset=User.objects.none(), empty_label=_("请选择"),
        error_messages={"required": _("请选择承办人"), "invalid_choice": _("承办人须为责任单位在岗的经办人员")},
    )

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        unit = Q(department_id=case.department_id)
        if case.agency_id:
            unit |= Q(agency_id=case.agency_id)
        self.fields["assignee"].queryset = User.objects.filter(unit, role=Role.HANDLER, is_active=True).order_by("username")


class TransferForm(WorkbenchForm):
    """转办: to one of the units the 办件 names (services.transfer_choices); the service re-checks everything."""

    department = forms.TypedChoiceField(
        label=_("转至单位"), coerce=int, choices=(),
        error_messages={"required": _("请选择转至的单位"), "invalid_choice": _("只能转给该办件的办理部门、窗口入驻部门或平台运营单位")},
    )
    reason = _text(_("转办理由"), rows=2, help_text=_("写明核实后发现问题属于哪个单位，例如“经核实系网上申报系统登录故障”。转办不改变办理期限。"))

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        from haochaping.rectification import services

        choices = [(d.pk, d.name) for d in services.transfer_choices(case)] if case is not None else []
        self.fields["department"].choices = [("", _("请选择"))] + choices


class ContactForm(WorkbenchForm):
    """查看联系方式 (R7.2): which field and why; accounts.privacy.reveal logs the access with the reason."""

    field = forms.ChoiceField(label=_("要查看的信息"), choices=(), error_messages={"required": _("请选择要查看的信息")})
    reason = forms.CharField(
        label=_("查看理由"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("至少5个字，例如“差评回访，电话联系评价人核实情况”。理由与查看记录一并保存，供监督人员审查。"),
        error_messages={"required": _("请写明查看理由")},
    )

    def __init__(self, *args, fields=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = list(fields)


class CallbackForm(WorkbenchForm):
    # Seconds too (step=1) and "now" to start with: a callback made right after the case opened, in the same
    # minute, must not read as earlier than the opening.
    at = forms.DateTimeField(
        label=_("回访时间"), initial=lambda: timezone.localtime().replace(microsecond=0),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"),
        error_messages={"required": _("请填写回访时间"), "invalid": _("回访时间格式不正确")},
    )
    method = forms.ChoiceField(
        label=_("回访方式"), choices=CallbackMethod.choices, widget=forms.RadioSelect,
        error_messages={"required": _("请选择回访方式：电话、短信、面谈或网上留言")},
    )
    reached = forms.TypedChoiceField(
        label=_("是否联系上评价人"), choices=[("1", _("已联系上")), ("0", _("未联系上"))], widget=forms.RadioSelect,
        coerce=lambda v: v == "1", error_messages={"required": _("请说明是否联系上评价人")},
    )
    contact = _text(_("联系对象或未联系上的原因"), rows=2, help_text=_("不要填写评价人的手机号等个人信息"))
    facts = _text(_("核实情况"))

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        person = {"person": rules.counterpart(case.kind if case is not None else "")}
        self.fields["reached"].label = _("是否联系上%(person)s") % person
        self.fields["reached"].error_messages["required"] = _("请说明是否联系上%(person)s") % person
        self.fields["contact"].help_text = _("不要填写%(person)s的手机号等个人信息") % person
        if case is not None and not case.is_real_name:
            # An anonymous evaluator left no way to call back: say what the callback is then.
            self.fields["reached"].help_text = _(
                "匿名%(person)s没有留下联系方式：请选择“未联系上”，原因写“匿名”，再向办件经办人、窗口负责人核实情况，"
                "写在“核实情况”中") % person


class OutcomeForm(WorkbenchForm):
    outcome = forms.ChoiceField(
        label=_("处理结果"), choices=Outcome.choices, widget=forms.RadioSelect,
        error_messages={"required": _("请选择处理结果：立行立改、限期整改、解释说明、误评或恶意差评")},
    )
    detail = _text(_("整改内容或解释说明"), required=False, help_text=_("立行立改：已整改的内容；解释说明：向评价人所作的解释"))
    legal_basis = _text(_("依据"), required=False, rows=2, help_text=_("解释说明须写明依据的法律法规或政策"))
    problem = _text(_("存在问题"), required=False, rows=2, help_text=_("限期整改：台账"))
    measures = _text(_("整改措施"), required=False, rows=2, help_text=_("限期整改：台账"))
    responsible_person = forms.CharField(label=_("责任人"), required=False, max_length=50, help_text=_("限期整改：台账"))
    deadline = forms.DateField(
        label=_("整改期限"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("限期整改：不晚于限期整改期限；确需延期的写明延期理由，报监督人员批准"),
        error_messages={"invalid": _("整改期限应为日期，如 2026-05-20")},
    )
    extension_reason = _text(_("延期理由"), required=False, rows=2, help_text=_("仅在整改期限晚于限期整改期限时填写"))
    evidence = _text(_("核实证据"), required=False, help_text=_("误评或恶意差评：核实的证据；经监督人员确认后生效"))
    files = MultipleFileField(label=_("证据材料"), help_text=_("误评或恶意差评的证据文件，可多选"))

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        if case is not None and case.rectify_due:
            # The date itself, before anyone picks a later one and learns it from the refusal.
            self.fields["deadline"].help_text = _(
                "限期整改：不晚于限期整改期限%(due)s；确需延期的写明延期理由，报监督人员批准") % {
                "due": case.rectify_due.isoformat()}
            self.fields["extension_reason"].help_text = _("仅在整改期限晚于%(due)s时填写") % {
                "due": case.rectify_due.isoformat()}


class ProgressForm(WorkbenchForm):
    note = _text(_("整改进展"))


class CompleteForm(WorkbenchForm):
    evidence = _text(_("整改佐证说明"))
    files = MultipleFileField(label=_("佐证材料"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = _("整改完成的照片或文件：JPG、PNG 图片或 PDF 文件，每个不超过 %(mb)s MB，可多选") % {
            "mb": settings.HAOCHAPING_MAX_UPLOAD_MB}


class AnswerForm(WorkbenchForm):
    answer = _text(_("答复评价人"), rows=4, help_text=_("说明核实的情况和处理结果；评价人可在评价回执页查看"))

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        if case is not None and case.kind == rules.Kind.COMPLAINT:
            self.fields["answer"].label = _("答复%(person)s") % {"person": rules.counterpart(case.kind)}
            self.fields["answer"].help_text = _("说明核实的情况和处理结果")


class CloseForm(WorkbenchForm):
    note = _text(_("办结说明"), required=False, rows=2)


class NoteForm(WorkbenchForm):
    """A supervision note, a send-back or a rejection: the note is what the case page and the unit read. Required,
    but the service says so, with the words of the step ("请写明退回重办的理由")."""

    note = _text(_("意见"), required=False)


class ConfirmForm(WorkbenchForm):
    note = _text(_("确认意见"), required=False, rows=2)


class ExtensionForm(WorkbenchForm):
    approve = forms.TypedChoiceField(
        label=_("延期申请"), choices=[("1", _("批准延期")), ("0", _("不予批准"))], widget=forms.RadioSelect,
        coerce=lambda v: v == "1", error_messages={"required": _("请选择批准或不予批准")},
    )
    note = _text(_("审批意见"), required=False, rows=2)


class ComplaintForm(WorkbenchForm):
    project_no = forms.CharField(label=_("办件编号"), required=False, max_length=64,
                                 help_text=_("投诉某一办件的，填写办件编号；否则选择被投诉部门"))
    department = forms.ModelChoiceField(label=_("被投诉部门"), required=False, queryset=None, empty_label=_("请选择"))
    summary = _text(_("投诉内容"), rows=5, help_text=_("不要填写投诉人的手机号、身份证号等个人信息"))
    is_real_name = forms.BooleanField(label=_("实名投诉"), required=False)

    def __init__(self, *args, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments

