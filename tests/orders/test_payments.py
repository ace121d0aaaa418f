"""The purchase from cart to settlement, through the real Stripe library talking HTTP to
the payment sandbox: hosted page, return page, signed webhooks, capture, void, refunds."""

import json
from decimal import Decimal

import pytest
import stripe
from django.core import mail

from catalog.models import Offer
from orders import gateway
from orders.models import Order, PaymentEvent, Status
from orders.services import IllegalTransition, OrderError, order_cancel, order_refund, order_ship, payment_sync
from tests.orders.helpers import CHECKOUT, deliver, pay

pytestmark = pytest.mark.django_db


def checkout(client, offers, quantities=(2, 1)):
    for offer, quantity in zip(offers, quantities, strict=True):
        client.post("/cart/add/", {"offer": offer.pk, "quantity": quantity})
    page = client.get("/checkout/")
    token = page.context["form"].initial["checkout_token"]
    response = client.post("/checkout/", {**CHECKOUT, "checkout_token": token})
    assert response.status_code == 302, response.content.decode()[:3000]
    return response["Location"], Order.objects.get()


def test_guest_pays_with_4242_and_the_order_is_authorised(
    client, payment_sandbox, offers, django_capture_on_commit_callbacks
):
    payment_url, order = checkout(client, offers)
    assert payment_url.startswith(payment_sandbox.public_url + "/pay/cs_test_")
    assert order.status == Status.PENDING_PAYMENT and order.total == Decimal("52.00") + Decimal("4.95")
    session = payment_sandbox.sessions[order.payment_session_id]
    assert session["amount_total"] == 5695 and session["_intent_data"]["capture_method"] == "manual"

    status, location, _ = pay(payment_url)
    assert status == 303 and location.startswith(f"http://testserver/orders/{order.number}/paid/?session_id=cs_test_")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(location.removeprefix("http://testserver"), follow=True)
    order.refresh_from_db()
    assert order.status == Status.AUTHORISED and order.amount_authorised == order.total
    assert "Thank you! Order" in response.content.decode()
    assert client.session["cart_count"] == 0
    assert [m.subject for m in mail.outbox] == [f"Your Arkiv order {order.number} is confirmed"]
    assert Offer.objects.get(pk=offers[0].pk).stock == 3


def test_declined_card_shows_the_processor_message_and_cancel_keeps_the_cart(client, payment_sandbox, offers):
    payment_url, order = checkout(client, offers)
    status, location, body = pay(payment_url, card="4000 0000 0000 0002")
    assert status == 200 and location is None and "Your card was declined." in body
    status, _, body = pay(payment_url, card="4000 0000 0000 9995")
    assert "insufficient funds" in body
    response = client.get(f"/orders/{order.number}/payment-cancelled/", follow=True)
    body = response.content.decode()
    assert "Your payment was not completed and nothing was charged" in body
    assert client.session["cart_count"] == 3 and "cart-line" in body
    order.refresh_from_db()
    assert order.status == Status.PAYMENT_FAILED
    assert Offer.objects.get(pk=offers[0].pk).stock == 5  # released
    assert payment_sandbox.sessions[order.payment_session_id]["status"] == "expired"  # cannot be paid later


def test_the_return_page_alone_is_not_trusted(client, payment_sandbox, offers):
    _, order = checkout(client, offers)
    client.get(f"/orders/{order.number}/paid/?session_id={order.payment_session_id}")
    order.refresh_from_db()
    assert order.status == Status.PENDING_PAYMENT


def test_webhook_authorises_the_order_and_a_replay_changes_nothing(client, payment_sandbox, offers):
    payment_url, order = checkout(client, offers)
    pay(payment_url)
    event = next(e for e in payment_sandbox.events if e["type"] == "checkout.session.completed")
    assert deliver(client, event).content == b"synced"
    order.refresh_from_db()
    assert order.status == Status.AUTHORISED
    assert deliver(client, event).content == b"replayed"
    assert order.history.filter(to_status=Status.AUTHORISED).count() == 1
    assert PaymentEvent.objects.filter(event_id=event["id"]).count() == 1


def test_webhook_with_a_bad_signature_is_rejected(client, payment_sandbox, offers):
    payment_url, order = checkout(client, offers)
    pay(payment_url)
    event = next(e for e in payment_sandbox.events if e["type"] == "checkout.session.completed")
    assert deliver(client, event, secret="whsec_attacker").status_code == 400
    assert deliver(client, event, signature="t=1,v1=deadbeef").status_code == 400
    assert client.post("/orders/webhooks/stripe/", "{}", content_type="application/json").status_code == 400
    order.refresh_from_db()
    assert order.status == Status.PENDING_PAYMENT and not PaymentEvent.objects.exists()


def test_events_out_of_order_end_in_the_right_state(client, payment_sandbox, offers):
    payment_url, order = checkout(client, offers)
    pay(payment_url, card="4000 0000 0000 0002")
    pay(payment_url)
    failed, completed = (
        next(e for e in payment_sandbox.events if e["type"] == t)
        for t in ("payment_intent.payment_failed", "checkout.session.completed")
    )
    assert deliver(client, completed).status_code == 200
    assert deliver(client, failed).status_code == 200  # late failure of an earlier attempt
    order.refresh_from_db()
    assert order.status == Status.AUTHORISED
    # A late "expired" after payment changes nothing either.
    expired = {**completed, "id": "evt_test_late_expiry", "type": "checkout.session.expired"}
    deliver(client, expired)
    order.refresh_from_db()
    assert order.status == Status.AUTHORISED


@pytest.fixture
def paid_order(client, payment_sandbox, offers):
    payment_url, order = checkout(client, offers)
    pay(payment_url)
    return payment_sync(order)


