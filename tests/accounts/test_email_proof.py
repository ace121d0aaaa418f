"""An email address counts for an account only once its holder proved it: links in
emails are doors (a GET shows a page, only its button acts), work once, and stop working
when the account changed; guest orders are attached only by a deliberate step of the
signed-in account that proved the address."""

import re
import uuid

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from orders.cart import CartLine
from orders.models import Order
from orders.services import order_place
from privacy.services import account_erase
from tests.accounts.helpers import (
    PASSWORD,
    guest_order,
    last_link_to,
    prove,
    sign_up,
    signed_in_user_id,
)
from tests.factories import OfferFactory, checkout_details

pytestmark = pytest.mark.django_db
ATTACH = "/account/orders/guest-orders/"


def sign_in(client, email, password=PASSWORD):
    client.post("/account/sign-in/", {"username": email, "password": password})
    assert signed_in_user_id(client) is not None


def test_signing_up_with_a_victims_address_reaches_none_of_the_victims_guest_orders(
    client, django_capture_on_commit_callbacks
):
    victims = guest_order("clara@example.com")
    sign_up(client, django_capture_on_commit_callbacks, "clara@example.com")  # the attacker, never proving it
    sign_in(client, "clara@example.com")
    attacker = User.objects.get()
    offer = OfferFactory()
    own = order_place(
        cart_lines=[CartLine(offer, 1, offer.price)],
        customer=attacker,
        checkout=checkout_details(email="clara@example.com"),
        checkout_token=uuid.uuid4(),
    )

    history = client.get("/account/orders/").content.decode()
    assert own.number in history and victims.number not in history
    page = client.get(ATTACH)
    assert page.status_code == 200
    assert "Confirm your email address first" in page.content.decode()
    assert victims.number not in page.content.decode()
    client.post(ATTACH, {"order": [victims.number]})
    assert Order.objects.get(pk=victims.pk).customer is None
    assert client.get(f"/orders/{victims.number}/").status_code == 404


def test_opening_a_link_as_a_mail_scanner_would_changes_nothing(client, django_capture_on_commit_callbacks):
    order = guest_order("clara@example.com")
    sign_up(client, django_capture_on_commit_callbacks, "clara@example.com")
    link = last_link_to("clara@example.com")
    for _ in range(2):
        page = client.get(link)
        assert page.status_code == 200 and "Confirm clara@example.com" in page.content.decode()
    assert not User.objects.get().email_is_proven
    assert signed_in_user_id(client) is None
    assert Order.objects.get(pk=order.pk).customer is None
    # The page's button still works afterwards: the GETs did not use the link up.
    prove(client, django_capture_on_commit_callbacks, link)
    assert User.objects.get().email_is_proven


def test_proving_signs_the_new_account_in_and_keeps_the_cart(client, django_capture_on_commit_callbacks):
    client.post("/cart/add/", {"offer": OfferFactory().pk, "quantity": 2})
    sign_up(client, django_capture_on_commit_callbacks, "clara@example.com")
    assert client.session["cart_count"] == 2
    prove(client, django_capture_on_commit_callbacks, last_link_to("clara@example.com"))
    assert signed_in_user_id(client) == str(User.objects.get().pk)
    assert client.session["cart_count"] == 2
    assert len(client.get("/cart/").context["lines"]) == 1


def test_the_attach_page_lists_the_guest_orders_and_only_its_button_attaches_them(
    client, django_capture_on_commit_callbacks
):
    first, second = guest_order("Clara@Example.com"), guest_order("clara@example.com")
    stranger = guest_order("someone@example.com")
    sign_up(client, django_capture_on_commit_callbacks, "clara@example.com")
    prove(client, django_capture_on_commit_callbacks, last_link_to("clara@example.com"))

    page = client.get(ATTACH).content.decode()
    for order in (first, second):
        assert order.number in page and f"{order.total}" in page
        assert order.created_at.strftime("%-d %b %Y") in page
    assert stranger.number not in page and "Add 2 orders to my account" in page
    assert Order.objects.filter(customer__isnull=False).count() == 0  # showing attaches nothing

    response = client.post(ATTACH, {"order": [first.number, second.number, stranger.number, "AK-\x00"]}, follow=True)
    assert "2 orders added to your account" in response.content.decode()
    user = User.objects.get()
    assert set(Order.objects.filter(customer=user)) == {first, second}
    assert Order.objects.get(pk=stranger.pk).customer is None


