"""A page rendered afresh takes its unchanged release cards and recording rows from the
fragment cache: it must read exactly as the page rendered with nothing cached, and a
change to one offer must show on the very next render."""

import re
from decimal import Decimal

import pytest
from django.core.cache import cache

from catalog.models import Role
from catalog.services import catalog_changed, offer_changed
from tests.factories import CreditFactory, LabelFactory, OfferFactory, RecordingFactory, ReleaseFactory, WorkFactory

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def body(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    # The CSRF token is masked afresh on each response; everything else must match.
    return CSRF.sub("", response.content.decode())


def recorded(work, *, stock=3, price="12.00"):
    recording = RecordingFactory(work=work)
    CreditFactory(recording=recording, role=Role.CONDUCTOR)
    OfferFactory(release=recording.release, stock=stock, price=Decimal(price))
    return recording


@pytest.fixture
def work():
    work = WorkFactory()
    for _ in range(4):
        recorded(work)
    return work


@pytest.mark.parametrize("suffix", ["", "?sort=price", "?format=cd"])
def test_work_page_from_cached_rows_reads_as_the_page_rendered_from_nothing(client, work, suffix):
    url = work.get_absolute_url() + suffix
    body(client, url)  # rows now cached
    catalog_changed()  # the page expires, its rows stay cached
    from_fragments = body(client, url)
    cache.clear()
    assert from_fragments == body(client, url)


def test_home_and_label_pages_from_cached_cards_read_as_rendered_from_nothing(client):
    label = LabelFactory()
    for _ in range(5):
        OfferFactory(release=ReleaseFactory(label=label, featured=True))
    for url in ("/", "/releases/", label.get_absolute_url()):
        body(client, url)
        catalog_changed()
        from_fragments = body(client, url)
        cache.clear()
        assert from_fragments == body(client, url), url


def test_a_sold_out_offer_shows_on_the_work_page_though_its_row_was_cached(client, work):
    recording = recorded(work, stock=1)
    url = work.get_absolute_url()
    assert "Out of stock" not in body(client, url)
    offer = recording.release.offers.get()
    offer.stock = 0
    offer.save()
    offer_changed(offer)
    assert "Out of stock" in body(client, url)


def test_a_new_price_shows_on_the_work_page_though_its_row_was_cached(client, work):
    recording = recorded(work, price="9.00")
    url = work.get_absolute_url()
    assert "9.00" in body(client, url)
    offer = recording.release.offers.get()
    offer.price = Decimal("7.50")
    offer.save()
    offer_changed(offer)
    page = body(client, url)
    assert "7.50" in page and "9.00" not in page
