"""A guest types a voucher code into the cart in a real browser, is told why a wrong one
does not work, sees the discount in the cart and at checkout, and pays the discounted
total on the sandbox's hosted page."""

from decimal import Decimal

import pytest

from orders.models import Order, Status
from tests.e2e.test_purchase_journey import add_to_cart, fill_checkout, pay_on_sandbox, records, sandbox  # noqa: F401
from tests.factories import VoucherFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_guest_buys_with_a_voucher_and_pays_the_discounted_total(page, sandbox, records):  # noqa: F811
    VoucherFactory(code="BACH10", value=Decimal("10"))
    add_to_cart(page, records[0], 1)  # 16.99
    add_to_cart(page, records[1], 2)  # 43.00

    page.goto("/cart/")
    page.get_by_label("Voucher code").fill("bahc10")
    page.get_by_role("button", name="Apply voucher").click()
    assert "We do not know the voucher code BAHC10" in page.locator("#voucher-error").inner_text()

    page.get_by_label("Voucher code").fill("bach10")
    page.get_by_role("button", name="Apply voucher").click()
    page.wait_for_selector("#cart-discount")
    assert page.locator("#cart-discount-amount").inner_text() == "−€6.00"
    assert page.locator("#cart-total").inner_text() == "€58.94"  # 53.99 of goods + 4.95 shipping

    fill_checkout(page)
    pay_on_sandbox(page, "4242 4242 4242 4242")

    page.wait_for_selector("#order-confirmed")
    order = Order.objects.get()
    assert order.status == Status.AUTHORISED and order.total == Decimal("58.94")
    assert sandbox.sessions[order.payment_session_id]["amount_total"] == 5894
    assert "−€6.00" in page.locator("#order-discount").inner_text()
