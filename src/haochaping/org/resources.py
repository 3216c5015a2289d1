"""Bulk import and export of the organisation (R2.1) with django-import-export.

Files use Chinese column headers and natural keys (region by code, department by credit code, agency by
code, window by agency code + window code), so a spreadsheet kept by a province can be loaded as is.
An import is all or nothing: one bad row and nothing of the file is written, and the row (numbered as in
the spreadsheet, the header being row 1) is reported with a Chinese message naming the column.
"""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, ValidationError
from import_export import resources
from import_export.fields import Field
from import_export.instance_loaders import ModelInstanceLoader
from import_export.results import Result
from import_export.widgets import CharWidget, ForeignKeyWidget, ManyToManyWidget, Widget

from haochaping.core.admin_scoping import in_scope, out_of_scope_message, scope_field_names
from haochaping.core.scoping import can_see, visibility_for

from . import rules
from .models import Department, ManagementAgency, Platform, Region, ServiceAgency, Staff, Window

TRUE_WORDS = {"是", "1", "true", "yes", "y", "在用", "在岗"}
FALSE_WORDS = {"否", "0", "false", "no", "n", "停用", "离岗"}


def cell_text(value) -> str:
    """A spreadsheet cell as trimmed text. Excel turns a code such as 370102 into a number; undo that."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


class TextWidget(CharWidget):
    """Trimmed text; blank becomes None when the model column is nullable (e.g. an optional unique code)."""

    def __init__(self, *, null: bool = False, upper: bool = False):
        super().__init__(allow_blank=not null)
        self.null = null
        self.upper = upper

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if not text:
            return None if self.null else ""
        return text.upper() if self.upper else text


class YesNoWidget(Widget):
    def clean(self, value, row=None, **kwargs):
        text = cell_text(value).lower()
        if not text:
            return None
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        raise ValueError(f"“{cell_text(value)}”应填“是”或“否”")

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return "是" if value else "否"


class ChoiceWidget(Widget):
    """Accepts a choice's code or its Chinese label; exports the label, which is what people read."""

    def __init__(self, choices):
        super().__init__()
        self.choices = [(str(code), str(label)) for code, label in choices]

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if not text:
            return ""
        for code, label in self.choices:
            if text in (code, label):
                return code
        allowed = "、".join(label for _code, label in self.choices)
        raise ValueError(f"“{text}”不是可选值（可选：{allowed}）")

    def render(self, value, obj=None, **kwargs):
        return dict(self.choices).get(str(value), "" if value is None else str(value))


class CodeWidget(ForeignKeyWidget):
    """A foreign key written as the related row's natural key, e.g. a region's code."""

    def __init__(self, model, field: str, label: str):
        super().__init__(model, field)
        self.label = label

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if not text:
            return None
        try:
            return self.get_instance_by_lookup_fields(text, row, **kwargs)
        except ObjectDoesNotExist:
            raise ValueError(f"{self.label}“{text}”不存在") from None


class CodesWidget(ManyToManyWidget):
    """Several natural keys in one cell, separated by commas or semicolons (half- or full-width)."""

    def __init__(self, model, field: str, label: str):
        super().__init__(model, separator="；", field=field)
        self.label = label

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        for sep in (",", "，", ";", "、"):
            text = text.replace(sep, "；")
        codes = list(dict.fromkeys(c.strip() for c in text.split("；") if c.strip()))
        found = self.model.objects.filter(**{f"{self.field}__in": codes})
        missing = set(codes) - {getattr(obj, self.field) for obj in found}
        if missing:
            raise ValueError(f"{self.label}“{'、'.join(sorted(missing))}”不存在")
        return found


class SpreadsheetResult(Result):
    """Row numbers as the spreadsheet shows them: the header is row 1, the first data row is row 2."""

    def append_invalid_row(self, number, row, validation_error):
        super().append_invalid_row(number + 1, row, validation_error)

    def row_errors(self):
        return [(number + 1, errors) for number, errors in super().row_errors()]


