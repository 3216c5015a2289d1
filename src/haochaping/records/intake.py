"""Set-based push of many 办件 at once (the batch endpoint, history import; issue 16 item 3).

The same rules, answers and guarantees as :func:`services.push_record`, item by item, at a fraction of the
statements: every item is checked in Python by the single service's own code (:func:`services.new_record`), with
the 办件 already stored under the items' numbers and every unit they name each read in one query; the new 办件 are
written with one ``COPY`` (PostgreSQL; ``bulk_create`` elsewhere), and everything the receivers of a new 办件's
signals do (参评率 counters aggregated per key, outbox rows, SMS invitations after the commit) is done set-wise by
the receivers of :data:`signals.records_written`, in the same transaction.

Items are answered as if pushed one after the other: a number repeated later in the batch is replayed (same
content) or a conflict (other content) against the earlier item's 办件. A pushed 办件 is never changed here, as
the single push never changes one (changes go through :func:`services.update_record`). Should the write meet a
unique constraint (a concurrent push won a race), the batch falls back to the single service item by item, which
answers every race exactly as a single push does.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from haochaping.catalog.models import ServiceItem
from haochaping.core.bulk import copy_with_ids
from haochaping.core.problems import DomainError
from haochaping.org.models import Department, Platform, Region, ServiceAgency, Staff, Window

from . import services
from .models import ServiceRecord
from .services import RecordInput, References
from .signals import records_written

Outcome = tuple[ServiceRecord, bool] | DomainError


class _Preloaded(References):
    """Every unit the items name, read in one query per kind."""

    def __init__(self, items: Sequence[RecordInput]):
        def codes(attr):
            return {v for d in items if (v := getattr(d, attr))}

        self.regions = Region.objects.in_bulk(codes("region_code"))
        self.items = ServiceItem.objects.in_bulk(codes("implementation_code"), field_name="implementation_code")
        self.departments = Department.objects.in_bulk(codes("department_credit_code"), field_name="credit_code")
        self.agencies = ServiceAgency.objects.in_bulk(codes("agency_code"), field_name="code")
        self.windows = {
            (w.agency_id, w.code): w for w in Window.objects.select_related("agency", "department").filter(
                agency__code__in=codes("agency_code"), code__in=codes("window_code"))
        } if codes("window_code") else {}
        self.staff_ = {s.staff_no: s for s in Staff.objects.select_related("agency", "department").filter(
            staff_no__in=codes("staff_no"))} if codes("staff_no") else {}
        self.platforms = Platform.objects.in_bulk(codes("platform_code"), field_name="code")

    def region(self, code):
        return self.regions.get(code)

    def item(self, code):
        return self.items.get(code)

    def department(self, credit_code):
        return self.departments.get(credit_code)

    def agency(self, code):
        return self.agencies.get(code)

    def window(self, agency, code):
        return self.windows.get((agency.pk, code))

    def staff(self, staff_no):
        return self.staff_.get(staff_no)

    def platform(self, code):
        return self.platforms.get(code)


def push_records(items: Sequence[RecordInput], *, source: str, region_scope: Region | None = None) -> list[Outcome]:
    """Push many 办件; one answer per item, in order: ``(record, created)`` as :func:`services.push_record` returns
    it, or the :class:`DomainError` that refused the item. Arguments as :func:`services.push_record`."""
    out: list[Outcome | None] = [None] * len(items)
    digests = [services.payload_hash(d) for d in items]
    stored = _stored({d.project_no for d in items})
    refs = _Preloaded(items) if len(stored) < len({d.project_no for d in items}) else None
    new: list[tuple[int, ServiceRecord]] = []
    for i, data in enumerate(items):
        try:
            existing = stored.get(data.project_no)
            if existing is not None:  # stored before, or by an earlier item of this batch
                out[i] = (services.same_or_conflict(existing, digests[i], region_scope), False)
                continue
            record = services.new_record(data, source=source, digest=digests[i], region_scope=region_scope, refs=refs)
        except DomainError as exc:
            out[i] = exc
            continue
        stored[data.project_no] = record
        new.append((i, record))
    if new:
        try:
            with transaction.atomic():
                _write([r for _i, r in new])
                records_written.send(sender=ServiceRecord, records=[r for _i, r in new])
        except IntegrityError:
            # A concurrent push took a number meanwhile: let the single service sort out each item, in order.
            return [_single(d, source, region_scope) for d in items]
        for i, record in new:
            out[i] = (record, True)
    return out  # type: ignore[return-value]


def _stored(numbers: set[str]) -> dict[str, ServiceRecord]:
    """The 办件 stored under these numbers (one query)."""
    return ServiceRecord.objects.in_bulk(numbers, field_name="project_no") if numbers else {}


def _single(data: RecordInput, source: str, region_scope) -> Outcome:
    try:
        return services.push_record(data, source=source, region_scope=region_scope)
    except DomainError as exc:
        return exc


def _write(records: list[ServiceRecord]) -> None:
    now = timezone.now()
    for r in records:  # what auto_now(_add) would set on save()
        r.created_at = r.updated_at = now
    if connection.vendor == "postgresql":
        copy_with_ids(ServiceRecord, records)
    else:
        ServiceRecord.objects.bulk_create(records)
