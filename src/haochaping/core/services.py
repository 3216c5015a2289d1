"""Core use cases that change state: the working-day calendar (R4.6). One transaction each, audited."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from . import calendar, calendar_rules
from .models import AuditEntry, CalendarDay, CalendarYear
from .problems import invalid

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "system"
# The package's data for years before this is of no use to deadlines set today; keep the table short.
DEFAULT_FROM_YEAR = 2019


def package_years() -> list[int]:
    """The years the installed chinese-calendar package knows, asked of the package itself: it raises
    NotImplementedError for a year it has no data for."""
    import chinese_calendar

    known = []
    for year in range(1900, 2101):
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:
            continue
        known.append(year)
    return known


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("chinese-calendar")
    except PackageNotFoundError:
        return ""


def _package_days(years: list[int]) -> list[calendar_rules.SeedDay]:
    from chinese_calendar import constants

    names = {h.value: h.chinese for h in constants.Holiday}
    return calendar_rules.package_exceptions(constants.holidays, constants.workdays, names, years)


@dataclass
class SeedResult:
    years: list[int] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    deleted: int = 0
    kept_admin: int = 0
    years_created: list[int] = field(default_factory=list)


def seed_national_calendar(from_year: int = DEFAULT_FROM_YEAR, *, actor: str = SYSTEM_ACTOR) -> SeedResult:
    """Write the national holidays and 调休 make-up workdays that chinese-calendar knows, from ``from_year``
    on, and mark each of those years as published.

    Idempotent: a second run changes nothing. Rows an administrator entered (source=admin) are never
    touched, and neither are years an administrator marked. Seed rows the package no longer lists (a newer
    package corrected a date) are removed, so the table follows the installed package."""
    years = [y for y in package_years() if y >= from_year]
    result = SeedResult(years=years)
    if not years:
        return result
    wanted = {d.date: d for d in _package_days(years)}
    first, last = date(years[0], 1, 1), date(years[-1], 12, 31)
    with transaction.atomic():
        existing = {
            row.date: row
            for row in CalendarDay.objects.select_for_update().filter(region_code="", date__range=(first, last))
        }
        to_create, to_update, to_delete = [], [], []
        for day, seed in wanted.items():
            row = existing.get(day)
            if row is None:
                to_create.append(
                    CalendarDay(region_code="", date=day, is_workday=seed.is_workday, name=seed.name,
                                source=CalendarDay.Source.SEED)
                )
            elif row.source == CalendarDay.Source.ADMIN:
                result.kept_admin += 1
            elif (row.is_workday, row.name) != (seed.is_workday, seed.name):
                row.is_workday, row.name = seed.is_workday, seed.name
                to_update.append(row)
        for day, row in existing.items():
            if day not in wanted and row.source == CalendarDay.Source.SEED and row.date.year in years:
                to_delete.append(row.pk)
        CalendarDay.objects.bulk_create(to_create, batch_size=500)
        CalendarDay.objects.bulk_update(to_update, ["is_workday", "name"], batch_size=500)
        if to_delete:
            CalendarDay.objects.filter(pk__in=to_delete).delete()
        marked = set(CalendarYear.objects.filter(year__in=years).values_list("year", flat=True))
        new_years = [y for y in years if y not in marked]
        note = _("chinese-calendar %(version)s 数据包") % {"version": _package_version()}
        CalendarYear.objects.bulk_create(
            [CalendarYear(year=y, source=CalendarDay.Source.SEED, note=note) for y in new_years]
        )
        result.created, result.updated, result.deleted = len(to_create), len(to_update), len(to_delete)
        result.years_created = new_years
        if to_create or to_update or to_delete or new_years:
            AuditEntry.objects.create(
                actor=actor, action="calendar.seed", object_type="core.CalendarDay", object_id="",
                data={"years": [years[0], years[-1]], "created": result.created, "updated": result.updated,
                      "deleted": result.deleted, "years_created": new_years},
            )
        # Bulk writes send no signals.
        calendar.invalidate_on_commit()
    return result


def _day_data(day: CalendarDay) -> dict:
    return {"region_code": day.region_code, "date": day.date.isoformat(), "is_workday": day.is_workday,
            "name": day.name}


def save_calendar_day(day: CalendarDay, *, actor: str) -> CalendarDay:
    """Create or change one holiday/workday row (an administrator's entry: source becomes admin, so
    re-seeding never overwrites it)."""
    created = day.pk is None
    day.source = CalendarDay.Source.ADMIN
    with transaction.atomic():
        day.save()
        AuditEntry.objects.create(
            actor=actor, action="calendar.day.create" if created else "calendar.day.change",
            object_type="core.CalendarDay", object_id=str(day.pk), data=_day_data(day),
        )
    return day


def delete_calendar_days(days, *, actor: str) -> int:
    """Delete holiday/workday rows (an iterable or queryset of ``CalendarDay``)."""
    with transaction.atomic():
        count = 0
        for day in list(days):
            AuditEntry.objects.create(
                actor=actor, action="calendar.day.delete", object_type="core.CalendarDay", object_id=str(day.pk),
                data=_day_data(day),
            )
            day.delete()
            count += 1
    return count


def save_calendar_year(year: CalendarYear, *, actor: str) -> CalendarYear:
    """Mark a year's arrangement as published (or change its note)."""
    created = year.pk is None
    year.source = CalendarDay.Source.ADMIN
    with transaction.atomic():
        year.save()
        AuditEntry.objects.create(
            actor=actor, action="calendar.year.create" if created else "calendar.year.change",
            object_type="core.CalendarYear", object_id=str(year.year), data={"note": year.note},
        )
    return year