def test_guest_orders_are_attached_only_for_the_signed_in_account_that_proved_the_address(
    client, django_capture_on_commit_callbacks
):
    order = guest_order("clara@example.com")
    sign_up(client, django_capture_on_commit_callbacks, "clara@example.com")
    link = last_link_to("clara@example.com")
    other = User.objects.create_user(email="robert@example.com", password=PASSWORD)
    client.force_login(other)

    response = prove(client, django_capture_on_commit_callbacks, link)
    assert "You are signed in with another account" in response.content.decode()
    assert signed_in_user_id(client) == str(other.pk)  # no silent switch of accounts
    assert order.number not in client.get(ATTACH).content.decode()
    client.post(ATTACH, {"order": [order.number]})
    assert Order.objects.get(pk=order.pk).customer is None

    client.post("/account/sign-out/")
    signed_out = client.post(ATTACH, {"order": [order.number]})
    assert signed_out.status_code == 302 and signed_out["Location"].startswith("/account/sign-in/")
    assert Order.objects.get(pk=order.pk).customer is None

    sign_in(client, "clara@example.com")
    client.post(ATTACH, {"order": [order.number]})
    assert Order.objects.get(pk=order.pk).customer.email == "clara@example.com"


def assert_refused(client, capture, link):
    with capture(execute=True):
        for response in (client.get(link), client.post(link)):
            assert response.status_code == 400
            assert "This link cannot be used" in response.content.decode()


def test_a_link_works_once(client, django_capture_on_commit_callbacks):
    sign_up(client, django_capture_on_commit_callbacks, "clara@example.com")
    link = last_link_to("clara@example.com")
    prove(client, django_capture_on_commit_callbacks, link)
    assert_refused(client, django_capture_on_commit_callbacks, link)


def test_a_newer_link_supersedes_the_older_ones(client, django_capture_on_commit_callbacks):
    sign_up(client, django_capture_on_commit_callbacks, "clara@example.com")
    old = last_link_to("clara@example.com")
    sign_in(client, "clara@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/account/verify-again/")
    new = last_link_to("clara@example.com")
    assert new != old
    assert_refused(client, django_capture_on_commit_callbacks, old)
    assert not User.objects.get().email_is_proven
    prove(client, django_capture_on_commit_callbacks, new)
    assert User.objects.get().email_is_proven


def test_an_email_change_link_is_superseded_by_a_newer_change(client, django_capture_on_commit_callbacks):
    user = User.objects.create_user(email="clara@example.com", password=PASSWORD)
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/account/email/", {"email": "first@example.com", "password": PASSWORD})
        client.post("/account/email/", {"email": "second@example.com", "password": PASSWORD})
    assert_refused(client, django_capture_on_commit_callbacks, last_link_to("first@example.com"))
    assert User.objects.get().email == "clara@example.com"
    prove(client, django_capture_on_commit_callbacks, last_link_to("second@example.com"))
    assert User.objects.get().email == "second@example.com"


def test_a_link_stops_working_when_the_address_changed(client, django_capture_on_commit_callbacks):
    sign_up(client, django_capture_on_commit_callbacks, "clara@example.com")
    link = last_link_to("clara@example.com")
    user = User.objects.get()
    user.email = "clara.wieck@example.com"  # e.g. corrected by staff in the admin
    user.save()
    assert_refused(client, django_capture_on_commit_callbacks, link)
    assert User.objects.get().email == "clara.wieck@example.com" and not User.objects.get().email_is_proven


def test_a_link_stops_working_after_a_password_change(client, django_capture_on_commit_callbacks):
    sign_up(client, django_capture_on_commit_callbacks, "clara@example.com")
    link = last_link_to("clara@example.com")
    sign_in(client, "clara@example.com")
    client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": "x-new-passphrase-1", "new_password2": "x-new-passphrase-1"},
    )
    assert User.objects.get().check_password("x-new-passphrase-1")
    assert_refused(client, django_capture_on_commit_callbacks, link)
    assert not User.objects.get().email_is_proven


def test_an_old_link_never_brings_an_erased_address_back(client, django_capture_on_commit_callbacks):
    user = User.objects.create_user(email="clara@example.com", password=PASSWORD)
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/account/email/", {"email": "new@example.com", "password": PASSWORD})
    link = last_link_to("new@example.com")
    account_erase(user=User.objects.get())
    client.logout()
    assert_refused(client, django_capture_on_commit_callbacks, link)
    erased = User.objects.get()
    assert erased.email == f"erased-{erased.pk}@invalid" and not erased.is_active
    assert erased.pending_email == "" and not erased.email_is_proven
    assert not User.objects.filter(email__in=["clara@example.com", "new@example.com"]).exists()


@pytest.mark.parametrize(
    "link",
    [
        "/account/verify/zzzzzzzzzzzzzzzzzzzzzzzz/1-abc/",
        "/account/verify/MTAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA/1-abc/",
        "/account/verify/MQ/zzzzzzzzzzzzzzzzzzzzz-abc/",
        "/account/verify/MQ/a-b-c/",
    ],
)
def test_broken_links_get_a_clear_page_not_an_error(client, link, django_capture_on_commit_callbacks):
    User.objects.create_user(email="clara@example.com", password=PASSWORD)
    assert_refused(client, django_capture_on_commit_callbacks, link)


