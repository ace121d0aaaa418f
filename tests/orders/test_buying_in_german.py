"""Buying in German: cart, checkout and order pages under /de/ in German, and an order
remembers the language it was placed in, so every email about it, the payment page and
the links back to the shop speak that language, whoever or whatever sends them."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import formats, timezone, translation

from orders import emails, returns
from orders.models import Order, OrderEmail, ReturnReason
from orders.services import order_ship, payment_sync
from tests.factories import OfferFactory, ReleaseFactory
from tests.orders.helpers import action_form, pay, staff_client
from tests.orders.test_payments import CHECKOUT, checkout

pytestmark = pytest.mark.django_db

GERMAN_ADDRESS = CHECKOUT | {
    "email": "clara@example.de",
    "billing_line1": "Wieckstraße 1",
    "billing_city": "Leipzig",
    "billing_postcode": "04109",
}


@pytest.fixture
def records():
    return (
        OfferFactory(release=ReleaseFactory(title="Brahms: Sinfonie Nr. 4"), price=Decimal("15.00"), stock=5),
        OfferFactory(release=ReleaseFactory(title="Bach: Cellosuiten"), price=Decimal("22.00"), stock=2),
    )


def checkout_in_german(client, offers, **changes):
    """Fill the cart and send the German checkout page; returns the response."""
    for offer in offers:
        client.post("/de/cart/add/", {"offer": offer.pk, "quantity": 1})
    token = client.get("/de/checkout/").context["form"].initial["checkout_token"]
    return client.post("/de/checkout/", {**GERMAN_ADDRESS, "checkout_token": token, **changes})


def german_paid_order(client, offers, django_capture_on_commit_callbacks):
    response = checkout_in_german(client, offers)
    assert response.status_code == 302, response.content.decode()[:2000]
    order = Order.objects.get()
    status, location, _ = pay(response["Location"])
    with django_capture_on_commit_callbacks(execute=True):
        page = client.get(location.removeprefix("http://testserver"), follow=True)
    order.refresh_from_db()
    return order, page


def test_adding_to_the_cart_on_a_german_page_says_so_in_german(client, records):
    response = client.post("/de/cart/add/", {"offer": records[0].pk, "quantity": 1, "next": "/de/cart/"}, follow=True)
    page = response.content.decode()
    assert "Brahms: Sinfonie Nr. 4 liegt jetzt in Ihrem Warenkorb." in page
    assert "<h1>Ihr Warenkorb</h1>" in page and "Zwischensumme" in page and ">Zur Kasse</a>" in page
    assert '<option value="DE">Deutschland</option>' in page and '<option value="AT">Österreich</option>' in page
    assert "Lieferland Vereinigtes Königreich: Standard (3–5 Werktage) (kostenlos ab" in page


def test_countries_are_listed_by_their_german_names_in_german_order(client, records):
    client.post("/de/cart/add/", {"offer": records[0].pk, "quantity": 1})
    page = client.get("/de/checkout/").content.decode()
    select = re.search(r'<select name="billing_country".*?</select>', page, re.S).group(0)
    names = re.findall(r'<option value="[A-Z]{2}"[^>]*>([^<]+)</option>', select)
    assert names.index("Deutschland") < names.index("Österreich") < names.index("Polen")
    assert '<option value="US">Vereinigte Staaten von Amerika</option>' in select


def test_a_bad_quantity_is_refused_in_german(client, records):
    response = client.post("/de/cart/add/", {"offer": records[0].pk, "quantity": 500, "next": "/de/cart/"}, follow=True)
    assert "Wählen Sie eine Menge zwischen 1 und 99." in response.content.decode()


def test_the_german_checkout_labels_every_field_in_german(client, records):
    client.post("/de/cart/add/", {"offer": records[0].pk, "quantity": 1})
    page = client.get("/de/checkout/").content.decode()
    for label in (
        "Ihre E-Mail-Adresse",
        "Rechnungsadresse: Postleitzahl",
        "Lieferadresse: Ort",
        "An meine Rechnungsadresse liefern",
        "Standard (3–5 Werktage)",
        "Bestellübersicht",
        'value="Weiter zur Zahlung"',
    ):
        assert label in page, label
    assert "Billing postcode" not in page and "Continue to payment" not in page


def test_german_checkout_errors_are_whole_german_sentences_in_the_summary_and_on_the_field(client, records):
    response = checkout_in_german(client, records[:1], billing_postcode="ABC", shipping_method="standard")
    page = response.content.decode()
    assert response.status_code == 200 and not Order.objects.exists()
    assert "Bei Ihrer Eingabe gibt es ein Problem" in page
    expected = "Geben Sie eine Postleitzahl ein, wie sie in diesem Land (Deutschland) geschrieben wird (zum Beispiel"
    assert expected in response.context["form"].errors["billing_postcode"][0]
    assert f"Rechnungsadresse: Postleitzahl: {expected}" in page


def test_a_us_state_missing_is_named_in_a_german_sentence(client, records):
    response = checkout_in_german(
        client,
        records[:1],
        same_address="",
        shipping_name="Clara Schumann",
        shipping_line1="1 Infinite Loop",
        shipping_city="Cupertino",
        shipping_postcode="95014",
        shipping_country="US",
    )
    assert response.context["form"].errors["shipping_region"] == [
        "Dieses Feld ist zwingend erforderlich. "
        "Eine Adresse in diesem Land (Vereinigte Staaten von Amerika) braucht einen Bundesstaat."
    ]


def test_an_order_placed_in_german_is_paid_on_a_german_payment_page_and_confirmed_in_german(
    client, payment_sandbox, records, django_capture_on_commit_callbacks
):
    response = checkout_in_german(client, records)
    order = Order.objects.get()
    assert order.language == "de"
    session = payment_sandbox.sessions[order.payment_session_id]
    assert session["locale"] == "de"
    assert session["success_url"].startswith(f"http://testserver/de/orders/{order.number}/paid/")
    assert session["cancel_url"] == f"http://testserver/de/orders/{order.number}/payment-cancelled/"
    assert "Versand: Standard (3–5 Werktage)" in [
        i["price_data"]["product_data"]["name"] for i in session["_line_items"]
    ]

    status, location, _ = pay(response["Location"])
    with django_capture_on_commit_callbacks(execute=True):
        page = client.get(location.removeprefix("http://testserver"), follow=True)
    assert page.redirect_chain[-1][0] == f"/de/orders/{order.number}/"
    assert f"Vielen Dank! Die Bestellung {order.number} ist bestätigt." in page.content.decode()

    confirmation = mail.outbox[-1]
    assert confirmation.subject == f"Ihre Arkiv-Bestellung {order.number} ist bestätigt"
    assert f"Vielen Dank für Ihre Bestellung {order.number}." in confirmation.body
    assert "Lieferadresse:" in confirmation.body and "Wieckstraße 1" in confirmation.body
    assert f"/de/orders/{order.number}/" in confirmation.body
    html = confirmation.alternatives[0][0]
    assert '<html lang="de">' in html and f"/de/orders/{order.number}/" in html


def test_staff_shipping_a_german_order_from_the_english_admin_sends_a_german_mail_with_a_german_link(
    client, payment_sandbox, records, admin_user, django_capture_on_commit_callbacks
):
    order, _page = german_paid_order(client, records, django_capture_on_commit_callbacks)
    staff = staff_client(admin_user)
    url = f"/admin/orders/order/{order.pk}/ship/"
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(url, action_form(staff, url, tracking_number="JD014600003"), follow=True)
    assert "shipped; payment captured and customer emailed" in response.content.decode()  # staff read English
    change = staff.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert re.search(r'<div class="readonly">German</div>', change)  # staff see which language the emails use

    shipped = mail.outbox[-1]
    assert shipped.subject == f"Ihre Arkiv-Bestellung {order.number} ist unterwegs"
    assert "Sendungsnummer: JD014600003" in shipped.body
    assert "Ihre Karte wurde jetzt mit 41,95 EUR belastet." in shipped.body  # German decimal comma
    assert f"/de/orders/{order.number}/" in shipped.body


def test_an_english_order_stays_english_whatever_language_is_active_when_its_email_goes_out(
    client, payment_sandbox, offers, admin_user, django_capture_on_commit_callbacks
):
    url, order = checkout(client, offers)
    pay(url)
    order = payment_sync(order)
    assert order.language == "en-gb"
    with translation.override("de"), django_capture_on_commit_callbacks(execute=True):
        order_ship(order, carrier="DHL", tracking_number="JD1", by=admin_user)
    shipped = mail.outbox[-1]
    assert shipped.subject == f"Your Arkiv order {order.number} is on its way"
    assert "Tracking number: JD1" in shipped.body and "/de/" not in shipped.body
    assert f"/orders/{order.number}/" in shipped.body


def test_a_retried_order_email_is_still_in_the_order_language(
    client, payment_sandbox, records, django_capture_on_commit_callbacks
):
    order, _page = german_paid_order(client, records, django_capture_on_commit_callbacks)
    email = OrderEmail.objects.get(order=order, kind=OrderEmail.Kind.CONFIRMATION)
    with translation.override("en-gb"):
        subject, text, html = emails.render(email)
    assert subject == f"Ihre Arkiv-Bestellung {order.number} ist bestätigt" and "Zwischensumme" in text


def test_return_emails_follow_the_order_language(
    client, payment_sandbox, records, admin_user, django_capture_on_commit_callbacks
):
    order, _page = german_paid_order(client, records, django_capture_on_commit_callbacks)
    order = order_ship(order, carrier="DHL", tracking_number="JD1", by=admin_user)
    line = order.lines.first()
    with translation.override("en-gb"):
        ret = returns.return_open(
            order=order,
            quantities={line.pk: 1},
            reason=ReturnReason.DAMAGED,
            token="5b0b6b3e-2b44-4a33-9c11-1d2f3e4a5b6c",
        )
    opened = mail.outbox[-1]
    assert opened.subject == f"Ihre Rücksendung {ret.number} zur Arkiv-Bestellung {order.number}"
    assert "Grund: Der Artikel kam beschädigt an" in opened.body
    assert f"/de/orders/{order.number}/" in opened.body


def test_the_german_order_page_shows_status_tracking_and_returns_in_german(
    client, payment_sandbox, records, admin_user, django_capture_on_commit_callbacks
):
    order, _page = german_paid_order(client, records, django_capture_on_commit_callbacks)
    order_ship(order, carrier="DHL", tracking_number="JD1", by=admin_user)
    page = client.get(f"/de/orders/{order.number}/").content.decode()
    assert '<p class="lead" id="order-status">Versandt</p>' in page
    assert "Versandt mit DHL, Sendungsnummer <strong>JD1</strong>." in page
    assert ">Artikel zurücksenden</a>" in page and "Möglich bis" in page
    order.refresh_from_db()
    with translation.override("de"):
        german_date = formats.date_format(timezone.localtime(returns.return_deadline(order)), "j. F Y")
    assert f"Möglich bis {german_date}." in page
    history = re.findall(r"<li>(\d\d\.\d\d\.\d{4}, \d\d:\d\d): ", page)  # 05.03.2026, 14:30
    assert history, "the status history gives its dates as German readers write them"


def test_the_german_cart_reads_as_many_queries_as_the_english_one(client, records):
    for offer in records:
        client.post("/cart/add/", {"offer": offer.pk, "quantity": 1})
    client.get("/cart/")  # shows and clears the "Added ..." messages
    with CaptureQueriesContext(connection) as english:
        client.get("/cart/")
    with CaptureQueriesContext(connection) as german:
        assert "Ihr Warenkorb" in client.get("/de/cart/").content.decode()
    assert len(german) == len(english) <= 3


def test_the_german_checkout_reads_as_many_queries_as_the_english_one(client, records):
    for offer in records:
        client.post("/cart/add/", {"offer": offer.pk, "quantity": 1})
    client.get("/checkout/")  # the checkout token is given once
    with CaptureQueriesContext(connection) as english:
        client.get("/checkout/")
    with CaptureQueriesContext(connection) as german:
        assert "Weiter zur Zahlung" in client.get("/de/checkout/").content.decode()
    assert len(german) == len(english)
