"""Anonymous catalog pages come from a shared cache that any catalog change refreshes."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Offer
from tests.factories import OfferFactory, ReleaseFactory

pytestmark = pytest.mark.django_db


def get(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    return response, len(ctx.captured_queries)


def test_second_anonymous_visit_is_served_without_queries(client):
    release = ReleaseFactory()
    first, queries = get(client, release.get_absolute_url())
    again, cached_queries = get(client, release.get_absolute_url())
    assert queries > 0 and cached_queries == 0
    assert again.content == first.content


def test_a_price_change_shows_on_the_next_visit(client):
    offer = OfferFactory(price=Decimal("19.99"))
    url = offer.release.get_absolute_url()
    assert "€19.99" in client.get(url).content.decode()
    offer.price = Decimal("9.99")
    offer.save()
    body = client.get(url).content.decode()
    assert "€9.99" in body and "€19.99" not in body


def test_bulk_updates_through_services_refresh_pages(client):
    from catalog.services import catalog_changed

    offer = OfferFactory(stock=10)
    url = offer.release.get_absolute_url()
    assert "In stock" in client.get(url).content.decode()
    Offer.objects.filter(pk=offer.pk).update(stock=0)
    catalog_changed()
    assert "Out of stock" in client.get(url).content.decode()


def test_visitors_with_a_session_always_get_a_fresh_page(client):
    release = ReleaseFactory()
    get(client, release.get_absolute_url())
    client.cookies[settings.SESSION_COOKIE_NAME] = "some-session"
    _, queries = get(client, release.get_absolute_url())
    assert queries > 0


def test_different_query_strings_are_different_pages(client):
    first = client.get("/search/?q=brahms").content.decode()
    second = client.get("/search/?q=mahler").content.decode()
    assert "Johannes Brahms" in first and "Gustav Mahler" in second and "Gustav Mahler" not in first
