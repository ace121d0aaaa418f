"""The session cart: add, change, remove; stock-aware; honest about price changes;
cheap for every page's header."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Offer
from tests.factories import OfferFactory

pytestmark = pytest.mark.django_db


def add(client, offer, quantity=1, **extra):
    return client.post("/cart/add/", {"offer": offer.pk, "quantity": quantity, **extra}, follow=True)


def test_add_from_release_page_updates_header_count_and_cart(client):
    offer = OfferFactory(stock=5)
    response = add(client, offer, 2)
    body = response.content.decode()
    assert f"Added {offer.release.title} to your cart" in body
    assert 'id="cart-count-badge">2<' in body
    cart = client.get("/cart/").content.decode()
    assert offer.release.title in cart and "€25.98" in cart


def test_cannot_add_more_than_the_stock(client):
    offer = OfferFactory(stock=2)
    add(client, offer, 2)
    body = add(client, offer, 1).content.decode()
    assert "Only 2 in stock." in body
    assert client.session["cart_count"] == 2


def test_made_to_order_has_no_stock_limit_and_shows_lead_time(client):
    offer = OfferFactory(stock=0, made_to_order=True, lead_time_days=6)
    add(client, offer, 20)
    assert "ships in about 6 working days" in client.get("/cart/").content.decode()


def test_sold_out_and_inactive_items_are_refused_with_a_message(client):
    assert "sold out" in add(client, OfferFactory(stock=0)).content.decode()
    assert "no longer available" in add(client, OfferFactory(is_active=False)).content.decode()
    assert client.session.get("cart_count", 0) == 0


@pytest.mark.parametrize(
    "data",
    [
        {"offer": "999999", "quantity": "1"},
        {"offer": "abc", "quantity": "1"},
        {"offer": "1", "quantity": "-3"},
        {"offer": "1", "quantity": "100000000000000000000"},
        {"offer": "1", "quantity": "1.5"},
        {},
        {"offer": "1"},
    ],
)
def test_tampered_or_absurd_input_gets_a_message_not_an_error(client, data):
    response = client.post("/cart/add/", data, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain and 'class="alert alert-danger"' in response.content.decode()
    assert client.session.get("cart_count", 0) == 0


def test_change_quantity_and_remove(client):
    offer = OfferFactory(stock=9)
    add(client, offer, 1)
    client.post("/cart/update/", {"offer": offer.pk, "quantity": 4})
    assert client.session["cart_count"] == 4
    client.post("/cart/update/", {"offer": offer.pk, "quantity": 0})
    assert client.session["cart_count"] == 0
    assert "Your cart is empty" in client.get("/cart/").content.decode()


def test_updating_an_offer_not_in_the_cart_is_refused(client):
    body = client.post("/cart/update/", {"offer": OfferFactory().pk, "quantity": 2}, follow=True).content.decode()
    assert "That item is not in your cart." in body


def test_a_price_change_is_shown_and_blocks_checkout_until_accepted(client):
    offer = OfferFactory(price=Decimal("12.00"))
    add(client, offer, 1)
    Offer.objects.filter(pk=offer.pk).update(price=Decimal("14.00"))
    cart = client.get("/cart/").content.decode()
    assert "was €12.00, now €14.00" in cart and "Check out</a>" not in cart
    assert client.get("/checkout/")["Location"] == "/cart/"
    client.post("/cart/accept-prices/")
    assert client.get("/checkout/").status_code == 200


def test_stock_gone_since_adding_is_shown_in_the_cart(client):
    offer = OfferFactory(stock=3)
    add(client, offer, 3)
    Offer.objects.filter(pk=offer.pk).update(stock=1)
    assert "Only 1 left." in client.get("/cart/").content.decode()


def test_header_costs_at_most_one_query_and_cart_page_is_flat(client):
    offers = OfferFactory.create_batch(2, stock=5)
    for offer in offers:
        add(client, offer)
    with CaptureQueriesContext(connection) as few:
        client.get("/cart/")
    for offer in OfferFactory.create_batch(8, stock=5):
        add(client, offer)
    with CaptureQueriesContext(connection) as many:
        client.get("/cart/")
    assert len(few) == len(many) <= 3  # session, offers with releases and labels, session save at most
    with CaptureQueriesContext(connection) as page:
        client.get("/cookies/")
    assert len(page) == 1  # the session: the header's count costs nothing more


def test_only_the_session_cookie_carries_the_cart(client):
    response = add(client, OfferFactory())
    assert set(client.cookies) <= {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME}
    assert response.status_code == 200


def test_cart_survives_signing_in_and_out(client, django_user_model):
    django_user_model.objects.create_user(email="clara@example.com", password="a-long-passphrase")
    offer = OfferFactory(stock=5)
    add(client, offer, 2)
    client.post("/account/sign-in/", {"username": "clara@example.com", "password": "a-long-passphrase"})
    assert client.session["cart_count"] == 2
    client.post("/account/sign-out/")
    assert client.session["cart_count"] == 2 and "_auth_user_id" not in client.session
    assert offer.release.title in client.get("/cart/").content.decode()


def test_release_page_from_the_shared_cache_still_adds_to_cart(client):
    offer = OfferFactory(stock=5)
    url = offer.release.get_absolute_url()
    client.get(url)  # fills the shared cache
    other = client.__class__(enforce_csrf_checks=True)
    page = other.get(url).content.decode()
    assert "__csrf_token__" not in page
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    response = other.post("/cart/add/", {"offer": offer.pk, "quantity": 1, "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and other.session["cart_count"] == 1
