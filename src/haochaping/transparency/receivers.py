"""What the log answers to signals from below: the receipt page asks where its evaluation stands in the log."""

from __future__ import annotations

from django.dispatch import receiver
from django.urls import reverse

from haochaping.evaluation.models import Evaluation, EvaluationExclusion
from haochaping.evaluation.signals import receipt_log

from . import proofs
from .models import LeafKind, LogLeaf

SCRIPT = "transparency/receipt.js"


@receiver(receipt_log, sender=Evaluation, dispatch_uid="transparency.receipt_log")
def on_receipt_log(sender, evaluation: Evaluation, **kwargs) -> dict:
    leaf = proofs.sealed_leaf(evaluation)
    newest = proofs.latest()
    checkpoints_url = reverse("disclosure:log") if _portal() else ""
    if leaf is None or newest is None or newest.tree_size <= leaf.index:
        return {"sealed": False, "checkpoints_url": checkpoints_url}
    exclusion = LogLeaf.objects.filter(kind=LeafKind.EXCLUSION, exclusion_id__in=EvaluationExclusion.objects.filter(
        evaluation_id=evaluation.pk).values("pk"), index__lt=newest.tree_size).values_list("index", flat=True).first()
    return {"sealed": True, "leaf_index": leaf.index,
            "proof_url": reverse("api-v1:log_inclusion_proof", kwargs={"leaf_index": leaf.index}),
            "script": SCRIPT, "checkpoints_url": checkpoints_url, "exclusion_index": exclusion}


def _portal() -> bool:
    from django.apps import apps

    return apps.is_installed("haochaping.disclosure")
