"""Signals records.services sends inside its writing transaction, so higher apps react without records importing
them (DESIGN.md "Layout").

``record_completed`` is sent when a 办件 becomes 已办结 (status 3), whether it was pushed completed or updated to
completed. Receivers run inside the transaction; work that must not run before the commit (sending a message)
belongs in ``transaction.on_commit``.
"""

from django.dispatch import Signal

record_completed = Signal()  # sender=ServiceRecord, record=<ServiceRecord>

# The set-based twin of a new 办件's ``post_save`` (created) and ``record_completed`` (records.intake: batch push,
# history import): sent once, inside the writing transaction, for 办件 just inserted together (bulk writes send no
# model signals). Every receiver of those two signals for a new 办件 must receive this one too and do the same for
# each 办件, set-wise.
records_written = Signal()  # sender=ServiceRecord, records=<list[ServiceRecord]>
