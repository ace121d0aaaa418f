"""A change expires only the cached pages that show it: a sale or a price change of one
offer changes its release's pages and the one list page that shows its card, not other
releases' pages, not other pages of the lists, and the front page only when the release
is on it; featuring a release changes the front page only."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog.selectors import HOME_NEW, PAGE_SIZE
from tests.factories import CreditFactory, LabelFactory, OfferFactory, RecordingFactory, ReleaseFactory

pytestmark = pytest.mark.django_db


def visit(client, url):
    """The page and whether it was served from the cache (no catalog query)."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    cached = not any("catalog_" in q["sql"] for q in ctx.captured_queries)
    return response.content.decode(), cached


@pytest.fixture
def shelf():
    """Thirty releases of one label, each with an offer and a recording of its own
    work, newest last: two pages of new releases, the front page shows the newest."""
    label = LabelFactory()
    offers = []
    for _ in range(PAGE_SIZE + 6):
        offer = OfferFactory(release=ReleaseFactory(label=label), price=Decimal("12.99"))
        RecordingFactory(release=offer.release)
        offers.append(offer)
    return offers


def test_a_price_change_expires_only_the_list_page_that_shows_the_release(client, shelf):
    old, newest = shelf[0], shelf[-1]  # the oldest is on page 2 and not on the front page
    label = old.release.label.get_absolute_url()
    other_pages = [
        "/",
        "/releases/",
        label,
        newest.release.get_absolute_url(),
        newest.release.recordings.get().work.get_absolute_url(),
    ]
    own_pages = [
        old.release.get_absolute_url(),
        old.release.recordings.get().work.get_absolute_url(),
        "/releases/?page=2",
        "/releases/?format=cd&page=2",
        label + "?page=2",
    ]
    for url in other_pages + own_pages:
        visit(client, url)

    old.price = Decimal("7.49")
    old.save()

    for url in own_pages:
        body, cached = visit(client, url)
        assert not cached and "€7.49" in body, url
    for url in other_pages:
        _, cached = visit(client, url)
        assert cached, url


def test_a_stock_change_that_keeps_the_lowest_price_leaves_every_list_cached(client, shelf):
    offer = shelf[-1]  # the newest: on the front page and page 1 of every list
    lists = ["/", "/releases/", offer.release.label.get_absolute_url(), "/releases/?format=cd"]
    release_page = offer.release.get_absolute_url()
    for url in [*lists, release_page]:
        visit(client, url)

    offer.stock = 0
    offer.save()

    body, cached = visit(client, release_page)
    assert not cached and "Out of stock" in body
    for url in lists:
        _, cached = visit(client, url)
        assert cached, url


def test_the_front_page_expires_for_a_price_change_only_of_a_release_it_shows(client, shelf):
    shown, not_shown = shelf[-1], shelf[-1 - HOME_NEW]
    visit(client, "/")
    not_shown.price = Decimal("5.55")
    not_shown.save()
    body, cached = visit(client, "/")
    assert cached and "€5.55" not in body

    shown.price = Decimal("6.66")
    shown.save()
    body, cached = visit(client, "/")
    assert not cached and "from €6.66" in body


def test_a_price_edited_in_the_offer_list_reaches_the_release_cards(admin_client, shelf):
    offer = shelf[-1]
    visitor = Client()
    assert "from €12.99" in visit(visitor, "/releases/")[0]
    response = admin_client.post(
        "/admin/catalog/offer/",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(offer.pk),
            "form-0-price": "3.33",
            "form-0-stock": str(offer.stock),
            "form-0-is_active": "on",
            "_save": "Save",
        },
        query_params={"q": offer.sku},
    )
    assert response.status_code == 302
    body, cached = visit(visitor, "/releases/")
    assert not cached and "from €3.33" in body


def test_featuring_a_release_expires_the_front_page_and_nothing_else(admin_client, shelf):
    release = shelf[3].release
    visitor = Client()
    pages = ["/releases/", "/releases/?page=2", release.get_absolute_url()]
    for url in ["/", *pages]:
        visit(visitor, url)

    response = admin_client.post(
        "/admin/catalog/release/", {"action": "feature", "_selected_action": [release.pk]}, follow=True
    )
    assert "1 release(s) featured." in response.content.decode()

    body, cached = visit(visitor, "/")
    assert not cached and "Featured" in body and release.title in body
    for url in pages:
        _, cached = visit(visitor, url)
        assert cached, url


def test_deleting_a_release_expires_its_pages_and_lists_but_not_other_releases_or_performers(admin_client, shelf):
    gone, kept = shelf[-1].release, shelf[-2].release
    credit = CreditFactory(recording=gone.recordings.get())
    other_credit = CreditFactory(recording=kept.recordings.get())
    visitor = Client()
    expiring = ["/", "/releases/", gone.label.get_absolute_url(), credit.artist.get_absolute_url()]
    staying = [
        kept.get_absolute_url(),
        kept.recordings.get().work.get_absolute_url(),
        other_credit.artist.get_absolute_url(),
        "/composers/",
    ]
    for url in [gone.get_absolute_url(), gone.recordings.get().work.get_absolute_url(), *expiring, *staying]:
        visit(visitor, url)
    gone_work = gone.recordings.get().work.get_absolute_url()

    response = admin_client.post(
        "/admin/catalog/release/",
        {"action": "delete_selected", "_selected_action": [gone.pk], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200

    assert visitor.get(gone.get_absolute_url()).status_code == 404
    body, cached = visit(visitor, gone_work)
    assert not cached and gone.title not in body
    for url in expiring:
        body, cached = visit(visitor, url)
        assert not cached and gone.title not in body, url
    for url in staying:
        _, cached = visit(visitor, url)
        assert cached, url
