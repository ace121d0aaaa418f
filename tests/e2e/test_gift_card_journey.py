"""In a real browser: a shopper gives a gift card from the footer's link and pays for it;
the recipient gets the code by email and spends it on a record, paying the rest by card."""

import re
from decimal import Decimal

import pytest
from django.core import mail

from orders.models import GiftCard, Order, Status
from tests.e2e.test_purchase_journey import add_to_cart, pay_on_sandbox, sandbox  # noqa: F401
from tests.factories import OfferFactory, ReleaseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_buyer(page, *, email, name):
    page.fill("#id_email", email)
    page.fill("#id_phone", "+49 341 000000")
    page.fill("#id_billing_name", name)
    page.fill("#id_billing_line1", "1 Wieck Street")
    page.fill("#id_billing_city", "Leipzig")
    page.fill("#id_billing_postcode", "04109")
    page.select_option("#id_billing_country", "DE")
    page.get_by_label("I am 18 or over").check()


def test_a_gift_card_is_given_paid_for_emailed_and_spent_with_the_rest_paid_by_card(page, sandbox):  # noqa: F811
    page.goto("/")
    page.get_by_role("link", name="Gift cards").click()
    page.get_by_label("€25.00").check()
    page.get_by_label("Recipient's name").fill("Johannes Brahms")
    page.get_by_label("Recipient's email address").fill("johannes@example.com")
    page.get_by_label("Your message (optional)").fill("Happy birthday")
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_selector(".gift-card-line")
    page.get_by_role("link", name="Check out").click()
    fill_buyer(page, email="clara@example.com", name="Clara Schumann")
    page.get_by_role("button", name="Continue to payment").click()
    pay_on_sandbox(page, "4242 4242 4242 4242")
    page.wait_for_selector("#order-confirmed")
    assert "is paid" in page.locator("#order-confirmed").inner_text()
    card = GiftCard.objects.get()
    message = next(m for m in mail.outbox if m.to == ["johannes@example.com"])
    code = re.search(r"[2-9A-Z]{4}(?:-[2-9A-Z]{4}){3}", message.body).group()

    record = OfferFactory(release=ReleaseFactory(title="Brahms: Requiem"), price=Decimal("30.00"), stock=2)
    add_to_cart(page, record, 1)
    page.goto("/cart/")
    page.get_by_role("link", name="Check out").click()
    fill_buyer(page, email="johannes@example.com", name="Johannes Brahms")
    page.get_by_label("Gift card code").fill(code)
    page.get_by_role("button", name="Continue to payment").click()
    pay_on_sandbox(page, "4242 4242 4242 4242")
    page.wait_for_selector("#order-confirmed")
    assert page.locator("#gift-card-payment").inner_text().split() == [
        "Paid",
        "by",
        "gift",
        "card",
        f"…{card.last4}",
        "€25.00",
    ]
    order = Order.objects.get(email="johannes@example.com")
    assert order.status == Status.AUTHORISED and order.amount_authorised == Decimal("9.95")
    card.refresh_from_db()
    assert card.balance == 0
