"""Making reports (R5.2): the only code that writes :class:`~haochaping.insight.models.Report` rows and their files.

- :func:`generate_report` — a supervisor's request from /insight/reports/: any finished month, quarter or year of a
  region (county level or above) or a department in their scope; made right away. Asking again for the same
  subject and period makes the files anew from today's data (late exclusions, corrected 办件) in the same row.
- :func:`generate_due_reports` — the worker (insight.tasks): the previous month's, quarter's and year's report of
  every province, city and county with a management agency, each made once: an existing report is left alone.

The content is read first (reports.content, outside any transaction: it only reads), the files are written to the
default storage (MEDIA_ROOT), then the row is written with its audit entry in one transaction; if that fails the
new files are deleted, and files a regeneration replaces are deleted only after it commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from haochaping.accounts.roles import Role
from haochaping.core.models import AuditEntry
from haochaping.core.problems import DomainError, invalid, not_found
from haochaping.core.scoping import scope
from haochaping.org.models import Department, ManagementAgency, Region

from ..models import Report
from . import content as report_content
from . import pdf, periods, xlsx
from .periods import ReportPeriod

log = logging.getLogger(__name__)

MAX_REGION_LEVEL = Region.Level.COUNTY  # reports are made for counties and above


@dataclass(frozen=True)
class Outcome:
    report: Report
    created: bool  # False: an existing report (regenerated on demand, or left alone by the worker)


def may_generate(actor) -> bool:
    return bool(actor is not None and actor.is_active and (actor.is_superuser or getattr(actor, "role", None) == Role.SUPERVISOR))


def reports_for(actor):
    """The reports ``actor`` may see and download: scoped by region (core.scoping)."""
    if not may_generate(actor):
        return Report.objects.none()
    return scope(Report.objects.select_related("region", "department", "generated_by"), actor)


def subject_choices(actor, *, limit: int = 500) -> tuple[list[Region], list[Department]]:
    """The regions (county level and above) and departments ``actor`` may make reports of."""
    if not may_generate(actor):
        return [], []
    # Higher levels first: a supervisor's own region heads the list, then the ones below it.
    regions = list(scope(Region.objects.filter(level__lte=MAX_REGION_LEVEL), actor).order_by("level", "code")[:limit])
    departments = list(scope(Department.objects.select_related("region"), actor)
                       .order_by("region_id", "name", "pk")[:limit])
    return regions, departments


def _subject(actor, region_code: str | None, department_id: int | None) -> report_content.Subject:
    if department_id:
        department = scope(Department.objects.select_related("region"), actor).filter(pk=department_id).first()
        if department is None:
            raise not_found(_("没有这个部门，请选择监督范围内的部门"), "subject")
        return report_content.Subject(department.region, department)
    region = scope(Region.objects.all(), actor).filter(code=region_code or "").first()
    if region is None:
        raise not_found(_("没有这个行政区划，请选择监督范围内的地区"), "subject")
    if region.level > MAX_REGION_LEVEL:
        raise invalid(_("报告按县级及以上行政区划生成，请选择县（区）、市或省"), "subject")
    return report_content.Subject(region)


def generate_report(actor, *, kind: str, start: date, region_code: str | None = None,
                    department_id: int | None = None, now: datetime | None = None) -> Outcome:
    """Make (or make anew) the report of a region's subtree or a department for the finished period of ``kind``
    beginning on ``start``. Supervisors (and superusers) only; a subject outside their scope is 404 like a
    missing one; a period not yet over is refused (its report would be incomplete)."""
    if not may_generate(actor):
        raise DomainError(403, _("无权操作"), _("只有政务服务管理机构的监督人员可以生成统计报告"), "subject", code="forbidden")
    now = now or timezone.now()
    try:
        period = ReportPeriod(kind, start)
    except ValueError:
        raise invalid(_("请选择报告期间（月、季度或年度）"), "period") from None
    if not period.is_over(timezone.localdate(now)):
        raise invalid(_("只能生成已经结束的期间的报告：%(period)s尚未结束") % {"period": period.label}, "period")
    subject = _subject(actor, region_code, department_id)
    return _make(subject, period, actor=actor, replace=True, now=now)


def generate_due_reports(today: date | None = None, now: datetime | None = None) -> int:
    """The worker's run: the previous month's, quarter's and year's report of every province, city and county that
    has a management agency, unless it exists. Returns how many were made; one failing region does not stop the
    others (it is logged and tried again at the next run)."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    codes = list(ManagementAgency.objects.filter(region__level__lte=MAX_REGION_LEVEL)
                 .order_by("region_id").values_list("region_id", flat=True))
    regions = {r.code: r for r in Region.objects.filter(code__in=codes)}
    made = 0
    for kind in periods.KINDS:
        period = periods.last_finished(kind, today)
        existing = set(Report.objects.filter(kind=kind, period_start=period.start, department__isnull=True)
                       .values_list("region_id", flat=True))
        for code in codes:
            if code in existing:
                continue
            try:
                if _make(report_content.Subject(regions[code]), period, actor=None, replace=False, now=now).created:
                    made += 1
            except Exception:
                log.exception("report %s %s of region %s failed", kind, period.start, code)
    return made


