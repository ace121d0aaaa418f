"""Download my data, correct it, delete my account (keeping what tax law needs)."""

import datetime
import json
import uuid

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from orders.cart import CartLine
from orders.models import Order, Status
from orders.services import order_place, order_transition
from privacy import services
from privacy.models import AgeDeclaration, Consent, ConsentEvent, Purpose, Source, Suppression, email_hash
from tests.factories import OfferFactory, checkout_details

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-passphrase"


@pytest.fixture
def customer(client):
    user = User.objects.create_user(
        email="clara@example.com", password=PASSWORD, full_name="Clara Schumann", email_verified_at=timezone.now()
    )
    user.addresses.create(name="Clara Schumann", line1="1 Wieck Street", city="Leipzig", postcode="04109", country="DE")
    offer = OfferFactory()
    order_place(
        cart_lines=[CartLine(offer, 1, offer.price)],
        customer=user,
        checkout=checkout_details(),
        checkout_token=uuid.uuid4(),
        statement=services.CheckoutStatement(is_adult=True),
    )
    services.consent_record(
        email=user.email, purpose=Purpose.PROMO_EMAIL, action="granted", source=Source.CONFIRMATION_LINK, wording="yes"
    )
    client.force_login(user)
    return user


def test_download_my_data_has_account_addresses_orders_consents(client, customer):
    response = client.get("/account/privacy/my-data.json")
    assert response["Content-Disposition"] == 'attachment; filename="arkiv-my-data.json"'
    data = json.loads(response.content)
    assert data["account"]["email"] == "clara@example.com" and data["addresses"][0]["line1"] == "1 Wieck Street"
    assert data["orders"][0]["number"].startswith("AK-") and data["orders"][0]["phone"] == "+49 341 000000"
    assert {e["purpose"] for e in data["consent_log"]} == {"Offers by email", "Offers by post"}
    assert data["current_choices"]["Offers by email"] is True
    assert data["age_statements"][0]["adult"] is True
    assert "opt_out_requests" in data


def test_account_page_changes_choices_and_logs_them(client, customer):
    client.post("/account/privacy/", {"postal": "on"})
    assert not services.consent_granted(customer.email, Purpose.PROMO_EMAIL)
    assert services.consent_granted(customer.email, Purpose.POSTAL)
    assert ConsentEvent.objects.filter(source=Source.ACCOUNT, action="withdrawn", purpose=Purpose.PROMO_EMAIL).exists()


def test_deleting_the_account_erases_personal_data_and_keeps_the_invoice(client, customer):
    order = Order.objects.get()
    order_transition(order, Status.AUTHORISED)
    order_transition(order, Status.SHIPPED)  # nothing left to do for it: the account may go
    assert client.post("/account/privacy/delete/", {"password": "wrong"}).status_code == 400
    response = client.post("/account/privacy/delete/", {"password": PASSWORD}, follow=True)
    assert "Your account is deleted" in response.content.decode()
    assert "_auth_user_id" not in client.session
    user = User.objects.get(pk=customer.pk)
    assert not user.is_active and user.email.endswith("@invalid") and not user.addresses.exists()
    assert not user.has_usable_password()
    order.refresh_from_db()
    assert order.customer is None and order.phone == "" and order.shipping_line1 == "" and "@invalid" in order.email
    assert order.billing_name == "Clara Schumann" and order.total > 0  # the invoice stays
    assert order.retain_until > datetime.date.today() + datetime.timedelta(days=365 * 9)
    hashed = email_hash("clara@example.com")
    assert Suppression.objects.filter(email_hash=hashed).exists()
    assert not ConsentEvent.objects.filter(email="clara@example.com").exists()
    assert ConsentEvent.objects.filter(email=hashed, source=Source.ERASURE).exists()
    assert not Consent.objects.filter(email="clara@example.com").exists()
    assert AgeDeclaration.objects.get().email == hashed
    # A new sign-up or order with the same address never brings offers back by itself.
    assert services.is_suppressed("Clara@Example.com")
    assert services.promo_optin_request(email="clara@example.com", source=Source.CHECKOUT) is None


def test_records_past_retention_are_purged(client, customer):
    Order.objects.update(status=Status.SHIPPED)
    client.post("/account/privacy/delete/", {"password": PASSWORD})
    Order.objects.update(retain_until=datetime.date.today() - datetime.timedelta(days=1))
    call_command("purge_expired_records")
    assert not Order.objects.exists()


def test_privacy_pages_need_sign_in(client):
    for url in ["/account/privacy/", "/account/privacy/my-data.json", "/account/privacy/delete/"]:
        assert client.get(url).status_code == 302
