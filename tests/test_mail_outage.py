"""A mail server that is down or hangs never costs a visitor a 500 or a message: every
email waits in the outbox and the task worker delivers it, once, when the server is back.

These tests run the production path: the queueing EMAIL_BACKEND, the database task
queue, the worker as its real command, and real sockets (a closed port, a server that
accepts and never speaks, and a real SMTP server)."""

import uuid
from decimal import Decimal
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from django.core.mail import BadHeaderError, send_mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from mailer.models import Message

from accounts.models import User
from orders.cart import CartLine
from orders.emails import retry_unsent
from orders.models import Order, OrderEmail, Status
from orders.services import order_place, order_transition
from privacy import services as privacy
from privacy.models import EmailCampaign, Purpose, Source
from tests.factories import OfferFactory, checkout_details
from tests.orders.test_payments import CHECKOUT
from tests.servers import SilentServer, closed_port
from tests.threads import at_once

pytestmark = pytest.mark.django_db(transaction=True)


class Inbox:
    """A mail server that accepts everything except mail to bounce@example.com; while
    busy, it answers the message with 421 (service not available)."""

    def __init__(self):
        self.messages = []
        self.busy = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == "bounce@example.com":
            return "550 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.busy:
            return "421 Too busy, try again later"
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


@pytest.fixture
def mail_server_port():
    return closed_port()


@pytest.fixture
def smtp_up(mail_server_port):
    """Bring a real SMTP server up on the shop's mail port; returns its inbox."""
    controllers = []

    def start():
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=mail_server_port)
        controller.start()
        controllers.append(controller)
        return inbox

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def queued_mail(settings, mail_server_port):
    """Production's mail path: the outbox backend, the database task queue and SMTP."""
    settings.EMAIL_BACKEND = "arkiv.mail.QueueBackend"
    settings.MAILER_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", mail_server_port
    settings.EMAIL_TIMEOUT = 1  # the worker's wait on a silent server; keeps the test short
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--queue-name", "*", verbosity=0)


def run_cron():
    """The optional cron line: give deferred messages another go, then deliver."""
    call_command("retry_deferred")
    call_command("send_mail")


def scheduled_retries():
    return DBTaskResult.objects.filter(
        status="READY", task_path="arkiv.mail.deliver_mail", run_after__gt=timezone.now()
    ).count()


def retry_interval_passes():
    """The clock moves past MAIL_RETRY_SECONDS: the worker's scheduled retry falls due."""
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())


def assert_kept_for_a_retry(count=1):
    assert Message.objects.count() == count and not Message.objects.deferred().exists()
    assert scheduled_retries() == 1


def sign_up(client):
    return client.post(
        "/account/sign-up/",
        {
            "email": "ann@example.com",
            "full_name": "Ann Archer",
            "password1": "Gould-1955-bach",
            "password2": "Gould-1955-bach",
        },
    )


def contact(client):
    return client.post(
        "/contact/", {"name": "Ann Archer", "email": "ann@example.com", "message": "Is the Gould box back in stock?"}
    )


def checkout_with_offers_ticked(client):
    offer = OfferFactory(price=Decimal("15.00"), stock=5)
    client.post("/cart/add/", {"offer": offer.pk, "quantity": 1})
    token = client.get("/checkout/").context["form"].initial["checkout_token"]
    return client.post("/checkout/", {**CHECKOUT, "promo_email": "on", "checkout_token": token})


def test_sign_up_succeeds_while_the_mail_server_refuses_and_the_proof_arrives_once_it_is_up(
    client, queued_mail, smtp_up
):
    response = sign_up(client)
    assert response.status_code == 302 and response["Location"].endswith("/account/sign-up/sent/")
    assert User.objects.filter(email="ann@example.com").exists()
    assert Message.objects.count() == 1  # waiting in the outbox

    run_worker()  # nothing listens on the mail port: refused, kept, retry scheduled
    assert_kept_for_a_retry()

    inbox = smtp_up()
    run_cron()
    retry_interval_passes()
    run_worker()
    run_cron()
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["ann@example.com"] and message["Subject"] == "Confirm your email address for Arkiv"
    assert "/account/verify/" in message.get_payload()
    assert Message.objects.count() == 0


