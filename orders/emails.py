"""Order-status emails (promise P5): confirmation, shipped, cancelled, refunded.

Purely transactional: they say what happened to the order and nothing else. Each is
recorded as an OrderEmail row in the same transaction as the status move; after commit
a task renders it and hands it to the outbox (arkiv/mail.py), which the worker delivers
with retries. "Sent" on the row means handed to the outbox; a failure to get that far
is recorded and retried (`retry_order_emails`), never lost, and never blocks or undoes
the order."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from arkiv import logjson
from privacy import services as privacy

from .models import GiftCard, OrderEmail

SUBJECTS = {
    OrderEmail.Kind.CONFIRMATION: _("Your Arkiv order %(number)s is confirmed"),
    OrderEmail.Kind.SHIPPED: _("Your Arkiv order %(number)s is on its way"),
    OrderEmail.Kind.CANCELLED: _("Your Arkiv order %(number)s has been cancelled"),
    OrderEmail.Kind.REFUNDED: _("A refund for your Arkiv order %(number)s"),
    OrderEmail.Kind.GIFT_CARD: _("%(buyer)s sent you an Arkiv gift card"),
}


def queue(order, kind, *, to=None):
    """Record an email for the order and send it once the transaction commits. An
    under-18 buyer's guardian gets a copy of the confirmation (promise P8)."""
    email = OrderEmail.objects.create(order=order, kind=kind, to=to or order.email)
    transaction.on_commit(lambda: _send_soon(email))
    if kind == OrderEmail.Kind.CONFIRMATION and to is None:
        guardian = privacy.guardian_email_for(order.number)
        if guardian:
            copy = OrderEmail.objects.create(order=order, kind=kind, to=guardian)
            transaction.on_commit(lambda: _send_soon(copy))
    return email


def queue_gift_card(order, card):
    """Record the email that brings a new card's code to its recipient, and send it once
    the transaction commits. One per card (a unique row): never sent twice."""
    email = OrderEmail.objects.create(
        order=order, kind=OrderEmail.Kind.GIFT_CARD, to=card.purchase.recipient_email, gift_card=card
    )
    transaction.on_commit(lambda: _send_soon(email))
    return email


def render(email):
    """Subject, text and HTML of an order email, in the language the order was placed in
    (not whichever is active where it is sent: a staff action, the worker), with links to
    the order's pages in that language."""
    order = email.order
    with translation.override(order.language):
        context = {
            "order": order,
            "lines": list(order.lines.all()),
            "kind": email.kind,
            "service_email": settings.ARKIV_SERVICE_EMAIL,
            "site_url": settings.ARKIV_SITE_URL,
            "order_url": order_page_url(order),
            "gift_card_lines": list(order.gift_card_lines.select_related("gift_card")),
        }
        if email.kind == OrderEmail.Kind.GIFT_CARD:
            context |= {"card": email.gift_card, "purchase": email.gift_card.purchase}
        subject = SUBJECTS[email.kind] % {"number": order.number, "buyer": order.billing_name}
        if email.kind == OrderEmail.Kind.GIFT_CARD and email.gift_card.replaces_id:
            subject = str(_("A new code for your Arkiv gift card"))
        text = render_to_string(f"orders/email/{email.kind}.txt", context)
        html = render_to_string(f"orders/email/{email.kind}.html", context)
    return subject, text, html


def order_page_url(order):
    """The absolute address of the order's page in the active language."""
    return settings.ARKIV_SITE_URL.rstrip("/") + order.get_absolute_url()


def send(email):
    """Hand one recorded email to the outbox, once: the row is locked and re-read, and
    the outbox message and the 'sent' mark commit together, so the task and a
    `retry_order_emails` run at the same moment never queue it twice. On failure keep
    it for a retry. Returns whether this call handed it over."""
    try:
        with transaction.atomic():
            if not OrderEmail.objects.select_for_update().filter(pk=email.pk).exclude(state=OrderEmail.State.SENT):
                return False  # handed over meanwhile by another run
            subject, text, html = render(email)
            message = EmailMultiAlternatives(
                subject, text, settings.DEFAULT_FROM_EMAIL, [email.to], reply_to=[settings.ARKIV_SERVICE_EMAIL]
            )
            message.attach_alternative(html, "text/html")
            message.send()
            if email.gift_card_id:
                # Handed over: from now on only the code's hash is kept.
                GiftCard.objects.filter(pk=email.gift_card_id).update(code_to_send="")
            email.state, email.sent_at, email.last_error = OrderEmail.State.SENT, timezone.now(), ""
            email.attempts += 1
            email.save(update_fields=["state", "attempts", "sent_at", "last_error"])
    except Exception as exc:  # noqa: BLE001 - any failure must leave the order alone
        email.refresh_from_db(fields=["attempts"])
        email.state, email.last_error = OrderEmail.State.FAILED, f"{exc.__class__.__name__}: {exc}"[:300]
        email.attempts += 1
        email.save(update_fields=["state", "attempts", "last_error"])
        return False
    return True


def _send_soon(email):
    # The request's id goes with the task, so the worker's logs of this email (and of
    # its delivery by the outbox) carry the id of the request that caused it.
    send_order_email.enqueue(email.pk, request_id=logjson.request_id.get())


@task()
def send_order_email(email_id, request_id=None):
    with logjson.bound_request_id(request_id):
        email = (
            OrderEmail.objects.select_related("order").filter(pk=email_id).exclude(state=OrderEmail.State.SENT).first()
        )
        return send(email) if email else True


def retry_unsent(*, max_attempts=10):
    """Send again every order email that failed or never left; returns how many went."""
    sent = 0
    pending = OrderEmail.objects.select_related("order").exclude(state=OrderEmail.State.SENT)
    for email in pending.filter(attempts__lt=max_attempts):
        sent += send(email)
    return sent
