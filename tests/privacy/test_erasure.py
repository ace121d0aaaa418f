"""Delete my account: refused while an order is still in progress, and then every copy
of the person goes - order-email recipients, campaign deliveries, what they wrote to
service@, a guardian's details, and every other signed-in session."""

import uuid

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from orders.cart import CartLine
from orders.models import Order, OrderEmail, Status
from orders.services import order_place, order_transition
from privacy import services
from privacy.models import (
    AccountSession,
    AgeDeclaration,
    CampaignDelivery,
    ConsentEvent,
    EmailCampaign,
    OptOutRequest,
    Purpose,
    Source,
    email_hash,
)
from tests.factories import OfferFactory, checkout_details

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-passphrase"
EMAIL = "clara@example.com"


def place(customer, *, minor=False):
    offer = OfferFactory()
    statement = services.CheckoutStatement(
        is_adult=not minor,
        guardian_name="Friedrich Wieck" if minor else "",
        guardian_email="friedrich@example.com" if minor else "",
    )
    return order_place(
        cart_lines=[CartLine(offer, 1, offer.price)],
        customer=customer,
        checkout=checkout_details(email=EMAIL),
        checkout_token=uuid.uuid4(),
        statement=statement,
    )


@pytest.fixture
def customer(client):
    user = User.objects.create_user(
        email=EMAIL, password=PASSWORD, full_name="Clara Schumann", email_verified_at=timezone.now()
    )
    client.force_login(user)
    return user


def test_erasure_is_refused_while_a_paid_order_is_not_shipped(client, customer):
    order = place(customer)
    order_transition(order, Status.AUTHORISED)
    page = client.get("/account/privacy/delete/").content.decode()
    assert "We cannot delete your account yet" in page and f"Order {order.number} is paid and not yet shipped" in page
    assert 'name="password"' not in page
    response = client.post("/account/privacy/delete/", {"password": PASSWORD})
    assert response.status_code == 409 and "once they have shipped or been cancelled" in response.content.decode()
    customer.refresh_from_db()
    order.refresh_from_db()
    assert customer.is_active and customer.email == EMAIL
    assert order.erased_at is None and order.phone and order.shipping_line1 == "1 Wieck Street"
    with pytest.raises(services.ErasureRefused, match=order.number):
        services.account_erase(user=customer)


def test_erasure_is_refused_while_an_order_awaits_payment_and_allowed_once_it_expired(client, customer):
    order = place(customer)
    response = client.post("/account/privacy/delete/", {"password": PASSWORD})
    assert response.status_code == 409 and f"Order {order.number} is awaiting payment" in response.content.decode()
    order_transition(order, Status.EXPIRED)
    assert client.post("/account/privacy/delete/", {"password": PASSWORD}).status_code == 302
    assert not User.objects.get(pk=customer.pk).is_active


