"""A customer opens a return in a real browser: from the order page, choosing how many
copies go back and why; the order page then shows the return, and the customer is
emailed where to send the parcel."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import User
from orders.cart import CartLine
from orders.models import Order, ReturnRequest, Status
from orders.services import order_place, order_transition
from privacy.services import CheckoutStatement
from tests.factories import OfferFactory, ReleaseFactory, checkout_details

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-passphrase"


@pytest.fixture
def delivered_order():
    """Clara's order of two Brahms records and one Bach, shipped two days ago."""
    clara = User.objects.create_user(email="clara@example.com", password=PASSWORD, email_verified_at=timezone.now())
    brahms = OfferFactory(release=ReleaseFactory(title="Brahms: Symphony no. 4"), price=Decimal("16.99"), stock=4)
    bach = OfferFactory(release=ReleaseFactory(title="Bach: Cello Suites"), price=Decimal("21.50"), stock=4)
    order = order_place(
        cart_lines=[CartLine(brahms, 2, brahms.price), CartLine(bach, 1, bach.price)],
        customer=clara,
        checkout=checkout_details(email=clara.email),
        checkout_token=uuid.uuid4(),
        statement=CheckoutStatement(is_adult=True),
    )
    order_transition(order, Status.AUTHORISED)
    order_transition(order, Status.SHIPPED)
    Order.objects.filter(pk=order.pk).update(
        amount_captured=order.total, shipped_at=timezone.now() - datetime.timedelta(days=2)
    )
    mail.outbox.clear()
    return order


def test_a_customer_opens_a_return_for_one_copy_from_the_order_page(page, delivered_order):
    order = delivered_order
    page.goto("/account/sign-in/")
    page.fill("#id_username", "clara@example.com")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/sign-in/" not in url)

    page.goto(order.get_absolute_url())
    page.get_by_role("link", name="Return items").click()
    page.get_by_role("heading", name=f"Return items from order {order.number}").wait_for()

    # Three copies of Brahms is more than was bought: the page says so and nothing opens.
    page.get_by_label("Copies of Brahms: Symphony no. 4 (CD) to return").fill("3")
    page.get_by_label("Reason for the return").select_option(label="It arrived damaged")
    page.get_by_role("button", name="Open the return").click()
    errors = page.locator("#return-errors")
    errors.wait_for()
    assert errors.get_attribute("role") == "alert"
    assert "You can return at most 2 of this item." in errors.inner_text()
    assert not ReturnRequest.objects.exists()

    page.get_by_label("Copies of Brahms: Symphony no. 4 (CD) to return").fill("1")
    page.get_by_label("Anything we should know (optional)").fill("The case was cracked.")
    page.get_by_role("button", name="Open the return").click()
    page.wait_for_url(f"**{order.get_absolute_url()}")
    ret = ReturnRequest.objects.get()
    assert f"Return {ret.number} is open" in page.locator(".alert-success").inner_text()
    assert "Opened (awaiting the parcel)" in page.locator("#returns").inner_text()
    assert ret.amount == Decimal("16.99") and ret.reason == "damaged" and ret.details == "The case was cracked."
    assert [m.subject for m in mail.outbox] == [f"Your return {ret.number} for Arkiv order {order.number}"]