def test_contact_form_answers_at_once_while_the_mail_server_hangs_and_the_question_is_delivered_later(
    client, queued_mail, mail_server_port, smtp_up
):
    silent = SilentServer(mail_server_port)
    response = contact(client)
    assert response.status_code == 302
    assert "Thank you" in client.get(response["Location"]).content.decode()
    assert contact(client).status_code == 302  # and a second visitor's question
    assert silent.connections == []  # the requests never waited on the mail server
    assert Message.objects.count() == 2

    run_worker()  # connects, hears nothing, gives up after EMAIL_TIMEOUT: the run stops
    assert len(silent.connections) == 2  # one timeout per delivery run, not per message
    assert_kept_for_a_retry(2)  # two failed runs, one retry
    silent.close()

    inbox = smtp_up()
    retry_interval_passes()
    run_worker()
    run_worker()
    assert len(inbox.messages) == 2 and Message.objects.count() == 0
    recipients, message = inbox.messages[0]
    assert recipients == ["feedback@arkiv.example"] and message["Reply-To"] == "ann@example.com"
    assert "Gould box" in message.get_payload()


@pytest.mark.parametrize("outage", ["refused", "hanging"])
def test_checkout_with_offers_ticked_goes_to_payment_during_a_mail_outage_and_the_confirmation_link_follows(
    client, queued_mail, mail_server_port, smtp_up, payment_sandbox, outage
):
    silent = SilentServer(mail_server_port) if outage == "hanging" else None
    response = checkout_with_offers_ticked(client)
    assert response.status_code == 302 and response["Location"].startswith(payment_sandbox.public_url + "/pay/")
    assert Order.objects.count() == 1
    assert Message.objects.count() == 1
    if silent:
        assert silent.connections == []

    run_worker()
    assert_kept_for_a_retry()
    if silent:
        silent.close()

    inbox = smtp_up()
    retry_interval_passes()
    run_worker()
    run_cron()
    assert [(m[0], m[1]["Subject"]) for m in inbox.messages] == [
        (["clara@example.com"], "Please confirm: offers from Arkiv by email")
    ]


def test_the_worker_delivers_queued_mail_to_a_running_server_exactly_once(client, queued_mail, smtp_up):
    inbox = smtp_up()
    sign_up(client)
    assert inbox.messages == []  # the request only queued it
    assert DBTaskResult.objects.count() == 1  # and asked the worker to deliver

    run_worker()
    run_worker()
    run_cron()
    assert len(inbox.messages) == 1 and inbox.messages[0][0] == ["ann@example.com"]
    assert scheduled_retries() == 0


def authorised_guest_order():
    """A paid guest order whose confirmation email is recorded and waits for the worker."""
    offer = OfferFactory(price=Decimal("19.99"), stock=3)
    order = order_place(
        cart_lines=[CartLine(offer, 1, offer.price)],
        customer=None,
        checkout=checkout_details(),
        checkout_token=uuid.uuid4(),
    )
    order_transition(order, Status.AUTHORISED)
    return order


def test_an_order_confirmed_during_a_mail_outage_gets_its_confirmation_once_the_server_is_up(queued_mail, smtp_up):
    order = authorised_guest_order()
    order.refresh_from_db()
    assert order.status == Status.AUTHORISED

    run_worker()  # renders the email into the outbox, then fails to reach the server
    assert OrderEmail.objects.get(order=order).state == OrderEmail.State.SENT  # handed to the outbox
    assert_kept_for_a_retry()

    inbox = smtp_up()
    retry_interval_passes()
    run_worker()
    run_worker()
    assert [(m[0], m[1]["Subject"]) for m in inbox.messages] == [
        (["clara@example.com"], f"Your Arkiv order {order.number} is confirmed")
    ]


def test_password_reset_answers_during_a_mail_outage_and_the_link_follows(client, queued_mail, smtp_up):
    User.objects.create_user(email="ann@example.com", password="Gould-1955-bach")
    response = client.post("/account/password-reset/", {"email": "ann@example.com"})
    assert response.status_code == 302
    assert Message.objects.count() == 1

    run_worker()
    assert_kept_for_a_retry()
    inbox = smtp_up()
    retry_interval_passes()
    run_worker()
    assert len(inbox.messages) == 1 and inbox.messages[0][0] == ["ann@example.com"]
    assert "/account/password-reset/" in inbox.messages[0][1].get_payload()


