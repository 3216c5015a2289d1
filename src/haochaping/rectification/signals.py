"""Signals the rectification app sends to higher apps (DESIGN.md "Layout": effects go upward by signal, inside the
writing transaction).

Saving a case, its appeal or its 台账 one by one sends Django's own post_save, which insight listens to; this signal
is for the writes that bypass the model signals (bulk_create), so that no written case goes uncounted."""

from django.dispatch import Signal

cases_written = Signal()  # sender=RectificationCase, case_ids=<list[int]>: new cases created together
