"""Attacks on the shop as it stands, each pinned by the test of what it must not reach:
another customer's order, more guesses than the limits allow, and so on."""

import datetime
import json
import re
import uuid
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import User
from orders.cart import CartLine
from orders.models import Order
from orders.services import order_place
from tests.accounts.helpers import last_link_to, sign_up
from tests.factories import OfferFactory, checkout_details
from tests.orders.test_payments import CHECKOUT

pytestmark = pytest.mark.django_db


def _checkout_page(client, offer):
    client.post("/cart/add/", {"offer": offer.pk, "quantity": 1})
    return client.get("/checkout/")


# --- Checkout -----------------------------------------------------------------------------


def test_another_browser_sending_a_customers_checkout_token_gets_neither_the_order_nor_its_page(payment_sandbox):
    offer = OfferFactory(price=Decimal("15.00"), stock=5)
    clara = Client()
    token = _checkout_page(clara, offer).context["form"].initial["checkout_token"]
    assert clara.post("/checkout/", {**CHECKOUT, "checkout_token": token}).status_code == 302
    order = Order.objects.get()

    mallory = Client()
    _checkout_page(mallory, offer)
    answer = mallory.post("/checkout/", {**CHECKOUT, "email": "mallory@example.com", "checkout_token": token})

    assert answer.status_code == 200
    assert "This checkout page is out of date" in answer.content.decode()
    assert mallory.get(f"/orders/{order.number}/").status_code == 404
    assert mallory.get(f"/orders/{order.number}/paid/").status_code == 404
    # Sent again as the page now shows it, the form places Mallory's own order.
    resent = mallory.post("/checkout/", {**CHECKOUT, "email": "mallory@example.com", **_token_field(answer)})
    assert resent.status_code == 302
    assert sorted(Order.objects.values_list("email", flat=True)) == ["clara@example.com", "mallory@example.com"]


def _token_field(page):
    return {"checkout_token": page.context["form"]["checkout_token"].value()}


def test_the_same_checkout_sent_again_after_paying_started_still_finds_its_own_order(payment_sandbox):
    offer = OfferFactory(price=Decimal("15.00"), stock=5)
    clara = Client()
    token = _checkout_page(clara, offer).context["form"].initial["checkout_token"]
    first = clara.post("/checkout/", {**CHECKOUT, "checkout_token": token})
    again = clara.post("/checkout/", {**CHECKOUT, "checkout_token": token})
    assert first.status_code == again.status_code == 302 and first["Location"] == again["Location"]
    assert Order.objects.count() == 1


def test_strangers_ticking_offers_for_one_address_at_checkout_send_it_one_confirmation_link(
    payment_sandbox, django_capture_on_commit_callbacks
):
    offer = OfferFactory(price=Decimal("15.00"), stock=10)
    for _ in range(4):
        stranger = Client()
        token = _checkout_page(stranger, offer).context["form"].initial["checkout_token"]
        with django_capture_on_commit_callbacks(execute=True):
            stranger.post(
                "/checkout/",
                {**CHECKOUT, "email": "ann@example.com", "promo_email": "on", "checkout_token": token},
            )
    sent = [m for m in mail.outbox if m.to == ["ann@example.com"]]
    assert [m.subject for m in sent] == ["Please confirm: offers from Arkiv by email"]
    # That one link still works: Ann can confirm if it was her.
    link = re.search(r"https?://[^/\s]+(/offers/confirm/\S+)", sent[0].body).group(1)
    assert Client().post(link).status_code == 200


# --- Abuse limits ---------------------------------------------------------------------------

PASSWORD = "a-long-passphrase"


def test_guessing_a_password_from_fresh_ipv6_addresses_of_one_network_is_still_locked_out(client):
    User.objects.create_user(email="clara@example.com", password=PASSWORD)
    answers = [
        client.post(
            "/account/sign-in/",
            {"username": "clara@example.com", "password": f"guess-{n}"},
            REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}",
        ).status_code
        for n in range(6)
    ]
    assert answers == [200, 200, 200, 200, 429, 429]
    # Clara at home, on another network, still signs in.
    home = client.post(
        "/account/sign-in/", {"username": "clara@example.com", "password": PASSWORD}, REMOTE_ADDR="2001:db8:9:9::1"
    )
    assert home.status_code == 302


def test_the_contact_form_limit_holds_against_an_ipv6_client_hopping_addresses(client):
    answers = [
        client.post(
            "/contact/",
            {"name": "Ann", "email": "ann@example.com", "message": "Hello"},
            REMOTE_ADDR=f"2001:db8:1:2:{n:x}::1",
        ).status_code
        for n in range(6)
    ]
    assert answers == [302] * 5 + [429]


