"""Signals the evaluation app sends inside its writing transaction, so that higher apps (rectification,
insight) react atomically without evaluation importing them (DESIGN.md "Layout").

Receivers of ``evaluation_written`` may return ``{"case_id": ...}``; the first such id goes back to the caller.
"""

from django.dispatch import Signal

evaluation_written = Signal()  # sender=Evaluation, evaluation=<Evaluation>
