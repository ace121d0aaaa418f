""" "Your orders" lists orders, not payment attempts that never went through, and points
to the cart when it holds something not yet ordered."""

import uuid

import pytest

from accounts.models import User
from orders.cart import CartLine
from orders.models import Status
from orders.services import order_place, order_transition
from tests.factories import OfferFactory, checkout_details

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return User.objects.create_user(email="clara@example.com", password="a-long-passphrase")


def place(customer, offer, then=()):
    order = order_place(
        cart_lines=[CartLine(offer, 1, offer.price)],
        customer=customer,
        checkout=checkout_details(),
        checkout_token=uuid.uuid4(),
    )
    for status in then:
        order_transition(order, status, note="test")
    return order


def test_failed_and_lapsed_payment_attempts_are_not_listed_as_orders(client, customer):
    offer = OfferFactory(stock=10)
    paid = place(customer, offer, [Status.AUTHORISED])
    shipped = place(customer, offer, [Status.AUTHORISED, Status.SHIPPED])
    waiting = place(customer, offer)
    failed = place(customer, offer, [Status.PAYMENT_FAILED])
    lapsed = place(customer, offer, [Status.EXPIRED])
    client.force_login(customer)

    body = client.get("/account/orders/").content.decode()

    for order in (paid, shipped, waiting):
        assert order.number in body
    for attempt in (failed, lapsed):
        assert attempt.number not in body


def test_the_data_download_still_holds_every_attempt(client, customer):
    failed = place(customer, OfferFactory(stock=10), [Status.PAYMENT_FAILED])
    client.force_login(customer)

    assert failed.number in client.get("/account/privacy/my-data.json").content.decode()


def test_a_cart_not_yet_ordered_is_pointed_to_from_your_orders(client, customer):
    offer = OfferFactory(stock=10)
    client.force_login(customer)
    assert "not yet ordered" not in client.get("/account/orders/").content.decode()

    client.post("/cart/add/", {"offer": offer.pk, "quantity": 2})

    body = client.get("/account/orders/").content.decode()
    assert "Your cart holds 2 items not yet ordered." in body
