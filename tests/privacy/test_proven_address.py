"""What is matched by email counts for an account only once it proved the address:
signing up with someone else's address and staying unverified reaches nothing of theirs."""

import json
import uuid

import pytest
from django.utils import timezone

from accounts.models import User
from orders.cart import CartLine
from orders.models import Order, Status
from orders.services import order_place, order_transition
from privacy import services
from privacy.models import ConsentEvent, Purpose, Source, Suppression, email_hash
from tests.factories import OfferFactory, checkout_details

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-passphrase"
VICTIM = "clara@example.com"


def place(*, customer=None, email=VICTIM, status=Status.AUTHORISED, phone="+49 341 000000"):
    offer = OfferFactory()
    order = order_place(
        cart_lines=[CartLine(offer, 1, offer.price)],
        customer=customer,
        checkout=checkout_details(email=email, phone=phone),
        checkout_token=uuid.uuid4(),
        statement=services.CheckoutStatement(is_adult=True),
    )
    if status != Status.PENDING_PAYMENT:
        order_transition(order, Status.AUTHORISED)
    if status == Status.SHIPPED:
        order_transition(order, Status.SHIPPED)
    return order


@pytest.fixture
def victims_guest_order():
    order = place()
    services.consent_record(
        email=VICTIM, purpose=Purpose.PROMO_EMAIL, action="granted", source=Source.CONFIRMATION_LINK, wording="yes"
    )
    return order


@pytest.fixture
def impostor(client):
    """Signed up with the victim's address (any case) and never followed the link."""
    user = User.objects.create_user(email="Clara@Example.com", password=PASSWORD)
    client.force_login(user)
    return user


def test_an_unproven_account_cannot_download_someone_elses_guest_orders(client, victims_guest_order, impostor):
    response = client.get("/account/privacy/my-data.json")
    data = json.loads(response.content)
    assert data["orders"] == []
    assert data["age_statements"] == [] and data["current_choices"] == {}
    assert "+49 341 000000" not in response.content.decode() and "Wieck Street" not in response.content.decode()
    assert not any(e["email"] == VICTIM and e["purpose"] == "Offers by email" for e in data["consent_log"])
    # The owner of the address, once they proved it, gets their guest orders and choices.
    impostor.email_verified_at = timezone.now()
    impostor.save()
    data = json.loads(client.get("/account/privacy/my-data.json").content)
    assert [o["number"] for o in data["orders"]] == [victims_guest_order.number]
    assert data["current_choices"] == {"Offers by email": True, "Offers by post": True}


def test_an_unproven_account_cannot_erase_someone_elses_paid_guest_order(client, victims_guest_order, impostor):
    response = client.post("/account/privacy/delete/", {"password": PASSWORD}, follow=True)
    assert "Your account is deleted" in response.content.decode()
    order = Order.objects.get(pk=victims_guest_order.pk)
    assert order.email == VICTIM and order.phone == "+49 341 000000" and order.erased_at is None
    assert order.shipping_line1 == "1 Wieck Street"
    assert services.consent_granted(VICTIM, Purpose.PROMO_EMAIL)
    assert not Suppression.objects.filter(email_hash=email_hash(VICTIM)).exists()


def test_an_unproven_account_cannot_change_the_offers_an_address_receives(client, victims_guest_order, impostor):
    page = client.get("/account/privacy/").content.decode()
    assert "Confirm your email address to choose which offers it receives" in page
    assert 'name="promo_email"' not in page
    response = client.post("/account/privacy/", {}, follow=True)
    assert "Confirm your email address first" in response.content.decode()
    assert services.consent_granted(VICTIM, Purpose.PROMO_EMAIL)
    assert not ConsentEvent.objects.filter(source=Source.ACCOUNT).exists()


def test_an_unproven_account_still_gets_what_it_did_itself_while_signed_in(client, impostor):
    own = place(customer=impostor, email="someone@example.com", phone="+49 30 1111")
    services.consent_record(
        email="someone@example.com",
        purpose=Purpose.POSTAL,
        action="granted",
        source=Source.ACCOUNT,
        wording="Yes, post",
        user=impostor,
    )
    data = json.loads(client.get("/account/privacy/my-data.json").content)
    assert [o["number"] for o in data["orders"]] == [own.number]
    assert data["orders"][0]["phone"] == "+49 30 1111"
    assert [a["order"] for a in data["age_statements"]] == [own.number]
    assert any(e["wording"] == "Yes, post" for e in data["consent_log"])