def test_erasure_removes_every_copy_of_the_person(client, customer):
    order = place(customer, minor=True)
    order_transition(order, Status.AUTHORISED)  # confirmation to the buyer, a copy to the guardian
    order_transition(order, Status.SHIPPED)
    assert set(OrderEmail.objects.values_list("to", flat=True)) == {EMAIL, "friedrich@example.com"}
    campaign = EmailCampaign.objects.create(subject="New Brahms", body_text="Brahms!")
    CampaignDelivery.objects.create(campaign=campaign, email=EMAIL)
    OptOutRequest.objects.create(
        message_id="<1@example.com>",
        sender=EMAIL,
        subject="No more catalogues for Clara Schumann",
        body="Please stop the catalogues. Clara Schumann, 1 Wieck Street",
        raw="From: Clara Schumann <clara@example.com>\n\nPlease stop the catalogues.",
        state=OptOutRequest.State.APPLIED,
        reason="postal opt-out",
    )
    services.consent_record(
        email=EMAIL,
        purpose=Purpose.POSTAL,
        action="withdrawn",
        source=Source.SERVICE_EMAIL,
        wording="Please stop the catalogues. Clara Schumann, 1 Wieck Street",
    )
    other = Client()
    other.force_login(customer)  # signed in on another device too
    assert AccountSession.objects.filter(account_id=customer.pk).count() == 2

    assert client.post("/account/privacy/delete/", {"password": PASSWORD}).status_code == 302

    assert not OrderEmail.objects.filter(to__icontains="clara").exists()
    assert not OrderEmail.objects.filter(to__icontains="friedrich").exists()
    assert OrderEmail.objects.count() == 3  # what was sent stays counted, to nobody in particular
    assert not CampaignDelivery.objects.exists()
    stored = OptOutRequest.objects.get()
    assert (stored.sender, stored.subject, stored.body, stored.raw) == (email_hash(EMAIL), "", "", "")
    assert not ConsentEvent.objects.filter(wording__icontains="Wieck").exists()
    assert ConsentEvent.objects.filter(source=Source.CHECKOUT, wording__startswith="Buyer under 18").exists()
    statement = AgeDeclaration.objects.get()
    assert "Wieck" not in statement.guardian_name and "friedrich" not in statement.guardian_email
    assert statement.email == email_hash(EMAIL) and not statement.is_adult
    # Every session of the account is gone from the store, not only signed out.
    assert not AccountSession.objects.filter(account_id=customer.pk).exists()
    assert other.get("/account/").status_code == 302
    assert Order.objects.get().customer is None


def test_erasing_an_unproven_account_ends_its_sessions_and_leaves_the_address_alone(client):
    user = User.objects.create_user(email=EMAIL, password=PASSWORD)
    client.force_login(user)
    Client().force_login(user)
    services.consent_record(
        email=EMAIL, purpose=Purpose.PROMO_EMAIL, action="granted", source=Source.CONFIRMATION_LINK, wording="yes"
    )
    assert client.post("/account/privacy/delete/", {"password": PASSWORD}).status_code == 302
    assert not AccountSession.objects.filter(account_id=user.pk).exists()
    assert services.consent_granted(EMAIL, Purpose.PROMO_EMAIL)


def test_a_session_signed_in_through_the_form_is_ended_by_erasure(client):
    user = User.objects.create_user(email=EMAIL, password=PASSWORD, email_verified_at=timezone.now())
    laptop = Client()
    laptop.post("/cart/add/", {"offer": OfferFactory().pk, "quantity": 1})  # a session before signing in
    assert laptop.post("/account/sign-in/", {"username": EMAIL, "password": PASSWORD}).status_code == 302
    laptop_key = laptop.session.session_key
    client.force_login(user)
    assert client.post("/account/privacy/delete/", {"password": PASSWORD}).status_code == 302
    assert not AccountSession.objects.filter(session_key=laptop_key).exists()
    assert "cart" not in laptop.session


def test_erasure_drops_mail_still_waiting_for_the_person_and_their_failed_sign_ins(client, customer, settings):
    from axes.models import AccessAttempt
    from django.core.mail import send_mail
    from mailer.models import Message

    settings.EMAIL_BACKEND = "arkiv.mail.QueueBackend"  # the outbox, as in production
    send_mail("Your order", "Dear Clara", None, [EMAIL])
    send_mail("Your order", "Dear Robert", None, ["robert@example.com"])
    Client().post("/account/sign-in/", {"username": EMAIL, "password": "wrong"})
    assert Message.objects.count() == 2 and AccessAttempt.objects.filter(username=EMAIL).exists()

    services.account_erase(user=customer)
    assert [m.to_addresses for m in Message.objects.all()] == [["robert@example.com"]]
    assert not AccessAttempt.objects.filter(username=EMAIL).exists()


def test_the_german_page_says_in_german_which_order_stops_the_erasure(client, customer):
    order = place(customer)
    order_transition(order, Status.AUTHORISED)

    page = client.get("/de/account/privacy/delete/").content.decode()

    assert f"Die Bestellung {order.number} ist bezahlt und noch nicht versandt." in page
