"""Keep per-process caches of org data in step with changes made in this process."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import policy
from .models import RegionPolicy


@receiver([post_save, post_delete], sender=RegionPolicy)
def _policy_changed(sender, **kwargs):
    policy.invalidate()
    # Again after commit: a reader between the write and the commit may have cached the old rows.
    transaction.on_commit(policy.invalidate)
