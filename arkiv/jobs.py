"""The periodic jobs and the one scheduler that runs them (`manage.py run_periodic_jobs`).

Each job is a management command run every so often. Any number of servers may run the
scheduler: a server runs a job only after claiming its row in PeriodicJob, which moves
the job's next run forward and marks it running. On PostgreSQL the claim takes the row
with SELECT ... FOR UPDATE SKIP LOCKED, so a second server skips the job instead of
waiting; on SQLite the claim is one conditional UPDATE in an immediate transaction,
which SQLite runs one writer at a time. A job that fails is logged and is due again at
the next pass; the other jobs run as usual.

Run it as a service beside the app servers (`manage.py run_periodic_jobs`, which checks
every minute and stops cleanly on SIGTERM), or from cron on any number of servers:

    * * * * *  cd /srv/arkiv && .venv/bin/python manage.py run_periodic_jobs --once

or, without the scheduler, one cron line per job (then nothing stops two servers from
running the same job; keep these on one server):

    */5 * * * *   manage.py expire_unpaid_orders
    */10 * * * *  manage.py retry_order_emails
    7 * * * *     manage.py send_alerts
    */5 * * * *   manage.py process_service_mail --imap "$SERVICE_MAIL_IMAP_URL"
    17 3 * * *    manage.py purge_expired_records
    27 3 * * *    manage.py prune_db_task_results --queue-name '*' --min-age-days 14
    37 3 * * *    manage.py purge_mail_log 30
    */5 * * * *   manage.py requeue_stalled_tasks
"""

import io
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.management import call_command
from django.db import OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from arkiv.logredact import redact
from arkiv.models import PeriodicJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    command: str
    args: tuple = ()
    # A server that dies mid-run holds the job this long at most.
    lease: timedelta = timedelta(minutes=15)
    kwargs: dict = field(default_factory=dict)

    def run(self):
        """Run the command; its output, for the log."""
        out = io.StringIO()
        call_command(self.command, *self.args, stdout=out, stderr=out, **self.kwargs)
        return out.getvalue().strip()


def scheduled_jobs():
    """The shop's periodic jobs, as the settings in force configure them."""
    day = timedelta(days=1)
    jobs = [
        Job("expire_unpaid_orders", timedelta(minutes=5), "expire_unpaid_orders"),
        Job("retry_order_emails", timedelta(minutes=10), "retry_order_emails"),
        # Mail whose delivery run never came (queue unreachable, worker killed) waits at
        # most this long; with nothing waiting it costs one query.
        Job("deliver_outbox", timedelta(minutes=2), "deliver_outbox"),
        # Hourly; alerts_send itself keeps to one email per person per day.
        Job("send_alerts", timedelta(hours=1), "send_alerts", lease=timedelta(hours=1)),
    ]
    if settings.SERVICE_MAIL_IMAP_URL:
        jobs.append(
            Job(
                "process_service_mail",
                timedelta(minutes=5),
                "process_service_mail",
                ("--imap", settings.SERVICE_MAIL_IMAP_URL),
            )
        )
    jobs += [
        Job("purge_expired_records", day, "purge_expired_records", lease=timedelta(hours=1)),
        Job("purge_mail_log", day, "purge_mail_log", (str(settings.MAIL_LOG_DAYS),), lease=timedelta(hours=1)),
    ]
    if _task_results_in_database():
        # A task whose worker died mid-run is queued again (arkiv.taskqueue).
        jobs.append(Job("requeue_stalled_tasks", timedelta(minutes=5), "requeue_stalled_tasks"))
        jobs.append(
            Job(
                "prune_db_task_results",
                day,
                "prune_db_task_results",
                ("--queue-name", "*", "--min-age-days", str(settings.TASK_RESULT_DAYS)),
                lease=timedelta(hours=1),
            )
        )
    return jobs


def _task_results_in_database():
    from django_tasks import task_backends
    from django_tasks_db import DatabaseBackend

    return isinstance(task_backends["default"], DatabaseBackend)


def run_due_jobs(jobs=None, *, stop=None):
    """Run every job that is due and that no other server is running; returns the names
    of the jobs this call ran (whether they succeeded or not). `stop` (an Event) is
    checked between jobs."""
    jobs = scheduled_jobs() if jobs is None else jobs
    now = timezone.now()
    try:
        PeriodicJob.objects.bulk_create(
            [PeriodicJob(name=job.name, next_run_at=now) for job in jobs], ignore_conflicts=True
        )
    except OperationalError as exc:
        _busy_or_raise(exc)  # another server is writing the same rows
    ran = []
    for job in jobs:
        if stop is not None and stop.is_set():
            break
        if not _claim(job):
            continue
        ran.append(job.name)
        _run(job)
    return ran


def _claim(job):
    """Take the job for this server if it is due and not running elsewhere."""
    now = timezone.now()
    free = Q(running_until__isnull=True) | Q(running_until__lte=now)
    try:
        with transaction.atomic():
            row = (
                PeriodicJob.objects.select_for_update(skip_locked=True)
                .filter(free, name=job.name, next_run_at__lte=now)
                .first()
            )
            if row is None:
                return False
            claimed = PeriodicJob.objects.filter(free, pk=row.pk, next_run_at=row.next_run_at).update(
                next_run_at=now + job.every, running_until=now + job.lease, last_started_at=now
            )
            return claimed == 1
    except OperationalError as exc:
        _busy_or_raise(exc)
        logger.info("Job %s skipped: another server is claiming jobs", job.name)
        return False


def _busy_or_raise(exc):
    # SQLite answers "database is locked" while another server holds its write lock
    # (that server is claiming a job); any other database error is a real failure.
    if "locked" not in str(exc).lower():
        raise exc


def _run(job):
    logger.info("Job %s started", job.name)
    try:
        output = job.run()
    except BaseException as exc:  # noqa: BLE001 - CommandError and SystemExit included
        if isinstance(exc, KeyboardInterrupt):
            raise
        finished = timezone.now()
        logger.exception("Job %s failed; it runs again at the next pass", job.name)
        PeriodicJob.objects.filter(name=job.name).update(
            # Due again at once: the next pass (a minute later) retries it.
            next_run_at=finished,
            running_until=None,
            last_finished_at=finished,
            last_error=redact(f"{type(exc).__name__}: {exc}")[:1000],
        )
        return
    finished = timezone.now()
    PeriodicJob.objects.filter(name=job.name).update(
        running_until=None, last_finished_at=finished, last_succeeded_at=finished, last_error=""
    )
    logger.info("Job %s finished: %s", job.name, output or "no output")
