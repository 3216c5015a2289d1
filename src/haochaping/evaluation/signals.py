"""Signals the evaluation app sends inside its writing transaction, so that higher apps (rectification,
insight) react atomically without evaluation importing them (DESIGN.md "Layout").

Receivers of ``evaluation_written`` may return ``{"case_id": ...}``; the first such id goes back to the caller.
A receiver that raises rolls the evaluation back with everything else.

``evaluation_replayed`` is sent when a retried submit (same idempotency key) returns an existing evaluation;
receivers return ``{"case_id": ...}`` for the case that evaluation opened, so the retry gets the first answer.
"""

from django.dispatch import Signal

evaluation_written = Signal()  # sender=Evaluation, evaluation=<Evaluation>
evaluation_replayed = Signal()  # sender=Evaluation, evaluation=<Evaluation>