def delete_calendar_years(years, *, actor: str) -> int:
    """Unmark years: they fall back to Monday–Friday (plus whatever days remain entered)."""
    with transaction.atomic():
        count = 0
        for year in list(years):
            AuditEntry.objects.create(
                actor=actor, action="calendar.year.delete", object_type="core.CalendarYear", object_id=str(year.year),
                data={"note": year.note},
            )
            year.delete()
            count += 1
    return count


def enter_year_arrangement(
    year: int, *, holidays_text: str, workdays_text: str, note: str, actor: str
) -> CalendarYear:
    """Enter a whole year's national arrangement from the State Council notice, typed as lines (see
    ``calendar_rules.parse_arrangement``), and mark the year published. It replaces the national rows of that
    year (seeded or entered before): the notice is the authority. Raises a Chinese error naming the field."""
    if not 2000 <= year <= 2100:
        raise invalid(_("年份应在2000至2100之间"), "year")
    try:
        days = calendar_rules.parse_arrangement(year, holidays_text, workdays_text)
    except calendar_rules.ArrangementError as exc:
        raise invalid(str(exc), exc.field) from None
    if not any(not d.is_workday for d in days):
        raise invalid(_("请至少填写一段放假安排"), "holidays")
    with transaction.atomic():
        CalendarDay.objects.filter(region_code="", date__year=year).exclude(date__in=[d.date for d in days]).delete()
        existing = {row.date: row for row in CalendarDay.objects.select_for_update().filter(
            region_code="", date__in=[d.date for d in days])}
        to_create, to_update = [], []
        for seed in days:
            row = existing.get(seed.date)
            if row is None:
                to_create.append(CalendarDay(region_code="", date=seed.date, is_workday=seed.is_workday,
                                             name=seed.name, source=CalendarDay.Source.ADMIN))
            else:
                row.is_workday, row.name, row.source = seed.is_workday, seed.name, CalendarDay.Source.ADMIN
                to_update.append(row)
        CalendarDay.objects.bulk_create(to_create)
        CalendarDay.objects.bulk_update(to_update, ["is_workday", "name", "source"])
        marked, _created = CalendarYear.objects.update_or_create(
            year=year, defaults={"source": CalendarDay.Source.ADMIN, "note": note[:200]}
        )
        AuditEntry.objects.create(
            actor=actor, action="calendar.year.enter", object_type="core.CalendarYear", object_id=str(year),
            data={"note": note[:200], "holidays": sum(not d.is_workday for d in days),
                  "workdays": sum(d.is_workday for d in days)},
        )
        calendar.invalidate_on_commit()
    log.info("holiday arrangement for %s entered: %s days", year, len(days))
    return marked
