"""Signals fraud listens to: an insider's sign-in (Django's ``user_logged_in``) records where they sign in from."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from haochaping.evaluation import fingerprint


@receiver(user_logged_in, dispatch_uid="fraud.record_sign_in")
def remember_sign_in(sender, request, user, **kwargs):
    from .services import record_sign_in

    if request is not None:
        record_sign_in(user, fingerprint.of_request(request))