def _file_stem(subject: report_content.Subject, period: ReportPeriod) -> str:
    who = f"dept{subject.department.pk}" if subject.department else subject.region.code
    return f"report-{who}-{period.kind}-{period.start:%Y%m%d}"


def _existing(subject: report_content.Subject, period: ReportPeriod):
    qs = Report.objects.filter(kind=period.kind, period_start=period.start)
    if subject.department is not None:
        return qs.filter(department=subject.department)
    return qs.filter(region=subject.region, department__isnull=True)


def _make(subject: report_content.Subject, period: ReportPeriod, *, actor, replace: bool, now: datetime) -> Outcome:
    if not replace:
        found = _existing(subject, period).first()
        if found is not None:
            return Outcome(found, False)
    built = report_content.build(subject, period, now=now)
    fresh = Report(kind=period.kind, period_start=period.start, period_end=period.end, region=subject.region,
                   department=subject.department, title=built.title, generated_at=now,
                   generated_by=actor if getattr(actor, "pk", None) else None)
    stem = _file_stem(subject, period)
    fresh.xlsx.save(f"{stem}.xlsx", ContentFile(xlsx.render(built)), save=False)
    fresh.pdf.save(f"{stem}.pdf", ContentFile(pdf.render(built)), save=False)
    new_files = [fresh.xlsx.name, fresh.pdf.name]
    try:
        with transaction.atomic():
            current = _existing(subject, period).select_for_update().first()
            if current is not None and not replace:
                _delete_files(new_files)
                return Outcome(current, False)
            if current is None:
                report, created, old_files = fresh, True, []
            else:
                report, created = current, False
                old_files = [current.xlsx.name, current.pdf.name]
                for name in ("title", "period_end", "xlsx", "pdf", "generated_at", "generated_by"):
                    setattr(report, name, getattr(fresh, name))
            report.save()
            AuditEntry.objects.create(
                actor=getattr(actor, "username", None) or "system",
                action="report.generate" if created else "report.regenerate", object_type="insight.Report",
                object_id=str(report.pk),
                data={"kind": period.kind, "period_start": period.start.isoformat(), "region": subject.region.code,
                      "department": subject.department.pk if subject.department else None},
            )
            transaction.on_commit(lambda: _delete_files(old_files))
    except IntegrityError:
        # Another process made the same report at the same moment: keep theirs.
        _delete_files(new_files)
        return Outcome(_existing(subject, period).get(), False)
    except Exception:
        _delete_files(new_files)
        raise
    return Outcome(report, created)


def _delete_files(names: list[str]) -> None:
    storage = Report._meta.get_field("xlsx").storage
    for name in names:
        if name:
            try:
                storage.delete(name)
            except OSError:
                log.warning("could not delete report file %s", name)
