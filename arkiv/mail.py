"""Outgoing mail never leaves from a request: every message the shop sends (sign-up and
email-change proofs, password resets, the contact form, offer confirmations, order
emails, service@ replies, campaigns) is written to django-mailer's outbox in the
caller's transaction and delivered by the task worker through the real transport
(settings.MAILER_EMAIL_BACKEND, with EMAIL_TIMEOUT).

A transaction that rolls back takes its messages with it; a mail server that is down or
hangs costs the worker one timeout, never a visitor. Two kinds of failure:

- the server cannot be reached (refused, silent, disconnected, bad login): the run
  stops, every message stays queued as it was, and the worker tries again after
  MAIL_RETRY_SECONDS. An outage says nothing about the messages, so none is marked.
- the server refuses one message (an address, the content): that message is deferred
  and the rest go on; deferred messages get MAILER_EMAIL_MAX_RETRIES more tries.

`manage.py retry_deferred` and `manage.py send_mail` (django-mailer) do the same from
cron, for sites that want a schedule beside the worker's own retries.

Several workers, and a worker killed mid-send. Each message is claimed by a row lock
(SELECT ... FOR UPDATE NOWAIT) held by the sending worker's database session: the lease
ends when the worker commits or when its process dies (PostgreSQL drops the session and
the lock with it), never by a clock. The delivery is recorded (the message deleted, the
log written) and committed right after the server's "250 OK". So:
- a worker killed before the server took the message leaves it in the outbox unlocked,
  and the next run sends it: another worker's (each queued email asks for one), or the
  retry that any run schedules when it found messages it could not take. If the killed
  worker's run was the only one, the message waits for the next email queued or a
  `manage.py send_mail` from cron; it is never dropped;
- the only window for a second copy is between the server's "250 OK" and that commit (a
  reply in transit, one DELETE and one INSERT). SMTP cannot close it (RFC 1047); the
  copy then carries the same Message-ID, given once when the message enters the outbox,
  so mail systems and readers recognise it as the same message."""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.cache import caches
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import make_msgid
from django.core.mail.utils import DNS_NAME
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks import task
from mailer.engine import send_all
from mailer.models import PRIORITY_LOW, PRIORITY_MEDIUM, RESULT_FAILURE, Message, MessageLog

from arkiv import logjson
from arkiv.addresses import normalise_email

logger = logging.getLogger(__name__)

# HTTP statuses of an email service's API that say "not now" rather than "not this one".
SERVICE_UNAVAILABLE_STATUSES = {401, 403, 408, 429}
RETRY_SCHEDULED_KEY = "arkiv:mail:retry-scheduled"


class MailServerUnavailable(Exception):
    pass


def templated_email(subject, template, context, to, **kwargs):
    """A plain-text message to one address, its body rendered from `template`; kwargs go
    to EmailMessage (headers, reply_to, connection). Sending it queues it in the outbox."""
    return EmailMessage(subject, render_to_string(template, context), None, [to], **kwargs)


@task()
def deliver_mail(*, retry_deferred=False, request_id=None):
    """Deliver what waits in the outbox. Idempotent: each message is locked
    (select_for_update nowait on PostgreSQL), sent and removed in one transaction, so
    runs side by side never send a message twice. `request_id` is the id of the request
    that queued the mail: the run logs under it, so one id follows a request into the
    worker."""
    with logjson.bound_request_id(request_id):
        _deliver(retry_deferred=retry_deferred)


def _deliver(*, retry_deferred):
    if retry_deferred:
        Message.objects.retry_deferred()
    logger.info("Delivering the outbox: %d message(s) waiting", Message.objects.non_deferred().count())
    try:
        send_all()
    except MailServerUnavailable as exc:
        logger.warning("Mail server unavailable (%s); delivery will be retried", exc)
        retry_later()
        return
    # Messages still waiting were held by another worker (it is sending them, or it died
    # and its lock went with it): a later run makes sure none is left behind.
    if _deferred_with_tries_left().exists() or Message.objects.non_deferred().exists():
        retry_later()


