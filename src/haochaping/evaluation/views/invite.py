"""The SMS invitation link /i/<token>/ (补充评价, R3.3): the shared rating flow for the 办件 the link belongs to."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from .. import invitations
from ..models import Channel
from ..pages import RatingContext, rate


def _receipt_url() -> str:
    try:
        return reverse("receipt:lookup")
    except NoReverseMatch:
        return ""


@never_cache
def invitation(request, token: str):
    inv = invitations.find(token)
    if inv is None:
        # Unknown and forged tokens read the same, and say nothing about any 办件.
        return render(request, "evaluation/invite_invalid.html", status=404)
    if timezone.now() >= inv.expires_at:
        return render(request, "evaluation/invite_closed.html", {"closed_on": invitations.closed_on(inv)}, status=410)
    record = inv.record
    if request.method != "POST" and invitations.is_rated(record, inv.stage):
        return render(request, "evaluation/invite_done.html", {"item": record.item, "receipt_url": _receipt_url()})
    invitations.mark_opened(inv)
    ctx = RatingContext(
        record=record,
        stage=inv.stage,
        channel=Channel.SMS,
        source="sms-invitation",
        evaluator_phone=record.applicant_phone.reveal() if record.applicant_phone else "",
        template="evaluation/invite_rate.html",
        extra_context={"period_last_day": invitations.closed_on(inv)},
    )
    return rate(request, ctx)
