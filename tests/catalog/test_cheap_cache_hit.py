"""A cached catalog page is answered with as little work as the page needs
(catalog.caching, catalog.personal), and a visitor cannot tell: the forms on it still
post, and every header and cookie is what a fresh render of the page gives."""

import re

import pytest
from django.test import Client

from tests.factories import OfferFactory

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def test_a_returning_visitor_adds_to_the_cart_from_a_cached_page_with_its_token():
    offer = OfferFactory(stock=5)
    url = offer.release.get_absolute_url()
    Client().get(url)  # cached
    visitor = Client(enforce_csrf_checks=True)
    first = TOKEN.search(visitor.get(url).content.decode()).group(1)
    cookie = visitor.cookies["csrftoken"].value

    second = TOKEN.search(visitor.get(url).content.decode()).group(1)

    # The same secret (the cookie is renewed, not replaced), masked afresh on each page.
    assert visitor.cookies["csrftoken"].value == cookie
    assert first != second and len(second) == 64 and second.isalnum()
    response = visitor.post("/cart/add/", {"offer": offer.pk, "quantity": 1, "csrfmiddlewaretoken": second})
    assert response.status_code == 302 and visitor.session["cart_count"] == 1


def test_a_token_that_is_not_the_visitors_own_is_refused_on_a_cached_page():
    offer = OfferFactory(stock=5)
    url = offer.release.get_absolute_url()
    Client().get(url)
    visitor, stranger = Client(enforce_csrf_checks=True), Client()
    visitor.get(url)
    token = TOKEN.search(stranger.get(url).content.decode()).group(1)

    response = visitor.post("/cart/add/", {"offer": offer.pk, "quantity": 1, "csrfmiddlewaretoken": token})

    assert response.status_code == 403


def answer(client, url, **headers):
    """Status, headers (without the request id, new on every answer, and the time an
    uncacheable page expires) and cookies (without their expiry time) of one answer."""
    response = client.get(url, **headers)
    seen = {name.lower(): value for name, value in response.items() if name.lower() not in {"x-request-id", "expires"}}
    cookies = {
        name: {key: value for key, value in morsel.items() if key != "expires" and value}
        for name, morsel in response.cookies.items()
    }
    return response.status_code, seen, cookies


def fresh_and_cached(url, client_for, **headers):
    from django.core.cache import cache

    cache.clear()
    fresh = answer(client_for(), url, **headers)
    cached = answer(client_for(), url, **headers)
    return fresh, cached


def test_a_german_page_from_the_cache_says_its_language_as_a_fresh_render_does():
    url = "/de" + OfferFactory(stock=5).release.get_absolute_url()

    fresh, cached = fresh_and_cached(url, Client)

    assert cached == fresh
    assert cached[1]["content-language"] == "de"
    assert "Accept-Language" not in cached[1].get("vary", "")  # the address alone decides


def test_a_browser_preferring_german_gets_the_english_page_it_asked_for_from_the_cache_too():
    url = OfferFactory(stock=5).release.get_absolute_url()

    fresh, cached = fresh_and_cached(url, Client, HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")

    assert cached == fresh
    assert cached[1]["content-language"] == "en-gb"
    assert "Accept-Language" in cached[1]["vary"]


def test_a_visitor_without_a_session_cookie_gets_a_cached_page_with_a_fresh_renders_headers_and_no_session():
    url = OfferFactory(stock=5).release.get_absolute_url()

    def with_csrf_cookie_only():
        client = Client()
        client.cookies["csrftoken"] = "A" * 32
        return client

    for client_for in (Client, with_csrf_cookie_only):
        fresh, cached = fresh_and_cached(url, client_for)
        assert cached == fresh
        assert set(cached[2]) == {"csrftoken"}  # no session started, the CSRF cookie renewed
        assert "Cookie" in cached[1]["vary"] and "cache-control" not in cached[1]


def test_a_visitor_with_an_expired_session_gets_a_cached_page_with_a_fresh_renders_headers():
    url = OfferFactory(stock=5).release.get_absolute_url()

    def with_expired_session():
        client = Client()
        client.cookies["sessionid"] = "x" * 32  # no such session any more
        return client

    fresh, cached = fresh_and_cached(url, with_expired_session)

    assert cached == fresh


def test_the_form_tokens_of_cached_pages_draw_every_letter_and_digit_evenly():
    """The token is a secret masked with random letters and digits: any character
    favoured over another would make tokens easier to guess."""
    from collections import Counter

    from django.middleware.csrf import CSRF_ALLOWED_CHARS
    from django.test import RequestFactory

    from catalog.personal import csrf_token

    factory = RequestFactory()
    counts = Counter()
    for _ in range(1000):
        counts.update(csrf_token(factory.get("/")))  # a new secret and a new mask each

    expected = 1000 * 64 / len(CSRF_ALLOWED_CHARS)  # about 1032, give or take 32
    assert set(counts) == set(CSRF_ALLOWED_CHARS)
    # Within 4.5 standard deviations; a character drawn a quarter more often is not.
    assert all(abs(n - expected) < 145 for n in counts.values()), counts.most_common(3)
