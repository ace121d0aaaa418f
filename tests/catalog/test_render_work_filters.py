"""What a work's page shows of the set of its recordings (the filter choices: formats,
labels, performers, years; the recording count) and of the work itself (catalogue
numbers, movements) is read once for all its filter, sort and page addresses and kept
until a change to the work's recordings: whatever changes them must show on the very
next render, and a stock or price change, which expires the page, does not read them
again."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import CatalogueNumber, Format, Movement, Role
from catalog.services import offer_changed
from tests.factories import (
    ArtistFactory,
    AwardFactory,
    CreditFactory,
    EditorialPickFactory,
    LabelFactory,
    OfferFactory,
    RecordingFactory,
    ReleaseFactory,
    WorkFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def work():
    work = WorkFactory()
    label = LabelFactory(name="Alpha", slug="alpha")
    for day in range(1, 4):
        release = ReleaseFactory(label=label, format=Format.CD, release_date=datetime.date(2010, 1, day))
        recording = RecordingFactory(work=work, release=release, year=2001)
        CreditFactory(recording=recording, role=Role.CONDUCTOR)
        OfferFactory(release=release, stock=10)
    return work


def grouping_queries(ctx):
    """The queries that read the work's recordings as a set (its filters and count)."""
    return [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"] or "DISTINCT" in q["sql"]]


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    body = response.content.decode()
    count = int(re.search(r"<h2[^>]*>\s*(\d+) recordings?", body).group(1))
    options = {
        name: re.findall(r'<option value="([^"]+)"', select)
        for name, select in re.findall(r'<select id="f-[a-z]+" name="([a-z]+)"[^>]*>(.*?)</select>', body)
    }
    return count, options


def test_the_filters_are_read_once_for_every_sort_and_filter_of_the_work(client, work):
    client.get(work.get_absolute_url())

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(work.get_absolute_url() + "?sort=oldest")

    assert response.status_code == 200
    assert grouping_queries(ctx) == []


def test_a_sold_out_offer_shows_at_once_without_reading_the_filters_again(client, work):
    url = work.get_absolute_url()
    client.get(url)
    offer = work.recordings.order_by("pk").first().release.offers.get()

    offer.stock = 0
    offer.save()
    offer_changed(offer)
    with CaptureQueriesContext(connection) as ctx:
        body = client.get(url).content.decode()

    assert "Out of stock" in body
    assert grouping_queries(ctx) == []
    assert page(client, url)[0] == 3


def test_a_deleted_recording_and_a_deleted_credit_show_in_the_filters_at_once(client, work):
    url = work.get_absolute_url()
    first, second = work.recordings.order_by("pk")[:2]
    soloist = CreditFactory(recording=first, role=Role.SOLOIST, artist=ArtistFactory(slug="sol-o"))
    assert "sol-o" in page(client, url)[1]["performer"]

    soloist.delete()
    assert "sol-o" not in page(client, url + "?sort=oldest")[1]["performer"]

    second.delete()
    assert page(client, url + "?sort=price")[0] == 2


def test_a_new_catalogue_number_and_movement_show_at_once(client, work):
    url = work.get_absolute_url()
    page(client, url)

    CatalogueNumber.objects.create(work=work, system="Op", number="99")
    Movement.objects.create(work=work, position=1, title="Allegro con brio")

    body = client.get(url + "?sort=oldest").content.decode()
    assert "op. 99" in body
    assert "<li>Allegro con brio</li>" in body


def test_a_new_recording_of_the_work_shows_in_the_filters_and_the_count_at_once(client, work):
    url = work.get_absolute_url()
    assert page(client, url)[0] == 3

    release = ReleaseFactory(label=LabelFactory(name="Gamma", slug="gamma"), format=Format.SACD)
    recording = RecordingFactory(work=work, release=release, year=1999)
    CreditFactory(recording=recording, role=Role.CONDUCTOR, artist=ArtistFactory(slug="new-maestro"))

    for address in (url, url + "?sort=oldest"):
        count, options = page(client, address)
        assert count == 4
        assert "gamma" in options["label"]
        assert "sacd" in options["format"]
        assert "1999" in options["year"]
        assert "new-maestro" in options["performer"]


def test_a_release_moved_to_another_format_and_label_shows_in_the_filters_at_once(client, work):
    url = work.get_absolute_url()
    page(client, url + "?sort=price")
    release = work.recordings.order_by("pk").first().release

    release.format = Format.LP
    release.label = LabelFactory(name="Delta", slug="delta")
    release.save()

    count, options = page(client, url + "?format=lp")
    assert count == 1
    assert "lp" in options["format"]
    assert "delta" in options["label"]


def test_a_new_soloist_of_a_recording_shows_in_the_performer_filter_at_once(client, work):
    url = work.get_absolute_url()
    page(client, url)

    CreditFactory(recording=work.recordings.first(), role=Role.SOLOIST, artist=ArtistFactory(slug="sol-o"))

    assert "sol-o" in page(client, url + "?sort=oldest")[1]["performer"]


def test_an_award_and_an_editors_pick_show_on_the_work_page_at_once(client, work):
    url = work.get_absolute_url()
    client.get(url)
    release = work.recordings.order_by("pk").first().release

    AwardFactory(release=release, name="Diapason d'Or", year=2020)
    body = client.get(url + "?sort=oldest").content.decode()
    assert body.count("Diapason d&#x27;Or 2020") == 1

    EditorialPickFactory(release=release)
    body = client.get(url + "?sort=price").content.decode()
    assert '<span class="badge text-bg-dark pick-badge">Editor&#x27;s choice</span>' in body


def test_a_release_with_two_recordings_of_the_work_shows_its_award_once_on_each_row(client, work):
    release = work.recordings.order_by("pk").first().release
    RecordingFactory(work=work, release=release, year=2002)
    AwardFactory(release=release, name="Edison", year=2011)

    body = client.get(work.get_absolute_url()).content.decode()

    assert body.count("Edison 2011") == 2


def test_a_recording_a_release_feed_brings_shows_in_its_works_filters_at_once(client):
    import io

    from catalog.imports import catalog_import
    from catalog.models import Work

    LabelFactory(name="Example Classics", slug="example-classics")
    ArtistFactory(name="Example Conductor", slug="example-conductor")
    fifth = Work.objects.get(composer__slug="beethoven", catalogue_numbers__system="Op", catalogue_numbers__number="67")
    url = fifth.get_absolute_url()
    count, options = page(client, url)
    assert "example-classics" not in options["label"]

    feed = (
        "label,catalog_number,barcode,release_title,release_date,format,discs,composer,work,recording_year,"
        "performers,disc,track,track_title,duration,sku,price,stock,made_to_order,lead_time_days\n"
        "Example Classics,EXC77,,Glimmerwald Fifth,2024-05-01,CD,1,Beethoven,op. 67,1988,"
        "conductor: Example Conductor,1,1,I,,EXC77-S,11.00,4,no,\n"
    )
    catalog_import(file=io.BytesIO(feed.encode()), file_name="feed.csv", dry_run=False)

    after, options = page(client, url + "?sort=oldest")
    assert after == count + 1
    assert "example-classics" in options["label"]
    assert "1988" in options["year"]
    assert "example-conductor" in options["performer"]
