"""Keep the calendar cache in step with any save or delete of calendar rows, whoever makes it
(admin, services, a shell, a test). Bulk writes send no signals: the services that use them invalidate."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import calendar
from .models import CalendarDay, CalendarYear


@receiver(post_save, sender=CalendarDay, dispatch_uid="core.calendar_day_saved")
@receiver(post_delete, sender=CalendarDay, dispatch_uid="core.calendar_day_deleted")
@receiver(post_save, sender=CalendarYear, dispatch_uid="core.calendar_year_saved")
@receiver(post_delete, sender=CalendarYear, dispatch_uid="core.calendar_year_deleted")
def calendar_changed(sender, **kwargs) -> None:
    calendar.invalidate_on_commit()