class NaturalKeyInstanceLoader(ModelInstanceLoader):
    """Finds the existing row by the natural key; an unknown key means a new row (the bad reference is
    then reported by the field, with its column, instead of as an internal error)."""

    def get_instance(self, row):
        try:
            return super().get_instance(row)
        except (ValueError, ObjectDoesNotExist):
            return None


class ChineseModelResource(resources.ModelResource):
    """Shared behaviour: validated with the models' own rules, atomic, errors keyed by Chinese column."""

    @classmethod
    def get_result_class(cls):
        return SpreadsheetResult

    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None, collect_failed_rows=False,
                    rollback_on_validation_errors=False, **kwargs):
        # One bad row and nothing of the file is written, also on the confirming (non dry-run) pass.
        return super().import_data(
            dataset, dry_run=dry_run, raise_errors=raise_errors, use_transactions=True,
            collect_failed_rows=collect_failed_rows, rollback_on_validation_errors=True, **kwargs,
        )

    def column_for(self, attribute: str) -> str:
        for field in self.get_import_fields():
            if field.attribute == attribute:
                return field.column_name
        return attribute

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        try:
            super().validate_instance(instance, import_validation_errors, validate_unique)
        except ValidationError as e:
            errors = {}
            for key, messages in e.message_dict.items():
                errors[key if key == NON_FIELD_ERRORS else self.column_for(key)] = messages
            raise ValidationError(errors) from None

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        # The admin passes the importing user: an administrator of a region may only write rows of that region.
        user = kwargs.get("user")
        if user is not None and instance.pk is not None and not can_see(user, instance):
            errors[self._meta.import_id_fields[0]] = [out_of_scope_message(user)]
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as e:
            errors = e.update_error_dict(errors)
        try:
            self.check_row(instance, row)
        except ValidationError as e:
            errors = e.update_error_dict(errors)
        if user is not None and not errors and not in_scope(instance, visibility_for(user)):
            names = [n for n in scope_field_names(type(instance)) if n in self.fields]
            errors[names[0] if names else NON_FIELD_ERRORS] = [out_of_scope_message(user)]
        if errors:
            raise ValidationError(errors)

    def check_row(self, instance, row) -> None:
        """Rules across columns; raise ValidationError({attribute: message})."""


def resource_meta(model, fields, import_id_fields):
    """The Meta every resource here shares: validated by the model, natural-key lookup, unchanged rows skipped."""
    return type(
        "Meta",
        (),
        {
            "model": model,
            "fields": fields,
            "export_order": fields,
            "import_id_fields": import_id_fields,
            "instance_loader_class": NaturalKeyInstanceLoader,
            "clean_model_instances": True,
            "skip_unchanged": True,
            "report_skipped": True,
            "use_transactions": True,
        },
    )


def region_field(column: str = "行政区划代码", attribute: str = "region") -> Field:
    return Field(attribute=attribute, column_name=column, widget=CodeWidget(Region, "code", "行政区划代码"))


def department_field(column: str, attribute: str) -> Field:
    return Field(attribute=attribute, column_name=column, widget=CodeWidget(Department, "credit_code", "统一社会信用代码"))


def agency_field(attribute: str = "agency") -> Field:
    return Field(attribute=attribute, column_name="机构编码", widget=CodeWidget(ServiceAgency, "code", "机构编码"))


def active_field(column: str = "在用") -> Field:
    return Field(attribute="is_active", column_name=column, widget=YesNoWidget(), default=True)


class RegionResource(ChineseModelResource):
    code = Field(attribute="code", column_name="行政区划代码", widget=TextWidget())
    name = Field(attribute="name", column_name="名称", widget=TextWidget())
    level = Field(attribute="level", column_name="层级", widget=ChoiceWidget(Region.Level.choices), readonly=True)
    parent = region_field("上级区划代码", "parent")

    Meta = resource_meta(Region, ("code", "name", "level", "parent"), ("code",))

    def check_row(self, instance, row):
        if not rules.is_region_code(instance.code or ""):
            return  # the model's validator names the problem
        # The level follows from the code; an empty parent means the nearest region already loaded.
        instance.level = rules.region_level(instance.code)
        if instance.parent_id is None:
            known = set(Region.objects.filter(code__in=rules.ancestor_candidates(instance.code)).values_list("code", flat=True))
            instance.parent_id = rules.nearest_parent_code(instance.code, known)
        elif not rules.is_ancestor(instance.parent_id, instance.code):
            raise ValidationError({"parent": f"“{instance.parent_id}”不是“{instance.code}”的上级区划"})


