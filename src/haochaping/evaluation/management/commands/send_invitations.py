"""`haochaping send_invitations`: send due SMS invitations and reminders now (for deployments that run it from cron
instead of, or beside, `haochaping worker`). Idempotent: a 办件 gets each message at most once."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from haochaping.evaluation import invitations


class Command(BaseCommand):
    help = "发送到期的评价邀请短信和提醒短信（可重复运行，不会重复发送）"

    def handle(self, *args, **options):
        counts: dict[str, int] = {}
        for record_id in invitations.sweep_candidates():
            for kind in ("invite", "reminder"):
                outcome = invitations.send(record_id, kind=kind)
                counts[outcome.status] = counts.get(outcome.status, 0) + 1
                if outcome.status == "sent":
                    break  # an invitation and its reminder never go out in the same run
        self.stdout.write(f"已发送 {counts.get('sent', 0)} 条，失败 {counts.get('failed', 0)} 条")
