"""Outgoing mail never leaves from a request: every message the shop sends (sign-up and
email-change proofs, password resets, the contact form, offer confirmations, order
emails, service@ replies, campaigns) is written to django-mailer's outbox in the
caller's transaction and delivered by the task worker through the real transport
(settings.MAILER_EMAIL_BACKEND, with EMAIL_TIMEOUT).

A transaction that rolls back takes its messages with it; a mail server that is down or
hangs costs the worker a timeout, never a visitor. Undelivered messages are deferred,
kept, and sent again by `manage.py retry_deferred` followed by a delivery run."""

import logging

from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django_tasks import task
from mailer.engine import send_all
from mailer.models import PRIORITY_LOW, PRIORITY_MEDIUM, RESULT_FAILURE, Message, MessageLog

logger = logging.getLogger(__name__)


@task()
def deliver_mail():
    """Deliver what waits in the outbox. Idempotent: each message is locked
    (select_for_update nowait on PostgreSQL), sent and removed in one transaction, so
    runs side by side never send a message twice."""
    send_all()


def deliver_soon():
    """Ask the worker for a delivery run; if the queue itself is unreachable the
    messages stay in the outbox for the next run, and the caller is not troubled."""
    try:
        deliver_mail.enqueue()
    except Exception:
        logger.exception("Could not enqueue mail delivery; the outbox keeps the messages")


def _priority(message):
    # Bulk mail (campaigns say "Precedence: bulk") waits behind what a customer is
    # waiting for: a sign-up link or an order confirmation never queues behind 10,000 offers.
    headers = {k.lower(): v for k, v in message.extra_headers.items()}
    return PRIORITY_LOW if headers.get("precedence", "").lower() == "bulk" else PRIORITY_MEDIUM


class QueueBackend(BaseEmailBackend):
    """EMAIL_BACKEND for the shop: write to the outbox in the caller's transaction (a
    rollback queues nothing) and ask the worker for a delivery run after commit."""

    def send_messages(self, email_messages):
        queued = Message.objects.bulk_create(
            [Message(email=message, priority=_priority(message)) for message in email_messages]
        )
        if queued:
            transaction.on_commit(deliver_soon)
        return len(queued)


def defer_on_error(connection, message, exc):
    """MAILER_ERROR_HANDLER: any failure to hand a message over (refused, timed out,
    rejected by an email service's API) defers it for a retry instead of stopping the
    run. The log names the error, never the address or the content."""
    message.defer()
    MessageLog.objects.log(message, RESULT_FAILURE, log_message=f"{exc.__class__.__name__}")
    logger.warning("Mail delivery deferred (%s); it will be retried", exc.__class__.__name__)
    return None, "deferred"
