"""Tasks whose worker died while running them are run again.

django-tasks-db marks a task RUNNING when a worker claims it and never looks at it again:
a worker killed mid-task (out of memory, SIGKILL, a server lost) leaves the row RUNNING
for ever, so a catalog preview would refresh for ever and an import would never finish.
Every task of the shop is idempotent (it checks the state it starts from), so a task
that has been running longer than any of them takes is put back in the queue, and a
task that has stalled TASK_MAX_ATTEMPTS times is marked failed rather than retried
without end."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)


class TaskStalled(Exception):
    """The worker running the task stopped without finishing it, too many times."""


def requeue_stalled_tasks(*, now=None):
    """Put back in the queue the tasks RUNNING for longer than TASK_STALLED_MINUTES; fail
    those that have stalled TASK_MAX_ATTEMPTS times. Returns (requeued, failed)."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.TASK_STALLED_MINUTES)
    requeued = failed = 0
    with transaction.atomic():
        stalled = (
            DBTaskResult.objects.select_for_update(skip_locked=True)
            .filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff)
            .only("id", "task_path", "worker_ids", "started_at")
        )
        for row in stalled:
            attempts = len(row.worker_ids)
            if attempts >= settings.TASK_MAX_ATTEMPTS:
                DBTaskResult.objects.filter(pk=row.pk, status=TaskResultStatus.RUNNING).update(
                    status=TaskResultStatus.FAILED,
                    finished_at=now,
                    exception_class_path=f"{TaskStalled.__module__}.{TaskStalled.__qualname__}",
                    traceback=f"The worker running this task stopped without finishing it {attempts} times.",
                )
                failed += 1
                logger.error("Task %s (%s) stalled %d times; marked failed", row.pk, row.task_path, attempts)
                continue
            DBTaskResult.objects.filter(pk=row.pk, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.READY, started_at=None
            )
            requeued += 1
            logger.warning(
                "Task %s (%s) was running since %s with no worker finishing it; queued again",
                row.pk,
                row.task_path,
                row.started_at.isoformat(),
            )
    return requeued, failed