def test_behind_the_proxy_an_ipv6_client_hopping_addresses_is_counted_as_one(client, settings):
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    answers = [
        client.post(
            "/contact/",
            {"name": "Ann", "email": "ann@example.com", "message": "Hello"},
            HTTP_X_FORWARDED_FOR=f"2001:db8:1:2::{n + 1:x}",
        ).status_code
        for n in range(6)
    ]
    assert answers == [302] * 5 + [429]


# --- Identity -------------------------------------------------------------------------------


def test_the_confirmation_link_of_someone_elses_new_account_does_not_sign_a_visitor_in_as_them(
    django_capture_on_commit_callbacks,
):
    # Mallory signs up and sends Clara her own link: were Clara signed in as Mallory by
    # it, what Clara bought next (her address, her phone) would be in Mallory's account.
    mallory = Client()
    sign_up(mallory, django_capture_on_commit_callbacks, email="mallory@example.com")
    link = last_link_to("mallory@example.com")

    clara = Client()
    assert clara.get(link).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        answer = clara.post(link, follow=True)

    assert "_auth_user_id" not in clara.session
    assert answer.request["PATH_INFO"] == "/account/sign-in/"
    assert "Sign in to continue." in answer.content.decode()
    assert User.objects.get(email="mallory@example.com").email_is_proven


def test_the_confirmation_link_followed_in_the_browser_that_signed_up_signs_in(django_capture_on_commit_callbacks):
    clara = Client()
    sign_up(clara, django_capture_on_commit_callbacks, email="clara@example.com")
    link = last_link_to("clara@example.com")
    clara.get(link)
    with django_capture_on_commit_callbacks(execute=True):
        clara.post(link)
    assert clara.session["_auth_user_id"] == str(User.objects.get(email="clara@example.com").pk)


def test_an_order_placed_in_another_account_with_my_address_is_neither_in_my_data_nor_erased_with_me(client):
    clara = User.objects.create_user(email="clara@example.com", password=PASSWORD, email_verified_at=timezone.now())
    mallory = User.objects.create_user(email="mallory@example.com", password=PASSWORD, email_verified_at=timezone.now())
    offer = OfferFactory()
    theirs = order_place(
        cart_lines=[CartLine(offer, 1, offer.price)],
        customer=mallory,
        checkout=checkout_details(
            email="clara@example.com",
            phone="+44 20 7946 0999",
            billing={**checkout_details().billing, "name": "Mallory Malory", "line1": "9 Hidden Lane"},
        ),
        checkout_token=uuid.uuid4(),
    )
    client.force_login(clara)

    data = json.loads(client.get("/account/privacy/my-data.json").content)
    assert data["orders"] == []
    assert "Hidden Lane" not in json.dumps(data) and "7946 0999" not in json.dumps(data)

    # Mallory's unpaid order is not Clara's to wait for, nor to erase.
    assert client.post("/account/privacy/delete/", {"password": PASSWORD}).status_code == 302
    theirs.refresh_from_db()
    assert theirs.customer == mallory and theirs.erased_at is None
    assert (theirs.phone, theirs.billing_line1) == ("+44 20 7946 0999", "9 Hidden Lane")


# --- Headers ----------------------------------------------------------------------------------


def _stored_by_no_cache(response):
    return "no-store" in response.get("Cache-Control", "") and "private" in response.get("Cache-Control", "")


def test_pages_of_a_signed_in_customer_are_stored_by_no_cache(client):
    clara = User.objects.create_user(email="clara@example.com", password=PASSWORD, email_verified_at=timezone.now())
    offer = OfferFactory()
    order = order_place(
        cart_lines=[CartLine(offer, 1, offer.price)],
        customer=clara,
        checkout=checkout_details(),
        checkout_token=uuid.uuid4(),
    )
    client.force_login(clara)
    for url in ["/account/", "/account/orders/", f"/orders/{order.number}/", "/account/privacy/my-data.json", "/"]:
        response = client.get(url)
        assert response.status_code == 200 and _stored_by_no_cache(response), url


def test_a_guests_cart_and_order_page_are_stored_by_no_cache(payment_sandbox):
    guest = Client()
    offer = OfferFactory(price=Decimal("15.00"), stock=5)
    token = _checkout_page(guest, offer).context["form"].initial["checkout_token"]
    assert _stored_by_no_cache(guest.get("/cart/"))
    assert _stored_by_no_cache(guest.get("/checkout/"))
    guest.post("/checkout/", {**CHECKOUT, "checkout_token": token})
    assert _stored_by_no_cache(guest.get(f"/orders/{Order.objects.get().number}/"))


