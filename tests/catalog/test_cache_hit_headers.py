"""A cached catalog page is answered before URL resolution and the view
(catalog.caching.SharedPageMiddleware), yet a hit must carry exactly what the whole stack
gives a fresh render: the security, CSP and Permissions-Policy headers, X-Frame-Options,
Vary, Cache-Control, and the same cookies (the CSRF cookie renewed, the session cookie
when a message was read)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.factories import OfferFactory

pytestmark = pytest.mark.django_db

# Differs between any two answers, hit or not: the request id, and the Expires date of a
# page no cache may keep (the time of the answer, so it changes when a second ticks over).
PER_REQUEST = {"x-request-id", "expires"}


def answer(client, url):
    """What a browser receives: status, headers and cookies (without the expiry date,
    which is a time)."""
    response = client.get(url)
    headers = {name.lower(): value for name, value in response.items() if name.lower() not in PER_REQUEST}
    cookies = {
        name: {key: value for key, value in morsel.items() if key != "expires" and value} | {"value": morsel.value}
        for name, morsel in response.cookies.items()
    }
    return response.status_code, headers, cookies, response.content.decode()


def miss_then_hit(client, url, between=lambda: None):
    from django.core.cache import cache

    cache.clear()
    miss = answer(client, url)
    between()
    hit = answer(client, url)
    return miss, hit


def test_a_hit_for_an_anonymous_visitor_carries_the_headers_of_a_fresh_render(client):
    url = OfferFactory(stock=5).release.get_absolute_url()
    client.get("/composers/")  # a visitor who already has the CSRF cookie

    miss, hit = miss_then_hit(client, url)

    assert hit[:3] == miss[:3]
    status, headers, cookies, _ = hit
    assert status == 200
    assert {"content-security-policy", "permissions-policy", "x-frame-options", "vary"} <= headers.keys()
    assert {"x-content-type-options", "referrer-policy", "cross-origin-opener-policy"} <= headers.keys()
    assert "csrftoken" in cookies


def test_a_first_visit_served_from_the_cache_gets_the_csrf_cookie_as_a_fresh_render_does():
    url = OfferFactory(stock=5).release.get_absolute_url()
    first, second = Client(), Client()
    miss = answer(first, url)
    hit = answer(second, url)

    assert hit[1] == miss[1]
    assert hit[2].keys() == miss[2].keys() == {"csrftoken"}
    assert {k: v for k, v in hit[2]["csrftoken"].items() if k != "value"} == {
        k: v for k, v in miss[2]["csrftoken"].items() if k != "value"
    }


def test_a_hit_for_a_shopper_with_a_cart_carries_the_headers_of_a_fresh_render(client):
    offer = OfferFactory(stock=5)
    url = offer.release.get_absolute_url()
    client.post("/cart/add/", {"offer": offer.pk, "quantity": 2})
    client.get("/cart/")  # the "added" message is read

    miss, hit = miss_then_hit(client, url)

    assert hit[:3] == miss[:3]
    _, headers, _, body = hit
    assert "no-store" in headers["cache-control"]  # a page read from a session with a cart
    assert client.get(url).has_header("Expires")
    assert 'id="cart-count-badge">2<' in body


def test_a_hit_that_shows_a_message_carries_the_headers_and_session_cookie_of_a_fresh_render(client):
    offer = OfferFactory(stock=5)
    url = offer.release.get_absolute_url()
    user = get_user_model().objects.create_user(email="clara@example.com", password="x-long-password-1")
    client.force_login(user)
    client.post("/cart/add/", {"offer": offer.pk, "quantity": 1})

    miss, hit = miss_then_hit(
        client, url, between=lambda: client.post("/cart/add/", {"offer": offer.pk, "quantity": 1})
    )

    assert hit[:2] == miss[:2]
    assert hit[2].keys() == miss[2].keys()
    assert "to your cart." in miss[3] and "to your cart." in hit[3]
    assert "to your cart." not in client.get(url).content.decode()  # shown once, also from a hit


def test_a_hit_is_refused_for_a_host_the_shop_does_not_serve_as_a_fresh_render_is(client):
    url = OfferFactory(stock=5).release.get_absolute_url()
    client.get(url)  # cached
    assert client.get(url, HTTP_HOST="evil.example").status_code == 400
