"""A task whose worker is killed while running it is run again by a later worker, once the
task has been running longer than any task takes; a task still within that time is left
to the worker running it, and one that keeps losing its worker is failed, not retried for
ever. The kill is real: a `db_worker` process, SIGKILLed mid-task."""

import io
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from catalog.models import ImportRun
from tests.catalog.test_import_preview import no_uploads_left, run_worker, task_queue  # noqa: F401 - fixtures
from tests.factories import OfferFactory

ROOT = Path(__file__).resolve().parent.parent
IMPORT = "/admin/catalog/importrun/import/"

# The database queue, served by the worker when the test says (tests/catalog/test_import_preview.py).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("task_queue")]


def requeue():
    call_command("requeue_stalled_tasks", verbosity=0, stdout=io.StringIO())


def upload_prices(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(IMPORT, {"file": SimpleUploadedFile("prices.csv", b"sku,price\nARK-123,12.50\n")})
    assert response.status_code == 302
    return response["Location"]


def worker_process():
    """A real `manage.py db_worker` on the test database, as a server runs it."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "TASKS_BACKEND": "django_tasks_db.DatabaseBackend", "DEBUG": "1"}
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--no-reload", "--queue-name", "*"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class RowHolder(threading.Thread):
    """Another transaction holding the import run's row lock, so a worker writing the
    preview waits on it: mid-task, at a point the test knows."""

    def __init__(self, pk):
        super().__init__(daemon=True)
        self.pk, self.holding, self.release = pk, threading.Event(), threading.Event()

    def run(self):
        try:
            with transaction.atomic():
                ImportRun.objects.select_for_update().get(pk=self.pk)
                self.holding.set()
                self.release.wait(timeout=120)
        finally:
            connections.close_all()


def wait_for(condition, what, seconds=60):
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)
    return found


def preview_task():
    return DBTaskResult.objects.get(task_path="catalog.tasks.preview_catalog_file")


@pytest.mark.postgres
def test_a_preview_whose_worker_was_killed_mid_task_is_prepared_by_a_later_worker(postgres, admin_client):
    OfferFactory(sku="ARK-123", price="10.00")
    page = upload_prices(admin_client)
    run = ImportRun.objects.get()
    holder = RowHolder(run.pk)
    holder.start()
    assert holder.holding.wait(timeout=30)
    worker = worker_process()
    try:
        # The worker has claimed the preview and is blocked writing its result.
        wait_for(lambda: preview_task().status == "RUNNING", "the worker to claim the preview")
        with connection.cursor() as cursor:

            def waiting_on_the_lock():
                cursor.execute("SELECT pid FROM pg_locks WHERE NOT granted")
                return cursor.fetchone()

            backend = wait_for(waiting_on_the_lock, "the worker to reach the preview's write")[0]
            # Its server is lost: the process, then its database session.
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
    finally:
        if worker.poll() is None:
            worker.kill()
        holder.release.set()
        holder.join()

    # Without recovery the preview would never come: no worker takes a RUNNING task.
    run_worker()
    assert preview_task().status == "RUNNING"
    assert "Preview being prepared" in admin_client.get(page).content.decode()

    requeue()  # within TASK_STALLED_MINUTES: it could still be running somewhere
    assert preview_task().status == "RUNNING"

    DBTaskResult.objects.update(started_at=timezone.now() - timedelta(minutes=31))
    requeue()
    run_worker()

    task = preview_task()
    assert task.status == "SUCCESSFUL" and len(task.worker_ids) == 2
    ready = admin_client.get(page).content.decode()
    assert "1 to change" in ready and "Confirm and import" in ready


def test_a_confirmed_import_whose_worker_died_is_applied_once_by_a_later_worker(admin_client, settings):
    offer = OfferFactory(sku="ARK-123", price="10.00")
    page = upload_prices(admin_client)
    run_worker()
    assert admin_client.post(page.replace("/preview/", "/confirm/")).status_code == 302
    apply = DBTaskResult.objects.get(task_path="catalog.tasks.apply_catalog_file")
    # A worker claimed the import an hour ago and died before starting on it.
    DBTaskResult.objects.filter(pk=apply.pk).update(
        status="RUNNING", started_at=timezone.now() - timedelta(hours=1), worker_ids=["server-1-worker"]
    )
    run_worker()
    offer.refresh_from_db()
    assert offer.price == 10 and ImportRun.objects.get().status == ImportRun.Status.QUEUED

    requeue()
    run_worker()

    offer.refresh_from_db()
    assert offer.price == 12.5
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.APPLIED and run.changed == 1


def test_a_task_that_keeps_losing_its_worker_is_failed_not_retried_for_ever(settings, caplog):
    settings.TASK_MAX_ATTEMPTS = 3
    from catalog.tasks import preview_catalog_file

    result = preview_catalog_file.enqueue(run_id=1)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    DBTaskResult.objects.filter(pk=result.id).update(
        status="RUNNING", started_at=an_hour_ago, worker_ids=["w1", "w2", "w3"]
    )

    requeue()

    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == "FAILED"
    assert row.exception_class_path == "arkiv.taskqueue.TaskStalled"
    assert "stopped without finishing it 3 times" in row.traceback
    assert "stalled 3 times; marked failed" in caplog.text
