"""A work page's row says what its release's cheapest active offer says of availability
(the offer now comes with the row itself rather than with a query of its own)."""

from decimal import Decimal

import pytest

from tests.factories import OfferFactory, RecordingFactory, WorkFactory

pytestmark = pytest.mark.django_db


def availability(client, work, title):
    body = client.get(work.get_absolute_url()).content.decode()
    row = body.split(f">{title}</a>", 1)[1].split("</li>", 1)[0]
    for text in ("Made to order", "In stock", "Out of stock"):
        if text in row:
            return text
    return None


def test_each_row_tells_the_availability_of_its_cheapest_active_offer(client):
    work = WorkFactory()
    cases = {
        "Inactive cheap": [("5.00", 0, False, False), ("9.00", 4, False, True)],
        "Sold out cheap": [("5.00", 0, False, True), ("9.00", 4, False, True)],
        "Made to order": [("6.00", 0, True, True), ("9.00", 0, False, True)],
        "Nothing active": [("6.00", 3, False, False)],
    }
    for title, offers in cases.items():
        release = RecordingFactory(work=work, release__title=title).release
        for price, stock, made_to_order, active in offers:
            OfferFactory(
                release=release,
                price=Decimal(price),
                stock=stock,
                made_to_order=made_to_order,
                lead_time_days=10 if made_to_order else 0,
                is_active=active,
            )

    assert availability(client, work, "Inactive cheap") == "In stock"
    assert availability(client, work, "Sold out cheap") == "Out of stock"
    assert availability(client, work, "Made to order") == "Made to order"
    assert availability(client, work, "Nothing active") is None


def test_each_rows_performers_link_to_their_pages_in_the_pages_language(client):
    from django.utils import translation

    from catalog.models import Role
    from tests.factories import ArtistFactory, CreditFactory

    recording = RecordingFactory()
    artists = [ArtistFactory(slug="anne-sophie"), ArtistFactory(slug="o_2")]
    for artist in artists:
        CreditFactory(recording=recording, artist=artist, role=Role.SOLOIST)

    for prefix, language in (("", "en-gb"), ("/de", "de")):
        body = client.get(prefix + recording.work.get_absolute_url()).content.decode()
        with translation.override(language):
            for artist in artists:
                assert f'<a href="{artist.get_absolute_url()}">{artist.name}</a>' in body