# --- The admin's login ------------------------------------------------------------------------


def _admin_login(client, email, password, **headers):
    return client.post("/admin/login/?next=/admin/", {"username": email, "password": password}, **headers)


def test_the_admin_login_answers_a_customers_right_password_exactly_like_a_wrong_one(client):
    User.objects.create_user(email="clara@example.com", password=PASSWORD)
    wrong = _admin_login(client, "clara@example.com", "wrong-guess").content.decode()
    right = _admin_login(client, "clara@example.com", PASSWORD).content.decode()
    csrf = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert csrf.sub("", right) == csrf.sub("", wrong)
    assert "Please enter the correct email address and password for a staff account" in right
    assert "otp_device" not in right and "_auth_user_id" not in client.session


def test_guesses_on_the_admin_login_count_toward_the_ceiling_of_one_address(client):
    User.objects.create_user(email="clara@example.com", password=PASSWORD)
    answers = [_admin_login(client, f"customer{n}@example.com", "Summer2026!").status_code for n in range(31)]
    assert answers == [200] * 30 + [429]
    assert client.post("/account/sign-in/", {"username": "clara@example.com", "password": PASSWORD}).status_code == 429
    # From elsewhere, the admin's login works as before.
    elsewhere = _admin_login(Client(), "clara@example.com", "wrong-guess", REMOTE_ADDR="198.51.100.7")
    assert elsewhere.status_code == 200


def test_guessing_the_password_through_delete_my_account_is_limited(client):
    # Someone at a borrowed, signed-in browser must not be able to guess the password here.
    clara = User.objects.create_user(email="clara@example.com", password=PASSWORD)
    client.force_login(clara)
    answers = [client.post("/account/privacy/delete/", {"password": f"guess-{n}"}).status_code for n in range(6)]
    assert answers == [400] * 5 + [429]
    assert client.post("/account/privacy/delete/", {"password": PASSWORD}).status_code == 429
    assert User.objects.filter(pk=clara.pk).exists()


# --- Guest order pages ------------------------------------------------------------------------


def test_a_guest_order_page_is_gone_from_the_browser_that_placed_it_after_a_day(payment_sandbox):
    # A guest buys at a shared computer and walks away: the next person must not find the
    # guest's name, phone and address in the browser's history for as long as the session lasts.
    guest = Client()
    offer = OfferFactory(price=Decimal("15.00"), stock=5)
    token = _checkout_page(guest, offer).context["form"].initial["checkout_token"]
    guest.post("/checkout/", {**CHECKOUT, "checkout_token": token})
    order = Order.objects.get()
    assert guest.get(f"/orders/{order.number}/").status_code == 200

    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - datetime.timedelta(hours=25))
    assert guest.get(f"/orders/{order.number}/").status_code == 404


def test_the_old_address_is_told_when_the_sign_in_address_changes(client, django_capture_on_commit_callbacks):
    # Someone who learned Clara's password moves her account to their own mailbox: Clara,
    # at the old address, hears of it and is told how to get the account back.
    clara = User.objects.create_user(email="clara@example.com", password=PASSWORD, email_verified_at=timezone.now())
    client.force_login(clara)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/account/email/", {"email": "taker@example.com", "password": PASSWORD})
    link = last_link_to("taker@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(link)
    assert User.objects.get(pk=clara.pk).email == "taker@example.com"
    notice = [m for m in mail.outbox if m.to == ["clara@example.com"]][-1]
    assert notice.subject == "Your Arkiv sign-in address was changed"
    assert "taker@example.com" in notice.body and "give the account back" in notice.body


def test_sign_ups_for_one_address_from_many_places_do_not_flood_its_inbox(client, django_capture_on_commit_callbacks):
    User.objects.create_user(email="clara@example.com", password=PASSWORD)

    def sign_up_from(address, email="clara@example.com"):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                "/account/sign-up/",
                {"email": email, "password1": PASSWORD, "password2": PASSWORD},
                REMOTE_ADDR=address,
            )

    for n in range(10):
        assert sign_up_from(f"192.0.2.{n}").status_code == 302
    assert len([m for m in mail.outbox if m.to == ["clara@example.com"]]) == 10
    assert sign_up_from("192.0.2.99", email="CLARA@example.com").status_code == 429
    assert len([m for m in mail.outbox if m.to == ["clara@example.com"]]) == 10
