"""A guest buys two records in a real browser, pays on the sandbox's hosted page and gets
the confirmation; a declined card leaves the cart as it was."""

import re
import threading
from decimal import Decimal

import pytest
from django.core import mail

from orders.models import Order, Status
from orders.sandbox import PaymentSandbox, serve
from tests.factories import OfferFactory, ReleaseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sandbox(live_server, settings):
    server = serve(None, "127.0.0.1", 0)
    host, port = server.server_address
    app = PaymentSandbox(
        public_url=f"http://{host}:{port}",
        webhook_secret="whsec_e2e",
        webhook_url=f"{live_server.url}/orders/webhooks/stripe/",
    )
    server.set_app(app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.STRIPE_API_BASE, settings.STRIPE_SECRET_KEY = app.public_url, "sk_test_e2e"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_e2e"
    yield app
    server.shutdown()
    server.server_close()


@pytest.fixture
def records():
    first = OfferFactory(release=ReleaseFactory(title="Brahms: Symphony no. 4"), price=Decimal("16.99"), stock=4)
    second = OfferFactory(release=ReleaseFactory(title="Bach: Cello Suites"), price=Decimal("21.50"), stock=4)
    return first, second


def add_to_cart(page, offer, quantity):
    page.goto(offer.release.get_absolute_url())
    page.fill(f"#qty-{offer.pk}", str(quantity))
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_selector(".alert-success")


def fill_contact_and_address(page, *, email, name, line1):
    page.goto("/cart/")
    page.get_by_role("link", name="Check out").click()
    page.fill("#id_email", email)
    page.fill("#id_phone", "+49 341 000000")
    page.fill("#id_billing_name", name)
    page.fill("#id_billing_line1", line1)
    page.fill("#id_billing_city", "Leipzig")
    page.fill("#id_billing_postcode", "04109")
    page.select_option("#id_billing_country", "DE")


def fill_checkout(page):
    fill_contact_and_address(page, email="clara@example.com", name="Clara Schumann", line1="1 Wieck Street")
    assert page.locator("#shipping-address").is_hidden()  # same as billing by default
    page.get_by_label("I am 18 or over").check()
    page.get_by_role("button", name="Continue to payment").click()


def pay_on_sandbox(page, card):
    page.wait_for_url(re.compile(r"/pay/cs_test_"))
    page.fill("input[name=card]", card)
    page.fill("input[name=exp]", "12 / 34")
    page.fill("input[name=cvc]", "123")
    page.fill("input[name=name]", "Clara Schumann")
    page.get_by_role("button", name=re.compile("^Pay ")).click()


def test_guest_buys_two_items_and_pays_with_4242(page, sandbox, records):
    add_to_cart(page, records[0], 1)
    add_to_cart(page, records[1], 2)
    assert page.locator("#cart-count-badge").inner_text() == "3"
    fill_checkout(page)
    pay_on_sandbox(page, "4242 4242 4242 4242")

    page.wait_for_selector("#order-confirmed")
    order = Order.objects.get()
    assert order.number in page.locator("#order-confirmed").inner_text()
    assert order.status == Status.AUTHORISED
    assert order.total == Decimal("16.99") + 2 * Decimal("21.50") + Decimal("4.95")  # standard shipping
    assert page.locator("#cart-count-badge").inner_text() == "0"
    assert [m.subject for m in mail.outbox] == [f"Your Arkiv order {order.number} is confirmed"]
    assert "Brahms: Symphony no. 4" in mail.outbox[0].body and "Wieck Street" in mail.outbox[0].body
    assert any(status == 200 for _, status in sandbox.deliveries)  # the signed webhook got through


def test_declined_card_shows_a_clear_message_and_keeps_the_cart(page, sandbox, records):
    add_to_cart(page, records[0], 2)
    fill_checkout(page)
    pay_on_sandbox(page, "4000 0000 0000 0002")
    assert page.get_by_role("alert").inner_text() == "Your card was declined."
    page.get_by_role("link", name="Cancel and return to the shop").click()

    page.wait_for_url(re.compile(r"/cart/"))
    assert "Your payment was not completed and nothing was charged" in page.content()
    assert page.locator("tr.cart-line").count() == 1
    assert page.locator(f"#qty-{records[0].pk}").input_value() == "2"
    assert Order.objects.get().status == Status.PAYMENT_FAILED
    assert mail.outbox == []


def test_a_minor_needs_a_guardian_and_then_completes_the_order(page, sandbox, records):
    add_to_cart(page, records[0], 1)
    fill_contact_and_address(page, email="young@example.com", name="Young Listener", line1="2 Wieck Street")
    assert page.locator("#guardian-fields").is_hidden()  # nothing hints before the buyer answers
    page.get_by_label("I am under 18").check()
    assert page.locator("#guardian-fields").is_visible()
    page.get_by_role("button", name="Continue to payment").click()

    assert "Under-18s can order only with a parent or legal guardian" in page.content()
    assert Order.objects.count() == 0
    page.fill("#id_guardian_name", "Parent Listener")
    page.fill("#id_guardian_email", "parent@example.com")
    page.get_by_label("I am the parent or legal guardian of the buyer").check()
    page.get_by_role("button", name="Continue to payment").click()
    pay_on_sandbox(page, "4242 4242 4242 4242")

    page.wait_for_selector("#order-confirmed")
    assert Order.objects.get().status == Status.AUTHORISED
    assert sorted(m.to[0] for m in mail.outbox) == ["parent@example.com", "young@example.com"]
