"""办件: one service transaction, pushed in by a platform or business system (R2.4)."""

from __future__ import annotations

from django.db import connections, models
from django.utils.translation import gettext_lazy as _

from haochaping.core import pruning
from haochaping.core.fields import PersonalDataField
from haochaping.core.scoping import ScopePaths

from . import rules
from .rules import RecordStatus, RecordType


class ApplicantType(models.IntegerChoices):
    NATURAL_PERSON = 1, _("自然人")
    ENTERPRISE = 2, _("企业法人")
    INSTITUTION = 3, _("事业法人")
    SOCIAL_ORGANISATION = 4, _("社会组织法人")
    UNINCORPORATED = 5, _("非法人企业")
    GOVERNMENT = 6, _("行政机关")
    OTHER = 9, _("其他")


class Stage(models.TextChoices):
    ACCEPT = "accept", _("受理")
    COMPLETE = "complete", _("办结")


class ServiceRecordQuerySet(pruning.MonthPruning, models.QuerySet):
    def by_number(self, project_no: str) -> ServiceRecordQuerySet:
        """The 办件 with this 办件编号 (at most one), read from its own month's partition on PostgreSQL: the 办件编号
        is not the partition key, and a filter on it alone opens every month's partition (core.pruning.month_filter).
        Chains like ``filter(project_no=…)``."""
        return self.one_by(project_no=project_no)


class ServiceRecord(models.Model):
    scope_paths = ScopePaths(region=("region_id",), department=("department_id",), agency=("agency_id",), staff=("staff_id",))
    project_no = models.CharField(_("办件编号"), max_length=64, unique=True)
    item = models.ForeignKey("catalog.ServiceItem", verbose_name=_("事项"), on_delete=models.PROTECT, related_name="records")
    region = models.ForeignKey("org.Region", verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="records")
    department = models.ForeignKey(
        "org.Department", verbose_name=_("办理部门"), on_delete=models.PROTECT, related_name="records"
    )
    agency = models.ForeignKey(
        "org.ServiceAgency", verbose_name=_("政务服务机构"), null=True, blank=True, on_delete=models.PROTECT, related_name="records"
    )
    window = models.ForeignKey("org.Window", verbose_name=_("窗口"), null=True, blank=True, on_delete=models.PROTECT, related_name="records")
    staff = models.ForeignKey("org.Staff", verbose_name=_("经办人"), null=True, blank=True, on_delete=models.PROTECT, related_name="records")
    platform = models.ForeignKey(
        "org.Platform", verbose_name=_("办理平台"), null=True, blank=True, on_delete=models.PROTECT, related_name="records"
    )
    applicant_type = models.PositiveSmallIntegerField(_("申请人类型"), choices=ApplicantType.choices)
    applicant_name = PersonalDataField(_("申请人名称"), kind="name")
    applicant_id_number = PersonalDataField(_("申请人证件号码"), kind="id_number")
    applicant_id_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    applicant_phone = PersonalDataField(_("申请人手机号"), kind="phone")
    applicant_phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    record_type = models.CharField(_("办件类型"), max_length=10, choices=RecordType.choices)
    promised_days = models.PositiveSmallIntegerField(_("承诺时限（工作日）"), default=0)
    status = models.PositiveSmallIntegerField(_("办件状态"), choices=RecordStatus.choices)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    due_date = models.DateField(
        _("承诺办结日期"), null=True, blank=True, help_text=_("受理日加承诺时限（工作日），写入时按工作日历计算")
    )
    overdue_explanation = models.TextField(_("超期说明"), blank=True)
    push_hash = models.CharField(max_length=64, editable=False, help_text="keyed hash of the last pushed payload")
    source = models.CharField(_("来源"), max_length=100, blank=True, help_text=_("推送办件的接口客户端"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ServiceRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        ordering = ["-accepted_at"]
        indexes = [
            models.Index(fields=["region", "status"]),
            models.Index(fields=["status", "due_date"]),
            # 参评率 and coverage (insight.metrics) read the completed 办件 of a period: without this they scan every
            # 办件 ever pushed (bench/stats.py, bench/README.md).
            models.Index(fields=["status", "completed_at"], name="record_status_completed"),
        ]

    def __str__(self) -> str:
        return self.project_no

    # A save() of a 办件 read from the database updates its row in its own month's partition (PostgreSQL): the UPDATE
    # also names the created_at it was read with, which never changes (core.partitions), so PostgreSQL prunes the
    # other months instead of opening each one's index for the id (a completion is one such save per 办件). A change
    # of created_at is left unfiltered, for the partition trigger to refuse (core.partitions).
    @classmethod
    def from_db(cls, db, field_names, values):
        record = super().from_db(db, field_names, values)
        record._read_created_at = record.__dict__.get("created_at")
        return record

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update):
        read = getattr(self, "_read_created_at", None)
        if read is not None and self.__dict__.get("created_at") == read and pruning.prunes(
                connections[using], self._meta.db_table):
            base_qs = base_qs.filter(created_at=read)
        return super()._do_update(base_qs, using, pk_val, values, update_fields, forced_update)

    def stage_time(self, stage: str):
        """When the stage happened, or None when the record has not reached it."""
        if stage == Stage.ACCEPT:
            return self.accepted_at
        if stage == Stage.COMPLETE and self.status == RecordStatus.COMPLETED:
            return self.completed_at
        return None

    @property
    def stages(self) -> list[str]:
        return [s for s in Stage.values if self.stage_time(s) is not None]

    def is_overdue(self, today=None) -> bool:
        return rules.is_overdue(self, today=today)
