"""Keep the rollups in step with the evaluation app's writes, inside the writing transaction (DESIGN.md "Layout":
signals go upward, so the evaluation and its counter commit together or not at all)."""

from __future__ import annotations

from django.dispatch import receiver

from haochaping.evaluation.models import Evaluation
from haochaping.evaluation.signals import evaluation_excluded, evaluation_written

from . import rollups


@receiver(evaluation_written, sender=Evaluation, dispatch_uid="insight.count_written")
def count_written(sender, evaluation, **kwargs):
    # No try/except: a failed count rolls the evaluation back, so the counters never silently drift.
    rollups.count_written(evaluation)
    return None


@receiver(evaluation_excluded, sender=Evaluation, dispatch_uid="insight.count_excluded")
def count_excluded(sender, evaluation, exclusion, **kwargs):
    rollups.count_excluded(evaluation)
    return None