def _deferred_with_tries_left():
    return Message.objects.deferred().filter(retry_count__lt=settings.MAILER_EMAIL_MAX_RETRIES)


def retry_later():
    """One delivery run after MAIL_RETRY_SECONDS; however many runs failed meanwhile,
    only one retry is scheduled per interval (the "shared" cache is seen by every worker)."""
    delay = settings.MAIL_RETRY_SECONDS
    if not deliver_mail.get_backend().supports_defer:
        logger.warning("The task backend cannot schedule; run `manage.py send_mail` to retry")
        return
    if caches["shared"].add(RETRY_SCHEDULED_KEY, True, timeout=max(delay - 1, 1)):
        deliver_mail.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(
            retry_deferred=True, request_id=logjson.request_id.get()
        )


def deliver_soon():
    """Ask the worker for a delivery run; if the queue itself is unreachable the
    messages stay in the outbox for the next run, and the caller is not troubled."""
    try:
        deliver_mail.enqueue(request_id=logjson.request_id.get())
    except Exception:
        logger.exception("Could not enqueue mail delivery; the outbox keeps the messages")


def outbox_forget(addresses):
    """Drop messages still waiting for any of these addresses (erasure: nothing is sent
    to, or kept for, an erased person). The outbox is small, so reading it is cheap."""
    wanted = {normalise_email(a) for a in addresses if a}
    doomed = [m.pk for m in Message.objects.all() if wanted & {normalise_email(t) for t in m.to_addresses}]
    return Message.objects.filter(pk__in=doomed).delete()[0]


def _priority(message):
    # Bulk mail (campaigns say "Precedence: bulk") waits behind what a customer is
    # waiting for: a sign-up link or an order confirmation never queues behind 10,000 offers.
    headers = {k.lower(): v for k, v in message.extra_headers.items()}
    return PRIORITY_LOW if headers.get("precedence", "").lower() == "bulk" else PRIORITY_MEDIUM


class QueueBackend(BaseEmailBackend):
    """EMAIL_BACKEND for the shop: write to the outbox in the caller's transaction (a
    rollback queues nothing) and ask the worker for a delivery run after commit."""

    def send_messages(self, email_messages):
        for message in email_messages:
            # Build each message now, as an inline backend would: a malformed one (a
            # newline in a header) fails in its caller, not in the worker forever.
            message.message()
            # One Message-ID for the message's whole life: a copy sent again after a
            # worker died is recognisably the same message.
            if not any(name.lower() == "message-id" for name in message.extra_headers):
                message.extra_headers["Message-ID"] = make_msgid(domain=DNS_NAME)
        queued = Message.objects.bulk_create(
            [Message(email=message, priority=_priority(message)) for message in email_messages]
        )
        if queued:
            transaction.on_commit(deliver_soon)
        return len(queued)


def server_unavailable(exc):
    """Whether a failure says the mail server (or email service) cannot take mail now,
    as opposed to refusing this one message."""
    if isinstance(exc, (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)):
        return getattr(exc, "smtp_code", None) == 421  # "service not available, closing"
    status = getattr(exc, "status_code", None)  # anymail's API errors (also OSErrors)
    if status is not None and 400 <= status < 500:
        return status in SERVICE_UNAVAILABLE_STATUSES
    return isinstance(exc, OSError)  # refused, timed out, disconnected, TLS, login, 5xx


def handle_delivery_error(connection, message, exc):
    """MAILER_ERROR_HANDLER. A server that cannot be reached stops the run with the
    message untouched (its transaction rolls back); a refusal of this one message (or
    an email service's API rejecting it) defers it and the run goes on. Logs name the
    error, never the address or the content."""
    if server_unavailable(exc):
        raise MailServerUnavailable(exc.__class__.__name__) from exc
    message.defer()
    MessageLog.objects.log(message, RESULT_FAILURE, log_message=exc.__class__.__name__)
    logger.warning("A message was refused (%s); it is kept and will be retried", exc.__class__.__name__)
    return None, "deferred"
