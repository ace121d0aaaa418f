"""Back from the payment page before the processor has confirmed the payment, the buyer
watches the order page turn into the confirmation by itself, without reloading."""

import uuid

import pytest

from accounts.models import User
from orders.cart import CartLine
from orders.models import Status
from orders.services import order_place, order_transition
from tests.factories import OfferFactory, checkout_details

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-passphrase"


def test_the_pending_order_page_shows_the_confirmation_once_the_payment_is_confirmed(page):
    customer = User.objects.create_user(email="clara@example.com", password=PASSWORD)
    offer = OfferFactory(stock=5)
    order = order_place(
        cart_lines=[CartLine(offer, 1, offer.price)],
        customer=customer,
        checkout=checkout_details(),
        checkout_token=uuid.uuid4(),
    )
    page.goto("/account/sign-in/")
    page.fill("input[name=username]", customer.email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.locator("input[name=password]").press("Enter")

    page.goto(order.get_absolute_url())
    page.wait_for_selector("#order-pending")
    first_document = page.evaluate("() => performance.timeOrigin")

    # The processor's webhook arrives while the buyer looks at the page.
    order_transition(order, Status.AUTHORISED, note="Card authorised")

    page.wait_for_selector("#order-confirmed")
    assert "is confirmed" in page.locator("#order-confirmed").inner_text()
    # The page itself looked again and reloaded; the buyer did nothing.
    assert page.evaluate("() => performance.timeOrigin") != first_document
