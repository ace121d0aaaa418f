"""A German-speaking buyer in a real browser: arrives at the home page, is taken to the
German shop, buys a record with a German address on German pages, pays on the sandbox's
page (which was asked to speak German), and gets the German confirmation by email."""

import re
import threading
from decimal import Decimal

import pytest
from django.core import mail

from orders.models import Order, Status
from orders.sandbox import PaymentSandbox, serve
from tests.e2e.conftest import REPORT_VIOLATIONS
from tests.factories import OfferFactory, ReleaseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser, live_server, csp_violations):
    """A browser whose language is German (its Accept-Language says de-DE)."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="de-DE")
    context.expose_function("reportCspViolation", lambda text: csp_violations.append(text))
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and csp_violations.append(message.text),
    )
    yield page
    context.close()


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


def test_a_german_buyer_buys_in_german_and_gets_a_german_confirmation(page, live_server, sandbox):
    OfferFactory(release=ReleaseFactory(title="Brahms: Sinfonie Nr. 4"), price=Decimal("16.99"), stock=4)

    page.goto("/")
    page.wait_for_url(re.compile(r"/de/$"))
    assert page.locator("html").get_attribute("lang") == "de"

    page.get_by_role("link", name="Brahms: Sinfonie Nr. 4").first.click()
    page.wait_for_url(re.compile(r"/de/.+"))
    add = page.locator("form.add-to-cart")
    assert add.get_attribute("action") == "/de/cart/add/"
    add.locator("button[type=submit]").click()
    assert page.locator(".alert-success").inner_text() == "Brahms: Sinfonie Nr. 4 liegt jetzt in Ihrem Warenkorb."

    page.goto("/de/cart/")
    assert page.get_by_role("heading", level=1).inner_text() == "Ihr Warenkorb"
    page.get_by_role("link", name="Zur Kasse").click()
    page.wait_for_url(re.compile(r"/de/checkout/$"))
    page.get_by_label("Ihre E-Mail-Adresse").fill("clara@example.de")
    page.get_by_label("Ihre Telefonnummer").fill("+49 341 000000")
    page.get_by_label("Rechnungsadresse: vollständiger Name").fill("Clara Schumann")
    page.get_by_label("Rechnungsadresse: Straße und Hausnummer").fill("Wieckstraße 1")
    page.get_by_label("Rechnungsadresse: Ort").fill("Leipzig")
    page.get_by_label("Rechnungsadresse: Postleitzahl").fill("04109")
    page.get_by_label("Rechnungsadresse: Land").select_option(label="Deutschland")
    page.locator("input[name=age][value=adult]").check()
    page.get_by_role("button", name="Weiter zur Zahlung").click()

    page.wait_for_url(re.compile(r"/pay/cs_test_"))
    order = Order.objects.get()
    assert order.language == "de" and sandbox.sessions[order.payment_session_id]["locale"] == "de"
    assert page.locator("html").get_attribute("lang") == "de"  # the processor's page speaks German too
    page.get_by_label("Kartennummer").fill("4242 4242 4242 4242")
    page.get_by_label("Gültig bis").fill("12 / 34")
    page.get_by_label("Prüfnummer (CVC)").fill("123")
    page.get_by_label("Name auf der Karte").fill("Clara Schumann")
    page.get_by_role("button", name="21,94 EUR bezahlen").click()

    page.wait_for_selector("#order-confirmed")
    assert page.url == f"{live_server.url}/de/orders/{order.number}/"
    confirmed = page.locator("#order-confirmed").inner_text()
    assert f"Vielen Dank! Die Bestellung {order.number} ist bestätigt." in confirmed
    assert "Wir haben eine Bestätigung an clara@example.de gesendet." in confirmed
    order.refresh_from_db()
    assert order.status == Status.AUTHORISED and order.shipping_country == "DE"
    assert [m.subject for m in mail.outbox] == [f"Ihre Arkiv-Bestellung {order.number} ist bestätigt"]
    body = mail.outbox[0].body
    assert "Brahms: Sinfonie Nr. 4" in body and "Wieckstraße 1" in body and "04109 Leipzig" in body
    assert f"/de/orders/{order.number}/" in body
