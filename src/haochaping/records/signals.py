"""Signals records.services sends inside its writing transaction, so higher apps react without records importing
them (DESIGN.md "Layout").

``record_completed`` is sent when a 办件 becomes 已办结 (status 3), whether it was pushed completed or updated to
completed. Receivers run inside the transaction; work that must not run before the commit (sending a message)
belongs in ``transaction.on_commit``.
"""

from django.dispatch import Signal

record_completed = Signal()  # sender=ServiceRecord, record=<ServiceRecord>
