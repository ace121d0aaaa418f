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
