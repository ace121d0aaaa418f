"""A shopper who uses no mouse buys a record: from the release page to a paid order with
Tab, Shift+Tab, Enter, Space and typing only, paying on the payment sandbox's page."""

import re
from decimal import Decimal

import pytest

from orders.models import Order, Status
from tests.factories import OfferFactory, ReleaseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def tab_to(page, selector, *, backwards=False, limit=120):
    """Press Tab (or Shift+Tab) until the focused element matches selector."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with {key} on {page.url}")


def type_into(page, selector, text):
    tab_to(page, selector)
    page.keyboard.type(text)


def test_a_shopper_buys_with_the_keyboard_alone(page, payment_sandbox):
    offer = OfferFactory(release=ReleaseFactory(title="Schubert: Winterreise"), price=Decimal("18.50"), stock=3)
    page.goto(offer.release.get_absolute_url())

    tab_to(page, "form.add-to-cart button")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "added" in page.locator(".alert-success").inner_text().lower()

    tab_to(page, "a[href='/cart/']", backwards=True)  # the header's cart link, above the content
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#cart-total").inner_text() == "€23.45"  # 18.50 + standard shipping 4.95

    tab_to(page, "a[href='/checkout/']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    type_into(page, "#id_email", "wilhelm@example.com")
    type_into(page, "#id_phone", "+49 341 000000")
    type_into(page, "#id_billing_name", "Wilhelm Müller")
    type_into(page, "#id_billing_line1", "3 Lindenweg")
    type_into(page, "#id_billing_city", "Dessau")
    type_into(page, "#id_billing_postcode", "06844")
    tab_to(page, "#id_billing_country")
    page.keyboard.type("Germany")  # a focused list picks the option typed
    tab_to(page, "#id_age_0")  # the first answer; neither is chosen yet
    page.keyboard.press("Space")
    tab_to(page, "#checkout-form [type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    page.wait_for_url(re.compile(r"/pay/cs_test_"))
    type_into(page, "input[name=card]", "4242 4242 4242 4242")
    type_into(page, "input[name=exp]", "12 / 34")
    type_into(page, "input[name=cvc]", "123")
    type_into(page, "input[name=name]", "Wilhelm Müller")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")

    page.wait_for_selector("#order-confirmed")
    order = Order.objects.get()
    assert order.status == Status.AUTHORISED
    assert order.total == Decimal("23.45")
    assert (order.billing_name, order.billing_country, order.shipping_city) == ("Wilhelm Müller", "DE", "Dessau")
    assert order.number in page.locator("#order-confirmed").inner_text()
