"""Catalog pages come from one shared cache for every visitor, with each visitor's own
parts filled in, and a change makes stale only the pages that show it."""

import uuid
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.caching import _page_key
from catalog.models import Offer
from orders.cart import CartLine
from orders.services import order_place
from tests.factories import CreditFactory, OfferFactory, RecordingFactory, ReleaseFactory, checkout_details

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


def test_different_query_strings_are_different_pages(client):
    first = client.get("/search/?q=brahms").content.decode()
    second = client.get("/search/?q=mahler").content.decode()
    assert "Johannes Brahms" in first and "Gustav Mahler" in second and "Gustav Mahler" not in first


def stored_page(url):
    """The shared entry of a page, as every visitor is served it."""
    from django.test import RequestFactory

    entry = cache.get(_page_key(RequestFactory().get(url)))
    return entry and entry[1].decode()


def test_two_visitors_share_one_cached_page_and_each_sees_only_their_own_parts(client, django_user_model):
    offer = OfferFactory(stock=10)
    url = offer.release.get_absolute_url()
    anonymous = client.get(url).content.decode()
    assert 'id="cart-count-badge">0<' in anonymous and "Sign in" in anonymous

    from django.test import Client

    clara, bruno = Client(), Client()
    user = django_user_model.objects.create_user(
        email="clara@example.com", password="x-long-password-1", full_name="Clara Wieck"
    )
    clara.force_login(user)
    clara.post("/cart/add/", {"offer": offer.pk, "quantity": 3})  # leaves a flash message
    bruno.post("/cart/add/", {"offer": offer.pk, "quantity": 1})
    bruno.get("/cart/")  # reads his message, so he has none left

    with CaptureQueriesContext(connection) as ctx:
        clara_page = clara.get(url).content.decode()
    assert not any("catalog_" in q["sql"] for q in ctx.captured_queries), "served from the cache"
    bruno_page = bruno.get(url).content.decode()

    assert 'id="cart-count-badge">3<' in clara_page and ">Clara</a>" in clara_page
    assert f"Added {offer.release.title} to your cart." in clara_page
    assert 'id="cart-count-badge">1<' in bruno_page and "Sign in" in bruno_page
    assert "Clara" not in bruno_page and "Added " not in bruno_page
    assert "__csrf_token__" not in clara_page + bruno_page
    assert 'name="csrfmiddlewaretoken" value="' in clara_page

    stored = stored_page(url)
    assert stored is not None
    for personal in ("Clara", "Added ", 'cart-count-badge">3', 'cart-count-badge">1', 'cart-count-badge">0', "Sign in"):
        assert personal not in stored
    assert 'name="csrfmiddlewaretoken" value="__csrf_token__"' in stored


def test_a_flash_message_is_shown_once_even_on_a_cached_page(client):
    offer = OfferFactory(stock=10)
    url = offer.release.get_absolute_url()
    client.get(url)
    client.post("/cart/add/", {"offer": offer.pk, "quantity": 1})
    assert "to your cart." in client.get(url).content.decode()
    assert "to your cart." not in client.get(url).content.decode()


def test_a_sale_of_one_release_leaves_another_releases_page_cached(client, django_capture_on_commit_callbacks):
    sold, other = OfferFactory(stock=1), OfferFactory(stock=10)
    for offer in (sold, other):
        client.get(offer.release.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        order_place(
            cart_lines=[CartLine(offer=sold, quantity=1, price_when_added=sold.price)],
            customer=None,
            checkout=checkout_details(),
            checkout_token=uuid.uuid4(),
        )
    _, queries = get(client, other.release.get_absolute_url())
    assert queries == 0
    assert "Out of stock" in client.get(sold.release.get_absolute_url()).content.decode()


def test_an_order_that_leaves_plenty_in_stock_changes_no_page(client, django_capture_on_commit_callbacks):
    offer = OfferFactory(stock=50)
    recording = RecordingFactory(release=offer.release)
    urls = [offer.release.get_absolute_url(), recording.work.get_absolute_url(), "/", "/releases/"]
    for url in urls:
        client.get(url)
    with django_capture_on_commit_callbacks(execute=True):
        order_place(
            cart_lines=[CartLine(offer=offer, quantity=2, price_when_added=offer.price)],
            customer=None,
            checkout=checkout_details(),
            checkout_token=uuid.uuid4(),
        )
    for url in urls:
        _, queries = get(client, url)
        assert queries == 0, url


def test_a_price_change_expires_the_release_its_work_and_the_lists_but_not_other_releases(client):
    offer, other = OfferFactory(price=Decimal("19.99")), OfferFactory()
    recording = RecordingFactory(release=offer.release)
    pages = [offer.release.get_absolute_url(), recording.work.get_absolute_url(), "/releases/"]
    for url in [*pages, other.release.get_absolute_url()]:
        client.get(url)
    offer.price = Decimal("9.99")
    offer.save()
    for url in pages:
        _, queries = get(client, url)
        assert queries > 0, url
    _, queries = get(client, other.release.get_absolute_url())
    assert queries == 0


def test_renaming_a_release_expires_its_performers_pages_but_not_other_performers(client):
    credit, other = CreditFactory(), CreditFactory()
    release = credit.recording.release
    pages = [credit.artist.get_absolute_url(), release.get_absolute_url()]
    for url in [*pages, other.artist.get_absolute_url()]:
        client.get(url)
    release.title = "Brand New Title"
    release.save()
    for url in pages:
        assert "Brand New Title" in client.get(url).content.decode(), url
    _, queries = get(client, other.artist.get_absolute_url())
    assert queries == 0