class ManagementAgencyResource(ChineseModelResource):
    region = region_field()
    name = Field(attribute="name", column_name="名称", widget=TextWidget())
    credit_code = Field(attribute="credit_code", column_name="统一社会信用代码", widget=TextWidget(null=True, upper=True))

    Meta = resource_meta(ManagementAgency, ("region", "name", "credit_code"), ("region",))


class DepartmentResource(ChineseModelResource):
    credit_code = Field(attribute="credit_code", column_name="统一社会信用代码", widget=TextWidget(upper=True))
    name = Field(attribute="name", column_name="名称", widget=TextWidget())
    region = region_field()
    is_vertical = Field(attribute="is_vertical", column_name="垂直管理部门", widget=YesNoWidget(), default=False)
    is_active = active_field()

    Meta = resource_meta(Department, ("credit_code", "name", "region", "is_vertical", "is_active"), ("credit_code",))


class ServiceAgencyResource(ChineseModelResource):
    code = Field(attribute="code", column_name="机构编码", widget=TextWidget())
    name = Field(attribute="name", column_name="名称", widget=TextWidget())
    kind = Field(attribute="kind", column_name="类型", widget=ChoiceWidget(ServiceAgency.Kind.choices))
    region = region_field()
    address = Field(attribute="address", column_name="地址", widget=TextWidget())
    is_active = active_field()

    Meta = resource_meta(ServiceAgency, ("code", "name", "kind", "region", "address", "is_active"), ("code",))


class WindowResource(ChineseModelResource):
    agency = agency_field()
    code = Field(attribute="code", column_name="窗口编号", widget=TextWidget())
    name = Field(attribute="name", column_name="名称", widget=TextWidget())
    department = department_field("入驻部门统一社会信用代码", "department")
    is_active = active_field()

    Meta = resource_meta(Window, ("agency", "code", "name", "department", "is_active"), ("agency", "code"))


class WindowWidget(ForeignKeyWidget):
    """A window named by its number inside the agency given in the same row's 机构编码 column."""

    def __init__(self):
        super().__init__(Window, "code")

    def clean(self, value, row=None, **kwargs):
        code = cell_text(value)
        if not code:
            return None
        agency_code = cell_text((row or {}).get("机构编码"))
        window = Window.objects.filter(agency__code=agency_code, code=code).first()
        if window is None:
            raise ValueError(f"机构“{agency_code}”下没有窗口“{code}”")
        return window


class StaffResource(ChineseModelResource):
    staff_no = Field(attribute="staff_no", column_name="工号", widget=TextWidget())
    name = Field(attribute="name", column_name="姓名", widget=TextWidget())
    agency = agency_field()
    department = department_field("部门统一社会信用代码", "department")
    window = Field(attribute="window", column_name="窗口编号", widget=WindowWidget())
    is_active = active_field("在岗")

    Meta = resource_meta(Staff, ("staff_no", "name", "agency", "department", "window", "is_active"), ("staff_no",))


class PlatformResource(ChineseModelResource):
    code = Field(attribute="code", column_name="平台编码", widget=TextWidget())
    name = Field(attribute="name", column_name="名称", widget=TextWidget())
    kind = Field(attribute="kind", column_name="类型", widget=ChoiceWidget(Platform.Kind.choices))
    region = region_field()
    operator = department_field("运营单位统一社会信用代码", "operator")
    is_active = active_field()

    Meta = resource_meta(Platform, ("code", "name", "kind", "region", "operator", "is_active"), ("code",))
