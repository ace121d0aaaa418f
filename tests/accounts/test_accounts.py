"""Accounts: sign up (proven by an emailed link), sign in (throttled), change email and
password, password reset, address book and order history."""

import re

import pytest
from django.core import mail

from accounts.models import User
from tests.accounts.helpers import PASSWORD, guest_order, link_in, prove, sign_up, signed_in_user_id
from tests.factories import OfferFactory

pytestmark = pytest.mark.django_db


def test_sign_up_sends_a_link_whose_button_proves_the_address_and_signs_in(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/account/sign-up/",
            {"email": "Clara@Example.com", "full_name": "Clara Schumann", "password1": PASSWORD, "password2": PASSWORD},
            follow=True,
        )
    assert "Check your inbox" in response.content.decode()
    assert signed_in_user_id(client) is None
    user = User.objects.get()
    assert user.email == "clara@example.com" and user.password.startswith("argon2")
    assert not user.email_is_proven
    assert mail.outbox[0].to == ["clara@example.com"] and "/account/verify/" in mail.outbox[0].body
    confirmed = prove(client, django_capture_on_commit_callbacks, link_in(mail.outbox[0]))
    assert "clara@example.com is confirmed" in confirmed.content.decode()
    assert User.objects.get().email_is_proven
    assert 'id="account-link">Clara<' in client.get("/").content.decode()


def test_sign_up_refuses_weak_passwords(client):
    weak = client.post("/account/sign-up/", {"email": "new@example.com", "password1": "123", "password2": "123"})
    assert "too short" in weak.content.decode()
    assert not User.objects.exists()


def test_proving_the_email_then_choosing_to_add_them_brings_the_guest_orders_into_the_account(
    client, django_capture_on_commit_callbacks
):
    order = guest_order("clara@example.com")
    other = guest_order("someone@example.com")
    sign_up(client, django_capture_on_commit_callbacks, "clara@example.com")
    response = prove(client, django_capture_on_commit_callbacks, link_in(mail.outbox[-1]))
    assert response.redirect_chain[-1][0] == "/account/orders/guest-orders/"
    assert order.number not in client.get("/account/orders/").content.decode()  # not before the button
    client.post("/account/orders/guest-orders/", {"order": [order.number, other.number]})
    history = client.get("/account/orders/").content.decode()
    assert order.number in history and other.number not in history
    assert client.get(f"/orders/{order.number}/").status_code == 200
    assert client.get(f"/orders/{other.number}/").status_code == 404


def test_tampered_verification_link_changes_nothing(client):
    for link in ["/account/verify/not-a-real-token/", "/account/verify/MQ/not-a-real-token/"]:
        response = client.get(link)
        assert response.status_code == 400
        assert "This link is not valid any more" in response.content.decode()


def test_another_customers_order_is_404(client):
    order = guest_order("clara@example.com")
    User.objects.create_user(email="mallory@example.com", password=PASSWORD)
    client.post("/account/sign-in/", {"username": "mallory@example.com", "password": PASSWORD})
    assert client.get(f"/orders/{order.number}/").status_code == 404
    assert client.get("/orders/AK-NOTREAL/").status_code == 404


def test_password_reset_by_email(client):
    User.objects.create_user(email="clara@example.com", password=PASSWORD)
    client.post("/account/password-reset/", {"email": "clara@example.com"})
    confirm = client.get(re.search(r"(/account/password-reset/[^\s]+)", mail.outbox[-1].body).group(1), follow=True)
    url = confirm.redirect_chain[-1][0]
    client.post(url, {"new_password1": "another-long-passphrase", "new_password2": "another-long-passphrase"})
    assert User.objects.get().check_password("another-long-passphrase")


def test_password_reset_link_points_at_the_shop_whatever_host_the_request_named(client, settings):
    # A forged Host header (one the server still answers to) must not put an attacker's
    # address into the victim's reset link.
    User.objects.create_user(email="clara@example.com", password=PASSWORD)
    client.post("/account/password-reset/", {"email": "clara@example.com"}, HTTP_HOST="localhost")
    body = mail.outbox[-1].body
    assert f"{settings.ARKIV_SITE_URL.rstrip('/')}/account/password-reset/" in body
    assert "localhost" not in body


def test_change_email_needs_the_password_and_the_new_address_proven(client, django_capture_on_commit_callbacks):
    user = User.objects.create_user(email="clara@example.com", password=PASSWORD)
    client.force_login(user)
    wrong = client.post("/account/email/", {"email": "new@example.com", "password": "nope"})
    assert "not your current password" in wrong.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/account/email/", {"email": "new@example.com", "password": PASSWORD})
    assert User.objects.get().email == "clara@example.com"
    assert mail.outbox[-1].to == ["new@example.com"]
    prove(client, django_capture_on_commit_callbacks, link_in(mail.outbox[-1]))
    assert User.objects.get().email == "new@example.com" and User.objects.get().email_is_proven


def test_address_book_prefills_checkout(client):
    user = User.objects.create_user(email="clara@example.com", password=PASSWORD)
    client.force_login(user)
    client.post(
        "/account/addresses/new/",
        {
            "name": "Clara Schumann",
            "line1": "1 Wieck Street",
            "city": "Leipzig",
            "postcode": "04109",
            "country": "DE",
            "phone": "+49 341 0000",
            "is_default": "on",
        },
    )
    client.post("/cart/add/", {"offer": OfferFactory().pk, "quantity": 1})
    form = client.get("/checkout/").context["form"]
    assert form.initial["billing_line1"] == "1 Wieck Street" and form.initial["email"] == "clara@example.com"
    other = User.objects.create_user(email="other@example.com", password=PASSWORD)
    address = user.addresses.get()
    client.force_login(other)
    assert client.get(f"/account/addresses/{address.pk}/").status_code == 404
    assert client.post(f"/account/addresses/{address.pk}/delete/").status_code == 404


def test_account_pages_need_sign_in(client):
    for url in ["/account/", "/account/orders/", "/account/email/", "/account/addresses/new/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/account/sign-in/")


def test_change_password_needs_the_old_one(client):
    user = User.objects.create_user(email="clara@example.com", password=PASSWORD)
    client.force_login(user)
    wrong = client.post(
        "/account/password/",
        {"old_password": "nope", "new_password1": "x-new-passphrase-1", "new_password2": "x-new-passphrase-1"},
    )
    assert "Your old password was entered incorrectly" in wrong.content.decode()
    client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": "x-new-passphrase-1", "new_password2": "x-new-passphrase-1"},
    )
    assert User.objects.get().check_password("x-new-passphrase-1")


def test_correct_the_name_on_the_account(client):
    user = User.objects.create_user(email="clara@example.com", password=PASSWORD, full_name="Clara Wieck")
    client.force_login(user)
    client.post("/account/name/", {"full_name": "Clara Schumann"})
    assert User.objects.get().full_name == "Clara Schumann"
