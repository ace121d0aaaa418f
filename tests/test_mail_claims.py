"""A message in the outbox is claimed by the worker sending it for as long as that worker
lives: a second worker skips it, and once the first is gone (its database session ends,
as when the process is killed) a later delivery run sends it, with the Message-ID it was
given when it was queued. The multi-server test does the same with real processes and
a kill (tests/cluster)."""

import threading

import pytest
from django.core import mail
from django.core.mail import send_mail
from django.core.management import call_command
from django.db import connections, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from mailer.models import Message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture
def outbox(settings):
    settings.EMAIL_BACKEND = "arkiv.mail.QueueBackend"
    settings.MAILER_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--queue-name", "*", verbosity=0)


class OtherWorker(threading.Thread):
    """A worker in the middle of sending one message: its own database session holds the
    message's row lock until it is told to go (its session ends without a commit)."""

    def __init__(self, pk):
        super().__init__()
        self.pk, self.holding, self.gone = pk, threading.Event(), threading.Event()

    def run(self):
        try:
            with transaction.atomic():
                Message.objects.select_for_update().get(pk=self.pk)
                self.holding.set()
                self.gone.wait(timeout=60)
                transaction.set_rollback(True)
        finally:
            connections.close_all()


def test_a_message_held_by_a_worker_that_dies_is_sent_by_a_later_run_under_its_first_message_id(postgres, outbox):
    send_mail("Your Arkiv order A-1001 is confirmed", "Thank you", None, ["clara@example.com"])
    queued = Message.objects.get()
    message_id = queued.email.extra_headers["Message-ID"]
    other = OtherWorker(queued.pk)
    other.start()
    assert other.holding.wait(timeout=30)

    run_worker()  # this worker finds the message claimed and leaves it alone

    assert mail.outbox == []
    other.gone.set()  # the worker holding it dies before the server took the message
    other.join()
    later = DBTaskResult.objects.filter(status="READY", task_path="arkiv.mail.deliver_mail")
    assert later.filter(run_after__gt=timezone.now()).count() == 1  # a delivery run is scheduled
    later.update(run_after=timezone.now())  # ... and falls due

    run_worker()

    (sent,) = mail.outbox
    assert sent.subject == "Your Arkiv order A-1001 is confirmed"
    assert sent.extra_headers["Message-ID"] == message_id
    assert Message.objects.count() == 0
    run_worker()
    assert len(mail.outbox) == 1