def test_a_rolled_back_transaction_queues_no_mail(queued_mail, smtp_up):
    inbox = smtp_up()
    with pytest.raises(RuntimeError), transaction.atomic():
        send_mail("Your order", "Thank you", None, ["ann@example.com"])
        raise RuntimeError("the order could not be placed")
    assert Message.objects.count() == 0 and DBTaskResult.objects.count() == 0
    run_worker()
    assert inbox.messages == []


def test_a_campaign_never_holds_up_a_customers_sign_up_link(client, queued_mail, smtp_up):
    for n in range(3):
        privacy.consent_record(
            email=f"p{n}@example.com",
            purpose=Purpose.PROMO_EMAIL,
            action="granted",
            source=Source.CONFIRMATION_LINK,
            wording="yes",
        )
    campaign = EmailCampaign.objects.create(subject="New Brahms recordings", body_text="Three new Brahms cycles.")
    call_command("send_email_campaign", campaign.pk)
    sign_up(client)  # queued after the campaign
    inbox = smtp_up()
    run_worker()
    assert [m[0] for m in inbox.messages] == [
        ["ann@example.com"],
        ["p0@example.com"],
        ["p1@example.com"],
        ["p2@example.com"],
    ]
    assert all(m[1]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" for m in inbox.messages[1:])


@pytest.mark.postgres
def test_two_workers_side_by_side_deliver_every_message_exactly_once(postgres, queued_mail, smtp_up):
    for n in range(40):
        send_mail(f"Order {n}", "Thank you", None, [f"c{n}@example.com"])
    inbox = smtp_up()
    workers = 2
    assert at_once(workers, lambda i: call_command("send_mail")) == [None] * workers
    subjects = sorted(m[1]["Subject"] for m in inbox.messages)
    assert subjects == sorted(f"Order {n}" for n in range(40))
    assert Message.objects.count() == 0


def test_an_address_the_server_refuses_is_kept_for_a_retry_and_holds_up_no_one_else(queued_mail, smtp_up):
    inbox = smtp_up()
    send_mail("Your order", "Thank you", None, ["bounce@example.com"])
    send_mail("Your order", "Thank you", None, ["ann@example.com"])
    run_worker()
    assert [m[0] for m in inbox.messages] == [["ann@example.com"]]
    assert Message.objects.deferred().count() == 1 and scheduled_retries() == 1

    retry_interval_passes()
    run_worker()
    assert [m[0] for m in inbox.messages] == [["ann@example.com"]]
    assert Message.objects.deferred().get().retry_count == 1


@pytest.mark.postgres
def test_an_order_email_retried_while_its_task_runs_is_queued_once(postgres, queued_mail):
    order = authorised_guest_order()  # its email waits for the worker
    # The worker's task and `retry_order_emails` from cron, all at once.
    outcomes = at_once(4, lambda i: retry_unsent())
    assert all(isinstance(sent, int) for sent in outcomes), outcomes
    assert [m.email.subject for m in Message.objects.all()] == [f"Your Arkiv order {order.number} is confirmed"]
    assert OrderEmail.objects.get(order=order).state == OrderEmail.State.SENT


def test_a_busy_server_keeps_every_message_queued_without_spending_its_retries(queued_mail, smtp_up):
    inbox = smtp_up()
    inbox.busy = True
    send_mail("Your order", "Thank you", None, ["ann@example.com"])
    send_mail("Your order", "Thank you", None, ["bob@example.com"])
    run_worker()
    assert_kept_for_a_retry(2)
    assert not Message.objects.filter(retry_count__gt=0).exists()

    inbox.busy = False
    retry_interval_passes()
    run_worker()
    assert sorted(m[0][0] for m in inbox.messages) == ["ann@example.com", "bob@example.com"]


def test_a_malformed_message_fails_its_sender_and_is_never_queued(queued_mail):
    with pytest.raises(BadHeaderError):
        send_mail("Question from Ann\nBcc: everyone@example.com", "Hello", None, ["feedback@arkiv.example"])
    assert Message.objects.count() == 0 and DBTaskResult.objects.count() == 0
