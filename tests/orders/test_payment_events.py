"""Payment events are never lost: an event is recorded as handled only once it was
processed, so a failure answers 5xx, the processor retries, and the retry does the work.
The payment-cancelled page says only what is true."""

import json

import pytest
from django.core import mail
from django.db import connection

from catalog.models import Offer
from orders.models import PaymentEvent, Status
from orders.sandbox import sign
from orders.services import payment_abandon
from tests.orders.helpers import deliver, pay
from tests.orders.test_payments import checkout

pytestmark = pytest.mark.django_db


def completed_event(sandbox):
    return next(e for e in sandbox.events if e["type"] == "checkout.session.completed")


def test_webhook_while_the_processor_is_down_is_retried_and_the_retry_authorises(
    client, payment_sandbox, offers, settings, refusing_processor_url
):
    payment_url, order = checkout(client, offers)
    pay(payment_url)
    event = completed_event(payment_sandbox)
    sandbox_address = settings.STRIPE_API_BASE

    settings.STRIPE_API_BASE = refusing_processor_url  # the processor's API is down
    response = deliver(client, event)
    assert response.status_code == 503
    order.refresh_from_db()
    assert order.status == Status.PENDING_PAYMENT and not PaymentEvent.objects.exists()

    settings.STRIPE_API_BASE = sandbox_address  # up again: the processor retries
    assert deliver(client, event).content == b"synced"
    order.refresh_from_db()
    assert order.status == Status.AUTHORISED
    assert PaymentEvent.objects.filter(event_id=event["id"]).count() == 1
    assert deliver(client, event).content == b"replayed"


def test_webhook_while_the_processor_hangs_answers_503_then_the_retry_authorises(
    client, payment_sandbox, offers, settings, silent_processor
):
    payment_url, order = checkout(client, offers)
    pay(payment_url)
    event = completed_event(payment_sandbox)
    sandbox_address = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = silent_processor.url
    assert deliver(client, event).status_code == 503
    assert not PaymentEvent.objects.exists()
    settings.STRIPE_API_BASE = sandbox_address
    assert deliver(client, event).content == b"synced"
    order.refresh_from_db()
    assert order.status == Status.AUTHORISED


@pytest.mark.django_db(transaction=True)
def test_webhook_during_a_database_failure_answers_503_and_the_retry_authorises(client, payment_sandbox, offers):
    payment_url, order = checkout(client, offers)
    pay(payment_url)
    event = completed_event(payment_sandbox)
    table = PaymentEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_away")  # a real database error, not a mock
    try:
        response = deliver(client, event)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table}_away RENAME TO {table}")
    assert response.status_code == 503
    assert not PaymentEvent.objects.exists()
    assert deliver(client, event).content == b"synced"
    order.refresh_from_db()
    assert order.status == Status.AUTHORISED


@pytest.mark.parametrize(
    "payload",
    [
        "[]",
        '"checkout.session.completed"',
        "{}",
        '{"id": 7, "type": "checkout.session.completed", "data": {"object": {}}}',
        '{"id": "evt_1", "type": null, "data": {"object": {}}}',
        '{"id": "evt_1", "type": "checkout.session.completed"}',
        '{"id": "evt_1", "type": "checkout.session.completed", "data": []}',
        '{"id": "evt_1", "type": "checkout.session.completed", "data": {"object": "cs_1"}}',
        '{"id": "evt_1", "type": "checkout.session.completed", "data": {"object": {"metadata": ["AK-1"]}}}',
        '{"id": "evt_1", "type": "checkout.session.completed", "data": {"object": {"metadata": {"order": 5}}}}',
        '{"id": "evt_1", "type": "x", "data": {"object": {"client_reference_id": {"a": 1}}}}',
        json.dumps({"id": "evt_" + "9" * 200, "type": "checkout.session.completed", "data": {"object": {}}}),
        "not json at all",
    ],
)
def test_correctly_signed_but_malformed_events_get_400_not_500(client, payment_sandbox, payload):
    response = client.post(
        "/orders/webhooks/stripe/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload, "whsec_test_secret"),
    )
    assert response.status_code == 400 and b"malformed event" in response.content
    assert not PaymentEvent.objects.exists()


def test_leaving_the_payment_page_while_the_processor_is_down_never_claims_nothing_was_charged(
    client, payment_sandbox, offers, settings, refusing_processor_url
):
    payment_url, order = checkout(client, offers)
    sandbox_address = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = refusing_processor_url
    response = client.get(f"/orders/{order.number}/payment-cancelled/", follow=True)
    body = response.content.decode()
    assert response.status_code == 200
    assert "nothing was charged" not in body
    assert "cannot yet tell whether a payment went through" in body and order.number in body
    # The page could not be closed, so the order and its stock stay until it lapses...
    order.refresh_from_db()
    assert order.status == Status.PENDING_PAYMENT
    assert Offer.objects.get(pk=offers[0].pk).stock == 3
    assert client.session["cart_count"] == 3
    # ...and a payment made on it meanwhile is honoured when the processor is back.
    settings.STRIPE_API_BASE = sandbox_address
    assert payment_sandbox.sessions[order.payment_session_id]["status"] == "open"
    pay(payment_url)
    assert deliver(client, completed_event(payment_sandbox)).content == b"synced"
    order.refresh_from_db()
    assert order.status == Status.AUTHORISED


def test_leaving_the_payment_page_closes_it_before_saying_nothing_was_charged(client, payment_sandbox, offers):
    payment_url, order = checkout(client, offers)
    body = client.get(f"/orders/{order.number}/payment-cancelled/", follow=True).content.decode()
    assert "nothing was charged" in body
    assert payment_sandbox.sessions[order.payment_session_id]["status"] == "expired"
    status, _, page = pay(payment_url)
    assert "This payment page has expired." in page or status != 303


def test_a_correctly_signed_event_older_than_five_minutes_is_refused(client, payment_sandbox, offers):
    payment_url, order = checkout(client, offers)
    pay(payment_url)
    payload = json.dumps(completed_event(payment_sandbox))
    stale = sign(payload, "whsec_test_secret", timestamp=1_700_000_000)
    response = client.post(
        "/orders/webhooks/stripe/", payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=stale
    )
    assert response.status_code == 400
    order.refresh_from_db()
    assert order.status == Status.PENDING_PAYMENT and not PaymentEvent.objects.exists()


def test_a_buyer_who_paid_just_before_the_page_was_abandoned_keeps_the_order(
    client, payment_sandbox, offers, django_capture_on_commit_callbacks
):
    # The card went through on the payment page while the shop was closing it (e.g. the
    # buyer paid in another tab as the cancel page or a declined-card path ran).
    payment_url, order = checkout(client, offers)
    pay(payment_url)
    with django_capture_on_commit_callbacks(execute=True):
        order = payment_abandon(order, reason="Buyer left the payment page")
    assert order.status == Status.AUTHORISED
    assert Offer.objects.get(pk=offers[0].pk).stock == 3  # still reserved for the paid order
    assert [m.subject for m in mail.outbox] == [f"Your Arkiv order {order.number} is confirmed"]