def test_shipping_captures_the_payment_and_emails_tracking(
    paid_order, payment_sandbox, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order_ship(paid_order, carrier="DHL", tracking_number="JD0123456789", by=admin_user)
    intent = payment_sandbox.intents[paid_order.payment_intent_id]
    assert intent["status"] == "succeeded" and intent["amount_received"] == 5695
    assert paid_order.status == Status.SHIPPED and paid_order.amount_captured == Decimal("56.95")
    shipped = mail.outbox[-1]
    assert shipped.subject.endswith("is on its way") and "JD0123456789" in shipped.body and "DHL" in shipped.body


def test_cancel_voids_the_authorisation_and_capture_is_then_impossible(paid_order, payment_sandbox, admin_user):
    order_cancel(paid_order, by=admin_user)
    assert payment_sandbox.intents[paid_order.payment_intent_id]["status"] == "canceled"
    assert paid_order.status == Status.CANCELLED
    with pytest.raises(IllegalTransition):
        order_ship(paid_order, carrier="DHL", tracking_number="X", by=admin_user)
    with pytest.raises(gateway.PaymentError, match="status of canceled"):
        gateway.capture(paid_order.payment_intent_id, paid_order.total, key="another-try")


def test_partial_then_full_refund_never_more_than_captured(
    paid_order, payment_sandbox, admin_user, django_capture_on_commit_callbacks
):
    order_ship(paid_order, carrier="DHL", tracking_number="JD1", by=admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        order_refund(paid_order, amount=Decimal("15.00"), by=admin_user)
    paid_order.refresh_from_db()
    assert paid_order.status == Status.PARTIALLY_REFUNDED and paid_order.amount_refunded == Decimal("15.00")
    assert "refunded 15.00 EUR" in mail.outbox[-1].body
    with pytest.raises(OrderError, match="At most 41.95"):
        order_refund(paid_order, amount=Decimal("50.00"), by=admin_user)
    order_refund(paid_order, amount=Decimal("41.95"), by=admin_user)
    paid_order.refresh_from_db()
    assert paid_order.status == Status.REFUNDED
    assert payment_sandbox.intents[paid_order.payment_intent_id]["amount_refunded"] == 5695
    with pytest.raises(gateway.PaymentError, match="greater than unrefunded"):
        gateway.refund(paid_order.payment_intent_id, Decimal("1.00"), key="one-more")


def test_double_submitted_checkout_gives_one_order_and_one_payment_page(client, payment_sandbox, offers):
    for offer in offers:
        client.post("/cart/add/", {"offer": offer.pk, "quantity": 1})
    token = client.get("/checkout/").context["form"].initial["checkout_token"]
    first = client.post("/checkout/", {**CHECKOUT, "checkout_token": token})
    second = client.post("/checkout/", {**CHECKOUT, "checkout_token": token})
    assert first["Location"] == second["Location"]
    assert Order.objects.count() == 1 and len(payment_sandbox.sessions) == 1


def test_idempotency_keys_are_honoured_by_the_sandbox(paid_order, payment_sandbox):
    client = stripe.StripeClient("sk_test_arkiv", base_addresses={"api": payment_sandbox.public_url})
    with pytest.raises(stripe.IdempotencyError):
        client.v1.refunds.create(
            {"payment_intent": paid_order.payment_intent_id, "amount": 100},
            {"idempotency_key": f"checkout-{paid_order.number}"},
        )


def test_only_the_allow_listed_fields_reach_the_processor(paid_order):
    assert {
        "mode",
        "line_items",
        "customer_email",
        "client_reference_id",
        "metadata",
        "payment_intent_data",
        "success_url",
        "cancel_url",
        "expires_at",
        "locale",  # the order's language: not personal data, and it names no one
    } == gateway.PROCESSOR_FIELDS
    params = gateway.checkout_session_params(paid_order, success_url="s", cancel_url="c")
    assert set(params) <= gateway.PROCESSOR_FIELDS
    sent = json.dumps(params)
    for private in (paid_order.phone, paid_order.billing_line1, paid_order.shipping_postcode, paid_order.billing_name):
        assert private not in sent


def test_processor_outage_at_checkout_keeps_cart_and_stock(client, settings, offers):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    for offer in offers:
        client.post("/cart/add/", {"offer": offer.pk, "quantity": 1})
    token = client.get("/checkout/").context["form"].initial["checkout_token"]
    response = client.post("/checkout/", {**CHECKOUT, "checkout_token": token}, follow=True)
    assert "could not reach our payment processor" in response.content.decode()
    assert client.session["cart_count"] == 2
    assert Offer.objects.get(pk=offers[0].pk).stock == 5


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"phone": "call me"}, "Enter a phone number"),
        ({"billing_postcode": ""}, "This field is required."),
        ({"shipping_method": "teleport"}, "Select a valid choice"),
        ({"billing_country": "XX"}, "Select a valid choice"),
        ({"same_address": ""}, "Needed when shipping"),
        ({"checkout_token": "not-a-uuid"}, "This checkout page is out of date."),
    ],
)
def test_checkout_with_bad_input_explains_and_places_nothing(client, payment_sandbox, offers, change, message):
    client.post("/cart/add/", {"offer": offers[0].pk, "quantity": 1})
    token = client.get("/checkout/").context["form"].initial["checkout_token"]
    response = client.post("/checkout/", {**CHECKOUT, "checkout_token": token, **change})
    assert response.status_code == 200 and message in response.content.decode()
    assert not Order.objects.exists() and client.session["cart_count"] == 1


def test_checkout_with_an_empty_cart_sends_the_buyer_back(client):
    response = client.get("/checkout/", follow=True)
    assert "Your cart is empty." in response.content.decode()
