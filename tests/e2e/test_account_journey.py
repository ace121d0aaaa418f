"""A guest with a cart creates an account in a real browser: the emailed link opens a
page, its button proves the address and signs in, guest orders are added on a second
page, and the cart is still there."""

import re
import uuid

import pytest
from django.core import mail

from orders.cart import CartLine
from orders.models import Order
from orders.services import order_place
from tests.factories import OfferFactory, checkout_details

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-passphrase"


def test_a_guest_signs_up_proves_the_address_adds_guest_orders_and_keeps_the_cart(page):
    bought = OfferFactory()
    earlier = order_place(
        cart_lines=[CartLine(bought, 1, bought.price)],
        customer=None,
        checkout=checkout_details(email="clara@example.com"),
        checkout_token=uuid.uuid4(),
    )
    wanted = OfferFactory(stock=5)
    page.goto(wanted.release.get_absolute_url())
    page.fill(f"#qty-{wanted.pk}", "2")
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_selector(".alert-success")

    page.goto("/account/sign-up/")
    page.fill("#id_email", "clara@example.com")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()

    link = re.search(r"https?://[^/\s]+(/account/verify/\S+)", mail.outbox[-1].body).group(1)
    page.goto(link)
    assert Order.objects.get(pk=earlier.pk).customer is None  # opening the link did nothing
    page.get_by_role("button", name="Confirm clara@example.com").click()
    page.get_by_role("heading", name="Orders you placed as a guest").wait_for()
    assert earlier.number in page.locator("#guest-orders").inner_text()
    assert Order.objects.get(pk=earlier.pk).customer is None  # proving did not attach it
    page.get_by_role("button", name="Add 1 order to my account").click()
    page.get_by_role("heading", name="Your orders").wait_for()
    assert earlier.number in page.locator("#order-history").inner_text()
    assert Order.objects.get(pk=earlier.pk).customer.email == "clara@example.com"
    assert page.locator("#cart-count-badge").inner_text() == "2"
