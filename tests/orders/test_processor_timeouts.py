"""A payment processor that hangs or refuses never stalls the shop: every call ends
within the timeouts in settings, retried a bounded number of times, and is handled like
a refused connection: a clear message, the order not left half-made, nothing 500s."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from catalog.models import Offer
from orders import gateway
from orders.models import Order, PaymentAction, Status
from orders.services import orders_expire_unpaid, payment_sync
from tests.orders.helpers import action_form, pay, staff_client
from tests.orders.test_payments import CHECKOUT, checkout

pytestmark = pytest.mark.django_db


def place_order(client, offers):
    for offer in offers:
        client.post("/cart/add/", {"offer": offer.pk, "quantity": 1})
    token = client.get("/checkout/").context["form"].initial["checkout_token"]
    return client.post("/checkout/", {**CHECKOUT, "checkout_token": token}, follow=True)


def test_checkout_when_the_processor_never_answers_says_so_puts_stock_back_and_keeps_the_cart(
    client, offers, settings, silent_processor
):
    settings.STRIPE_API_BASE = silent_processor.url
    response = place_order(client, offers)
    assert response.status_code == 200
    assert "We could not reach our payment processor. Nothing was charged" in response.content.decode()
    assert client.session["cart_count"] == 2
    assert Offer.objects.get(pk=offers[0].pk).stock == 5 and Offer.objects.get(pk=offers[1].pk).stock == 2
    assert Order.objects.get().status == Status.PAYMENT_FAILED
    # One call, retried as often as settings allow and no more.
    assert len(silent_processor.connections) == 1 + settings.STRIPE_MAX_RETRIES


def test_checkout_when_the_processor_refuses_connections_says_so_and_puts_stock_back(
    client, offers, settings, refusing_processor_url
):
    settings.STRIPE_API_BASE = refusing_processor_url
    settings.STRIPE_SECRET_KEY = "sk_test_arkiv"
    response = place_order(client, offers)
    assert "We could not reach our payment processor" in response.content.decode()
    assert client.session["cart_count"] == 2
    assert Offer.objects.get(pk=offers[0].pk).stock == 5
    assert Order.objects.get().status == Status.PAYMENT_FAILED


def test_back_from_paying_while_the_processor_hangs_shows_the_order_as_being_confirmed(
    client, offers, payment_sandbox, settings, silent_processor
):
    payment_url, order = checkout(client, offers)
    _, location, _ = pay(payment_url)
    settings.STRIPE_API_BASE = silent_processor.url
    response = client.get(location.removeprefix("http://testserver"), follow=True)
    assert response.status_code == 200
    assert f"Order {order.number}: confirming your payment" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Status.PENDING_PAYMENT  # held: stock reserved until it lapses
    assert Offer.objects.get(pk=offers[0].pk).stock == 3


@pytest.fixture
def paid_order(client, offers, payment_sandbox):
    payment_url, order = checkout(client, offers)
    pay(payment_url)
    client.logout()
    return payment_sync(order)


@pytest.fixture
def packer(django_user_model):
    user = django_user_model.objects.create_user(email="packer@arkiv.example", password="x" * 16, is_staff=True)
    user.groups.add(Group.objects.get(name="Fulfilment"))
    return user


def captures(sandbox, order):
    return sum(
        e["type"] == "payment_intent.succeeded" and e["data"]["object"]["id"] == order.payment_intent_id
        for e in sandbox.events
    )


def test_shipping_while_the_processor_hangs_keeps_the_form_and_sending_it_again_ships_once(
    paid_order, payment_sandbox, packer, settings, silent_processor
):
    staff = staff_client(packer)
    url = f"/admin/orders/order/{paid_order.pk}/ship/"
    form = action_form(staff, url, tracking_number="JD7")
    sandbox_address = settings.STRIPE_API_BASE

    settings.STRIPE_API_BASE = silent_processor.url
    response = staff.post(url, form)
    body = response.content.decode()
    assert response.status_code == 200 and "Not shipped:" in body and "Sending this form again is safe" in body
    assert f'value="{form["token"]}"' in body  # the same form, the same token
    paid_order.refresh_from_db()
    assert paid_order.status == Status.AUTHORISED and not PaymentAction.objects.exists()

    settings.STRIPE_API_BASE = sandbox_address
    assert "shipped; payment captured" in staff.post(url, form, follow=True).content.decode()
    assert "Already done: capture of" in staff.post(url, form, follow=True).content.decode()
    paid_order.refresh_from_db()
    assert paid_order.status == Status.SHIPPED and captures(payment_sandbox, paid_order) == 1


def test_a_capture_whose_answer_was_lost_is_not_repeated_when_the_form_is_sent_again(
    paid_order, payment_sandbox, packer
):
    staff = staff_client(packer)
    url = f"/admin/orders/order/{paid_order.pk}/ship/"
    form = action_form(staff, url, tracking_number="JD8")
    # The processor captured on the first try, but its answer never reached the shop.
    gateway.capture(paid_order.payment_intent_id, paid_order.total, key=f"capture-{paid_order.number}-{form['token']}")
    assert "shipped; payment captured" in staff.post(url, form, follow=True).content.decode()
    paid_order.refresh_from_db()
    assert paid_order.status == Status.SHIPPED and paid_order.amount_captured == paid_order.total
    assert captures(payment_sandbox, paid_order) == 1


def test_expiring_unpaid_orders_while_the_processor_hangs_waits_for_it_and_expires_the_rest(
    client, offers, payment_sandbox, settings, silent_processor
):
    _, opened = checkout(client, offers[:1], quantities=(1,))
    settings.STRIPE_API_BASE = silent_processor.url
    place_order(client, offers[1:])  # no payment page could be made: released at once
    later = timezone.now() + datetime.timedelta(minutes=settings.ORDER_PAYMENT_MINUTES + 1)
    assert orders_expire_unpaid(now=later) == 0  # the open page may have been paid: ask first
    opened.refresh_from_db()
    assert opened.status == Status.PENDING_PAYMENT
    settings.STRIPE_API_BASE = payment_sandbox.public_url
    assert orders_expire_unpaid(now=later) == 1
    opened.refresh_from_db()
    assert opened.status == Status.EXPIRED and Offer.objects.get(pk=offers[0].pk).stock == 5
