"""Order emails: what they say, that they are purely transactional, and that a mail
server failure never loses or blocks an order and is retried."""

import uuid
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command

from orders.cart import CartLine
from orders.models import OrderEmail, Status
from orders.services import order_place, order_transition
from tests.factories import OfferFactory, checkout_details

pytestmark = pytest.mark.django_db


class FailingBackend:
    """A mail server that is down."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server unreachable")


@pytest.fixture
def order():
    cd = OfferFactory(price=Decimal("19.99"), stock=3, release__title="Dvořák: Symphony no. 9")
    mto = OfferFactory(price=Decimal("12.50"), made_to_order=True, lead_time_days=5, stock=0)
    return order_place(
        cart_lines=[CartLine(cd, 2, cd.price), CartLine(mto, 1, mto.price)],
        customer=None,
        checkout=checkout_details(),
        checkout_token=uuid.uuid4(),
    )


def test_confirmation_has_lines_totals_and_addresses_in_text_and_html(order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order_transition(order, Status.AUTHORISED)
    message = mail.outbox[-1]
    assert message.subject == f"Your Arkiv order {order.number} is confirmed"
    html = message.alternatives[0][0]
    for text in (
        "2 x Dvořák: Symphony no. 9",
        "€39.98",
        "ships in about 5 working days",
        "Total: €57.43",
        "1 Wieck Street",
        "04109 Leipzig",
    ):
        assert text in message.body, text
    assert "Dvořák: Symphony no. 9" in html and "€57.43" in html and "1 Wieck Street" in html
    assert message.reply_to == ["service@arkiv.example"]


def test_order_emails_carry_no_promotion(order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order_transition(order, Status.AUTHORISED)
    message = mail.outbox[-1]
    text = (message.body + message.alternatives[0][0]).lower()
    for word in ("offer", "discount", "sale", "newsletter", "recommend", "unsubscribe", "you may also like"):
        assert word not in text, word
    assert "/releases/" not in text and "/composers/" not in text


def test_a_mail_outage_never_blocks_the_order_and_the_email_is_retried(
    order, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.orders.test_emails.FailingBackend"
    with django_capture_on_commit_callbacks(execute=True):
        order_transition(order, Status.AUTHORISED)
    order.refresh_from_db()
    assert order.status == Status.AUTHORISED
    email = OrderEmail.objects.get(order=order)
    assert email.state == OrderEmail.State.FAILED and "unreachable" in email.last_error and email.attempts == 1
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("retry_order_emails")
    email.refresh_from_db()
    assert email.state == OrderEmail.State.SENT and email.attempts == 2
    assert mail.outbox[-1].subject.endswith("is confirmed")
    call_command("retry_order_emails")
    assert len(mail.outbox) == 1  # sent once, not again
