"""Bulk import and export of the service item catalog (R2.2); same conventions as org.resources."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from import_export.fields import Field

from haochaping.org.models import Department
from haochaping.org.resources import (
    ChineseModelResource,
    ChoiceWidget,
    CodesWidget,
    TextWidget,
    active_field,
    cell_text,
    department_field,
    region_field,
    resource_meta,
)

from .models import ItemType, ServiceItem

COOPERATING_COLUMN = "协同部门统一社会信用代码"


class ServiceItemResource(ChineseModelResource):
    implementation_code = Field(attribute="implementation_code", column_name="实施编码", widget=TextWidget())
    basic_code = Field(attribute="basic_code", column_name="基本编码", widget=TextWidget())
    name = Field(attribute="name", column_name="事项名称", widget=TextWidget())
    item_type = Field(attribute="item_type", column_name="事项类型", widget=ChoiceWidget(ItemType.choices))
    basis = Field(attribute="basis", column_name="设定依据", widget=TextWidget())
    department = department_field("实施部门统一社会信用代码", "department")
    region = region_field()
    lead_department = department_field("牵头部门统一社会信用代码", "lead_department")
    cooperating_departments = Field(
        attribute="cooperating_departments",
        column_name=COOPERATING_COLUMN,
        widget=CodesWidget(Department, "credit_code", "统一社会信用代码"),
    )
    is_active = active_field()

    Meta = resource_meta(
        ServiceItem,
        (
            "implementation_code", "basic_code", "name", "item_type", "basis", "department", "region",
            "lead_department", "cooperating_departments", "is_active",
        ),
        ("implementation_code",),
    )

    def check_row(self, instance, row):
        # R2.2: an item handled by several departments names the one that leads.
        if cell_text(row.get(COOPERATING_COLUMN)) and instance.lead_department_id is None:
            raise ValidationError({"lead_department": "跨部门事项须填写牵头部门"})