def test_an_address_changed_without_proof_is_no_longer_proven(client, django_capture_on_commit_callbacks):
    order = guest_order("victim@example.com")
    sign_up(client, django_capture_on_commit_callbacks, "clara@example.com")
    prove(client, django_capture_on_commit_callbacks, last_link_to("clara@example.com"))
    user = User.objects.get()
    assert user.email_is_proven
    user.email = "victim@example.com"
    user.save(update_fields=["email"])
    assert not User.objects.get().email_is_proven
    assert order.number not in client.get(ATTACH).content.decode()
    client.post(ATTACH, {"order": [order.number]})
    assert Order.objects.get(pk=order.pk).customer is None


def test_a_link_for_an_address_another_account_took_meanwhile_is_refused(client, django_capture_on_commit_callbacks):
    user = User.objects.create_user(email="clara@example.com", password=PASSWORD)
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/account/email/", {"email": "new@example.com", "password": PASSWORD})
    User.objects.create_user(email="new@example.com", password=PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(last_link_to("new@example.com"))
    assert response.status_code == 400 and "belongs to another account" in response.content.decode()
    assert User.objects.get(pk=user.pk).email == "clara@example.com"


def test_proving_a_new_address_while_signed_out_asks_to_sign_in(client, django_capture_on_commit_callbacks):
    user = User.objects.create_user(email="clara@example.com", password=PASSWORD)
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/account/email/", {"email": "new@example.com", "password": PASSWORD})
    assert "Waiting for you to confirm" in client.get("/account/").content.decode()
    client.post("/account/sign-out/")
    response = prove(client, django_capture_on_commit_callbacks, last_link_to("new@example.com"))
    assert response.redirect_chain[-1][0].startswith("/account/sign-in/")
    assert "Sign in with your new address" in response.content.decode()
    assert signed_in_user_id(client) is None
    assert User.objects.get().email == "new@example.com" and User.objects.get().email_is_proven


def test_a_link_refused_because_the_address_was_taken_stays_used_up(client, django_capture_on_commit_callbacks):
    user = User.objects.create_user(email="clara@example.com", password=PASSWORD)
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/account/email/", {"email": "new@example.com", "password": PASSWORD})
    link = last_link_to("new@example.com")
    other = User.objects.create_user(email="new@example.com", password=PASSWORD)
    assert client.post(link).status_code == 400
    other.email = "elsewhere@example.com"
    other.save()
    assert_refused(client, django_capture_on_commit_callbacks, link)
    assert User.objects.get(pk=user.pk).email == "clara@example.com"


def test_the_owner_of_a_squatted_address_takes_the_account_back_by_password_reset(
    client, django_capture_on_commit_callbacks
):
    squatter = Client()
    sign_up(squatter, django_capture_on_commit_callbacks, "clara@example.com")
    sign_in(squatter, "clara@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/account/password-reset/", {"email": "clara@example.com"})
    reset = re.search(r"(/account/password-reset/[^\s]+)", mail.outbox[-1].body).group(1)
    form = client.get(reset, follow=True).redirect_chain[-1][0]
    client.post(form, {"new_password1": "the-owners-passphrase", "new_password2": "the-owners-passphrase"})
    owner = User.objects.get()
    assert owner.check_password("the-owners-passphrase") and owner.email_is_proven
    assert squatter.get("/account/").status_code == 302  # the squatter is signed out


def test_the_attach_page_costs_the_same_queries_for_one_order_or_many(client, django_capture_on_commit_callbacks):
    guest_order("clara@example.com")
    sign_up(client, django_capture_on_commit_callbacks, "clara@example.com")
    prove(client, django_capture_on_commit_callbacks, last_link_to("clara@example.com"))
    with CaptureQueriesContext(connection) as one:
        client.get(ATTACH)
    for _ in range(5):
        guest_order("clara@example.com")
    with CaptureQueriesContext(connection) as many:
        page = client.get(ATTACH)
    assert "Add 6 orders to my account" in page.content.decode()
    # Session, user, the guest orders: no query per listed order.
    assert len(one) == len(many) <= 3


def test_offers_links_mailed_to_the_old_address_stop_working_once_the_new_one_is_proven(
    client, django_capture_on_commit_callbacks
):
    from privacy import services as privacy

    user = User.objects.create_user(email="clara@example.com", password=PASSWORD)
    client.force_login(user)
    old_link = f"/offers/preferences/{privacy.preferences_token('clara@example.com')}/"
    assert client.get(old_link).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/account/email/", {"email": "clara.wieck@example.com", "password": PASSWORD})
    prove(client, django_capture_on_commit_callbacks, last_link_to("clara.wieck@example.com"))
    assert User.objects.get().email == "clara.wieck@example.com"
    assert client.get(old_link).status_code == 400
