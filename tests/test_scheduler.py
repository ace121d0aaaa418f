"""The periodic jobs as operators rely on them: `run_periodic_jobs --once` from cron (or
the looping scheduler) runs what is due, never the same job on two servers at once, and
a job that fails is logged and tried again at the next pass while the others carry on."""

import datetime
import io
import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from arkiv.jobs import run_due_jobs, scheduled_jobs
from arkiv.models import PeriodicJob
from orders.cart import CartLine
from orders.models import Order, Status
from orders.services import order_place
from tests.factories import OfferFactory, checkout_details
from tests.servers import SilentServer, closed_port
from tests.threads import at_once

ROOT = Path(__file__).resolve().parent.parent


def overdue_unpaid_order():
    offer = OfferFactory(stock=4)
    order = order_place(
        cart_lines=[CartLine(offer, 1, offer.price)],
        customer=None,
        checkout=checkout_details(),
        checkout_token=uuid.uuid4(),
    )
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    return order


def run_once():
    out = io.StringIO()
    call_command("run_periodic_jobs", "--once", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_run_once_expires_unpaid_orders_and_runs_every_daily_job(settings):
    settings.SERVICE_MAIL_IMAP_URL = ""
    # As in production: finished tasks are kept in the database queue, and pruned daily.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    order = overdue_unpaid_order()

    output = run_once()

    order.refresh_from_db()
    assert order.status == Status.EXPIRED
    assert output.strip() == (
        "Ran 8 job(s): expire_unpaid_orders, retry_order_emails, deliver_outbox, send_alerts, "
        "purge_expired_records, "
        "purge_mail_log, requeue_stalled_tasks, prune_db_task_results."
    )
    jobs = {job.name: job for job in PeriodicJob.objects.all()}
    assert set(jobs) == {j.name for j in scheduled_jobs()}
    assert all(job.last_succeeded_at and job.last_error == "" and job.running_until is None for job in jobs.values())
    assert jobs["expire_unpaid_orders"].next_run_at - jobs[
        "expire_unpaid_orders"
    ].last_started_at == datetime.timedelta(minutes=5)
    assert jobs["purge_mail_log"].next_run_at - jobs["purge_mail_log"].last_started_at == datetime.timedelta(days=1)


@pytest.mark.django_db
def test_a_job_that_ran_is_not_run_again_before_it_is_due(settings):
    settings.SERVICE_MAIL_IMAP_URL = ""
    run_once()
    order = overdue_unpaid_order()

    assert run_once().strip() == "Ran 0 job(s): none was due."
    order.refresh_from_db()
    assert order.status == Status.PENDING_PAYMENT

    # Five minutes later the expiry job is due again; the daily jobs are not.
    PeriodicJob.objects.filter(name="expire_unpaid_orders").update(next_run_at=timezone.now())
    assert run_once().strip() == "Ran 1 job(s): expire_unpaid_orders."
    order.refresh_from_db()
    assert order.status == Status.EXPIRED


@pytest.mark.django_db
def test_a_failing_job_is_logged_and_retried_next_time_while_the_others_run(settings, caplog):
    # Reading service@ fails for real: nothing listens at the mailbox's address.
    settings.SERVICE_MAIL_IMAP_URL = f"imap://service:mailbox-password@127.0.0.1:{closed_port()}/INBOX"
    order = overdue_unpaid_order()

    output = run_once()

    assert "process_service_mail" in output and "purge_mail_log" in output
    order.refresh_from_db()
    assert order.status == Status.EXPIRED  # the jobs after the failing one still ran
    failures = [r for r in caplog.records if r.levelname == "ERROR" and r.name == "arkiv.jobs"]
    assert [r.getMessage() for r in failures] == ["Job process_service_mail failed; it runs again at the next pass"]
    failed = PeriodicJob.objects.get(name="process_service_mail")
    assert failed.last_error.startswith("CommandError: Could not reach the IMAP server 127.0.0.1")
    assert "mailbox-password" not in failed.last_error
    assert failed.last_succeeded_at is None

    assert run_once().strip() == "Ran 1 job(s): process_service_mail."


@pytest.mark.django_db(transaction=True)
def test_two_servers_running_the_scheduler_at_once_run_a_due_job_once(settings):
    # The job hangs on a mail server that never answers, so the first server is still
    # running it while the second looks at the job table.
    server = SilentServer()
    settings.SERVICE_MAIL_IMAP_URL = f"imap://service:secret@127.0.0.1:{server.port}/INBOX"
    settings.SERVICE_MAIL_IMAP_TIMEOUT_SECONDS = 3
    jobs = [job for job in scheduled_jobs() if job.name == "process_service_mail"]
    try:
        results = at_once(2, lambda i: run_due_jobs(jobs))
    finally:
        server.close()

    assert sorted(results, key=len) == [[], ["process_service_mail"]]
    assert len(server.connections) == 1
    job = PeriodicJob.objects.get(name="process_service_mail")
    assert job.running_until is None and job.last_finished_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_job_another_server_is_still_running_is_left_alone_even_when_due(settings):
    settings.SERVICE_MAIL_IMAP_URL = ""
    now = timezone.now()
    # Another server started the expiry job a while ago and has not finished it.
    PeriodicJob.objects.create(
        name="expire_unpaid_orders",
        next_run_at=now - datetime.timedelta(minutes=1),
        last_started_at=now - datetime.timedelta(minutes=6),
        running_until=now + datetime.timedelta(minutes=9),
    )

    ran = run_due_jobs([job for job in scheduled_jobs() if job.name == "expire_unpaid_orders"])

    assert ran == []


def test_a_bad_interval_is_refused_with_a_clear_message():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--interval is a whole number of seconds, at least 1."):
        call_command("run_periodic_jobs", "--interval", "0")


def test_the_looping_scheduler_stops_on_sigterm_leaving_no_job_marked_running(tmp_path):
    # A real process on its own SQLite database, as a process manager runs it.
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env |= {"DEBUG": "1", "SQLITE_PATH": str(tmp_path / "shop.sqlite3"), "DJANGO_SETTINGS_MODULE": "arkiv.settings"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    process = subprocess.Popen(
        [*manage, "run_periodic_jobs", "--interval", "3600"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().startswith("Running periodic jobs every 3600 s")
        # Stop it once it has started its first job.
        for line in process.stderr:
            if "Job expire_unpaid_orders started" in line:
                break
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()

    assert process.returncode == 0, stderr
    assert stdout.strip().endswith("Stopped.")
    with sqlite3.connect(tmp_path / "shop.sqlite3") as db:
        rows = db.execute("SELECT name, running_until, last_finished_at FROM arkiv_periodicjob").fetchall()
    assert rows and all(running_until is None for _, running_until, _ in rows)
    assert dict((name, finished) for name, _, finished in rows)["expire_unpaid_orders"] is not None


@pytest.mark.django_db(transaction=True)
def test_mail_whose_delivery_run_never_came_is_delivered_by_the_scheduler(settings, mailoutbox):
    from django.core.mail import send_mail
    from mailer.models import Message

    # Production's path: the outbox, a queue no worker serves (as when the worker holding
    # the message was killed), and a transport the test can read.
    settings.EMAIL_BACKEND = "arkiv.mail.QueueBackend"
    settings.MAILER_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    send_mail("Your order 1042", "Thank you.", None, ["buyer@example.com"])
    assert Message.objects.count() == 1 and mailoutbox == []

    run_once()

    assert [m.subject for m in mailoutbox] == ["Your order 1042"]
    assert Message.objects.count() == 0
