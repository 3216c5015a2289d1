"""``haochaping worker``: django-tasks-db's ``db_worker`` plus the scheduler of periodic tasks (core.schedule).

    haochaping worker                          run queued tasks; enqueue periodic ones when due (checked every 60 s)
    haochaping worker --batch                  enqueue what is due once, run everything queued, exit (for cron)
    haochaping worker --schedule-interval 30   check for due periodic tasks every 30 s
    haochaping worker --no-schedule            only run queued tasks (another worker schedules)
    haochaping worker --frequent-interval 5    run the frequent jobs (core.schedule.frequent) every 5 s (default 2)

Any number of workers may schedule at once: each time slot of a task is enqueued once (core.schedule).
"""

from __future__ import annotations

import logging
import os
import threading

from django.db import connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from haochaping.core import schedule

log = logging.getLogger("haochaping.worker")


def _positive_seconds(value: str) -> float:
    seconds = float(value)
    if not 1 <= seconds <= 86400:
        raise ValueError("an interval must be between 1 and 86400 seconds")
    return seconds


class Scheduler(threading.Thread):
    """Calls :func:`schedule.enqueue_due` every ``interval`` seconds until stopped. A daemon thread: the worker
    exits without waiting for it, and its database connection is closed after every round."""

    def __init__(self, interval: float):
        super().__init__(name="haochaping-scheduler", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                schedule.enqueue_due()
            except Exception:  # keep scheduling: the next round may find the database back
                log.exception("scheduling periodic tasks failed")
            finally:
                connections.close_all()  # this thread's connections only (they are per thread)

    def stop(self) -> None:
        self.stopped.set()


class Frequent(Scheduler):
    """Runs the frequent jobs (:func:`schedule.run_frequent`) every ``interval`` seconds until stopped."""

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                schedule.run_frequent()
            finally:
                connections.close_all()


class Command(db_worker.Command):
    help = "运行后台任务（数据库队列），并按时将定时任务（到期提醒、逾期上报、逾期未确认办结、节假日检查）加入队列"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--schedule-interval", type=_positive_seconds, default=60.0,
            help="每隔多少秒检查一次到期的定时任务（默认60）",
        )
        parser.add_argument(
            "--no-schedule", action="store_true", help="不调度定时任务，只执行队列中的任务",
        )
        parser.add_argument(
            "--frequent-interval", type=_positive_seconds, default=2.0,
            help="每隔多少秒执行一次频繁的小任务（如把刚提交的评价计入统计计数，默认2）",
        )

    def handle(self, *args, schedule_interval: float = 60.0, no_schedule: bool = False,
               frequent_interval: float = 2.0, **options):
        batch = options.get("batch", False)
        reload = options.get("reload", False) and not batch
        # With --reload the parent process only watches files; the child (DJANGO_AUTORELOAD_ENV=true) works.
        working_process = not reload or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true"
        scheduler = frequent = None
        if working_process:
            schedule.run_frequent()  # --batch too: a cron run leaves nothing pending behind it
            if not batch:
                frequent = Frequent(frequent_interval)
                frequent.start()
        if not no_schedule and working_process:
            schedule.enqueue_due()
            if not batch:
                scheduler = Scheduler(schedule_interval)
                scheduler.start()
        try:
            return super().handle(*args, **options)
        finally:
            for thread in (scheduler, frequent):
                if thread is not None:
                    thread.stop()
