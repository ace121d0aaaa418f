"""The cart page and add to cart stay right while they do less: a message said again
before the next page is shown once, the cart page's body is reused only for exactly what
it shows, and each visitor's own parts are never shared."""

import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Offer
from orders import cart_page
from privacy.models import AccountSession
from tests.factories import OfferFactory

pytestmark = pytest.mark.django_db


def add(client, offer, quantity=1, **extra):
    return client.post("/cart/add/", {"offer": offer.pk, "quantity": quantity, **extra})


def rendered(response):
    return {template.name for template in response.templates}


def csrf_token_of(page):
    return page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]


def test_a_refusal_repeated_before_the_next_page_is_shown_once(client):
    offer = OfferFactory(stock=2)
    add(client, offer, 2)
    for _ in range(4):
        add(client, offer, 1)
    body = client.get("/cart/").content.decode()
    assert body.count("Only 2 in stock.") == 1
    assert body.count(f"Added {offer.release.title} to your cart.") == 1


def test_different_messages_before_the_next_page_are_all_shown(client):
    first, second = OfferFactory(stock=5), OfferFactory(stock=5)
    add(client, first)
    add(client, second)
    add(client, first, 9)
    body = client.get("/cart/").content.decode()
    assert f"Added {first.release.title} to your cart." in body
    assert f"Added {second.release.title} to your cart." in body
    assert "Only 5 in stock." in body


def test_the_same_refusal_again_leaves_the_stored_session_as_it_was(client):
    offer = OfferFactory(stock=1)
    add(client, offer, 1)
    add(client, offer, 1)  # refused: the message waits for the next page
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            add(client, offer, 1)
    assert not [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))]
    assert client.session["cart_count"] == 1


def test_the_cart_page_seen_again_is_not_rendered_again_and_reads_the_same(client):
    add(client, OfferFactory(stock=5), 2)
    first = client.get("/cart/")
    again = client.get("/cart/")
    assert "orders/cart.html" in rendered(first) and "orders/cart.html" not in rendered(again)
    cart_page.forget_all()
    fresh = client.get("/cart/")
    assert "orders/cart.html" in rendered(fresh)

    def without_token(response):
        page = response.content.decode()
        return page.replace(csrf_token_of(page), "")

    assert without_token(again) == without_token(fresh)


def test_two_visitors_with_the_same_cart_never_see_each_others_parts(client, django_user_model):
    offer = OfferFactory(stock=9)
    django_user_model.objects.create_user(email="clara@example.com", password="a-long-passphrase")
    other = Client(enforce_csrf_checks=True)
    token = csrf_token_of(other.get(offer.release.get_absolute_url()).content.decode())
    add(other, offer, 1, csrfmiddlewaretoken=token)
    add(client, offer, 1)
    mine = client.get("/cart/").content.decode()  # with this visitor's "Added" message
    assert f"Added {offer.release.title} to your cart." in mine

    theirs = other.get("/cart/")  # their own message, the same cart
    page = theirs.content.decode()
    assert "orders/cart.html" not in rendered(theirs)  # the body the first visitor's view left
    assert page.count(f"Added {offer.release.title} to your cart.") == 1
    assert 'id="cart-count-badge">1<' in page
    assert csrf_token_of(page) != csrf_token_of(mine)
    # Their page's token is theirs: their next form posts go through.
    response = other.post(
        "/cart/update/", {"offer": offer.pk, "quantity": 3, "csrfmiddlewaretoken": csrf_token_of(page)}
    )
    assert response.status_code == 302 and other.session["cart_count"] == 3
    assert "Added" not in other.get("/cart/").content.decode()

    client.post("/account/sign-in/", {"username": "clara@example.com", "password": "a-long-passphrase"})
    client.get("/cart/")
    signed_out_view = other.get("/cart/").content.decode()
    assert "clara" not in signed_out_view.lower()


def test_a_price_or_stock_change_shows_on_the_next_view_of_the_cart(client):
    offer = OfferFactory(stock=3, price=Decimal("12.00"))
    add(client, offer, 3)
    assert "€36.00" in client.get("/cart/").content.decode()
    # As an order placed elsewhere or a bulk change moves them: no signal, no invalidation.
    Offer.objects.filter(pk=offer.pk).update(price=Decimal("14.00"))
    page = client.get("/cart/").content.decode()
    assert "was €12.00, now €14.00" in page and "€42.00" in page
    Offer.objects.filter(pk=offer.pk).update(stock=1)
    assert "Only 1 left." in client.get("/cart/").content.decode()
    Offer.objects.filter(pk=offer.pk).update(stock=3, price=Decimal("12.00"))
    page = client.get("/cart/").content.decode()
    assert "Only 1 left." not in page and "was €12.00" not in page and "Check out</a>" in page


def test_the_cart_page_in_german_after_the_english_one_is_german(client):
    add(client, OfferFactory(stock=5))
    assert "Your cart" in client.get("/cart/").content.decode()
    german = client.get("/de/cart/").content.decode()
    assert "Your cart" not in german and 'lang="de"' in german


def test_adding_an_offer_that_is_gone_or_inactive_still_says_so(client):
    offer = OfferFactory(stock=5, is_active=False)
    response = client.post("/cart/add/", {"offer": offer.pk, "quantity": 1}, follow=True)
    assert "no longer available" in response.content.decode()
    offer.delete()
    response = client.post("/cart/add/", {"offer": offer.pk or 999999, "quantity": 1}, follow=True)
    assert "That item is not in our catalog." in response.content.decode()


def test_a_cart_lives_with_its_session_and_goes_when_the_session_expires(client):
    offer = OfferFactory(stock=5)
    add(client, offer, 2)
    assert offer.release.title in client.get("/cart/").content.decode()
    AccountSession.objects.filter(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert "Your cart is empty" in client.get("/cart/").content.decode()


def test_the_kept_cart_pages_stay_within_their_byte_budget_keeping_the_newest(client, settings, monkeypatch):
    offers = [OfferFactory(stock=99) for _ in range(6)]
    cart_page.forget_all()
    add(client, offers[0], 1)
    client.get("/cart/")
    one_page = cart_page.held_bytes()
    assert one_page > 0
    monkeypatch.setattr(cart_page, "MAX_BYTES", one_page * 3)

    for offer in offers[1:]:  # every add makes another cart, so another page
        add(client, offer, 1)
        client.get("/cart/")

    assert cart_page.held_bytes() <= one_page * 3 + 6 * 1024  # later carts have longer pages
    assert len(cart_page._pages) < 6
    again = client.get("/cart/")  # the newest cart's page is still kept
    assert "orders/cart.html" not in rendered(again)
