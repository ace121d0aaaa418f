"""What a page costs when it is not in the cache: every catalog page type makes a fixed
number of queries, the same with 3 rows as with 30 (a query per row creeping back in
fails here), long release lists never count every release, and release cards are
rendered once and then taken from the cache."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Composer, Role, Work
from tests.factories import (
    ArtistFactory,
    CreditFactory,
    LabelFactory,
    OfferFactory,
    RecordingFactory,
    ReleaseFactory,
    TrackFactory,
    WorkFactory,
)

pytestmark = pytest.mark.django_db

CARD = "catalog/includes/release_card.html"
ROW = "catalog/includes/work_recording.html"


def fresh(client, url):
    """The page rendered afresh (nothing cached): its queries and the response."""
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return [q["sql"] for q in ctx.captured_queries], response


def cost(client, url):
    return len(fresh(client, url)[0])


def full_recording(**kwargs):
    """A recording as the catalog has them: conductor, orchestra, two tracks, an offer."""
    recording = RecordingFactory(**kwargs)
    CreditFactory(recording=recording, role=Role.CONDUCTOR)
    CreditFactory(recording=recording, role=Role.ORCHESTRA)
    TrackFactory.create_batch(2, recording=recording)
    OfferFactory(release=recording.release)
    return recording


@pytest.fixture
def label():
    return LabelFactory()


def releases(label, count):
    for _ in range(count):
        full_recording(release=ReleaseFactory(label=label))


def test_home_costs_four_queries_with_3_or_30_releases(client, label):
    # Guards a label lookup per release card and the featured list scanning every release.
    releases(label, 3)
    few = cost(client, "/")
    releases(label, 27)
    ReleaseFactory.create_batch(3, featured=True)
    # The fourth reads the editors' picks (recording of the week, editor's choice).
    assert few == cost(client, "/") == 4


def test_new_releases_costs_one_query_and_never_counts_the_releases(client, label):
    # Guards a label lookup per card and the COUNT(*) over every release.
    releases(label, 3)
    few = cost(client, "/releases/")
    releases(label, 27)
    queries, response = fresh(client, "/releases/")
    assert few == len(queries) == 1
    assert not any("COUNT(" in sql.upper() for sql in queries)
    body = response.content.decode()
    assert 'rel="next"' in body and "Page 1" in body


def test_new_releases_by_format_costs_one_query(client, label):
    releases(label, 3)
    few = cost(client, "/releases/?format=cd")
    releases(label, 27)
    assert few == cost(client, "/releases/?format=cd&page=2") == 1


def test_label_page_costs_two_queries_and_never_counts_the_releases(client, label):
    # Guards a label lookup per card and the COUNT(*) over the label's releases.
    releases(label, 3)
    few = cost(client, label.get_absolute_url())
    releases(label, 27)
    queries, _ = fresh(client, label.get_absolute_url())
    assert few == len(queries) == 2
    assert not any("COUNT(" in sql.upper() for sql in queries)


def test_a_page_past_the_end_of_the_releases_is_empty_not_an_error(client, label):
    releases(label, 3)
    for page in ("2", "999999", "9" * 5000, "abc", "0", "-1"):
        response = client.get(f"/releases/?page={page}")
        assert response.status_code == 200, page
    assert "No releases here." in client.get("/releases/?page=2").content.decode()
    assert 'rel="prev"' in client.get("/releases/?page=2").content.decode()
    assert "No releases here." not in client.get("/releases/?page=abc").content.decode()


def test_work_page_costs_eight_queries_with_3_or_30_recordings(client):
    # Guards per-row credits, artists, labels and offers (each row's cheapest offer comes
    # with the row), and one query per filter list (the recordings are counted by the
    # query that lists formats, labels and years).
    work = WorkFactory()
    for _ in range(3):
        full_recording(work=work)
    few = cost(client, work.get_absolute_url())
    for _ in range(27):
        full_recording(work=work)
    many = cost(client, work.get_absolute_url())
    filtered = cost(client, work.get_absolute_url() + "?format=cd&sort=price")
    # One of the eight reads the awards and picks of the work's releases.
    assert few == many == filtered == 8


def test_release_page_costs_six_queries_with_3_or_30_recordings(client):
    # Guards per-recording work, composer, credits and tracks.
    release = ReleaseFactory()
    OfferFactory(release=release)
    for position in range(1, 4):
        full_recording(release=release, position=position)
    few = cost(client, release.get_absolute_url())
    for position in range(4, 31):
        recording = RecordingFactory(release=release, position=position)
        CreditFactory(recording=recording)
        TrackFactory(recording=recording, number=position * 10)
    # The sixth reads its awards and picks.
    assert few == cost(client, release.get_absolute_url()) == 6


def test_artist_page_costs_four_queries_with_3_or_30_recordings(client):
    # Guards per-recording work, composer, release, label and credits; the count and
    # roles are read with the performer.
    artist = ArtistFactory()
    for _ in range(3):
        CreditFactory(artist=artist, recording=full_recording())
    few = cost(client, artist.get_absolute_url())
    for _ in range(27):
        CreditFactory(artist=artist, recording=full_recording())
    assert few == cost(client, artist.get_absolute_url()) == 4


def test_composer_page_costs_three_queries_with_3_or_60_works(client):
    # Guards a composer lookup per work, a query per genre and counting the works twice.
    composer = Composer.objects.get(slug="mahler")
    Work.objects.filter(composer=composer).delete()
    WorkFactory.create_batch(3, composer=composer, genre="orchestral")
    few = cost(client, composer.get_absolute_url())
    WorkFactory.create_batch(57, composer=composer, genre="chamber")
    assert few == cost(client, composer.get_absolute_url()) == 3
    # The page count comes from the genre counts: 60 works are two pages of 50, 57 of
    # them in one genre too, 3 in the other one.
    assert "Page 1 of 2" in client.get(composer.get_absolute_url()).content.decode()
    assert "Page 1 of 2" in client.get(composer.get_absolute_url() + "?genre=chamber").content.decode()
    body = client.get(composer.get_absolute_url() + "?genre=orchestral").content.decode()
    assert body.count("Test Sonata no.") == 3 and "Page 1 of" not in body


def test_genre_page_costs_two_queries_with_3_or_30_works(client):
    # Guards a composer lookup per work.
    few = cost(client, "/genres/stage/")
    WorkFactory.create_batch(30, genre="stage", popular=True)
    assert few == cost(client, "/genres/stage/") == 2


@pytest.mark.parametrize("url", ["/composers/", "/composers/period/romantic/", "/artists/", "/labels/"])
def test_index_pages_cost_two_queries_with_3_or_30_rows(client, url):
    # Guards per-row lookups on the A-Z and index pages.
    ArtistFactory.create_batch(3)
    LabelFactory.create_batch(3)
    few = cost(client, url)
    ArtistFactory.create_batch(27)
    LabelFactory.create_batch(27)
    assert few == cost(client, url) == 2


def test_search_page_costs_the_same_with_3_or_30_matching_releases(client, label):
    # Guards a label lookup per release and a composer lookup per work in the results.
    work = Work.objects.get(composer__slug="beethoven", title__startswith="Symphony no. 9")
    for _ in range(3):
        full_recording(work=work, release=ReleaseFactory(label=label, title="Ninth Symphony Release"))
    # On PostgreSQL each process reads the table's word statistics once in a while (two
    # queries, catalog.search.STATISTICS_SECONDS), not per search: read them first.
    cost(client, "/search/?q=ninth+symphony+release")
    few = cost(client, "/search/?q=ninth+symphony")
    for _ in range(27):
        full_recording(work=work, release=ReleaseFactory(label=label, title="Ninth Symphony Release"))
    assert few == cost(client, "/search/?q=ninth+symphony") <= 5


def test_release_cards_are_rendered_once_and_then_taken_from_the_cache(client, label):
    releases(label, 5)
    first = client.get("/releases/")
    assert [t.name for t in first.templates].count(CARD) == 5
    cheaper = OfferFactory(release=ReleaseFactory(label=label), price="4.99")
    # The list is rendered afresh for the new release; the five cards it showed are reused.
    second = client.get("/releases/")
    assert [t.name for t in second.templates].count(CARD) == 1
    assert "from €4.99" in second.content.decode()
    assert second.content.decode().count("release-card") == 6
    cheaper.price = "3.99"
    cheaper.save()
    third = client.get("/releases/")
    assert [t.name for t in third.templates].count(CARD) == 1
    body = third.content.decode()
    assert "from €3.99" in body and "from €4.99" not in body


def test_a_stock_change_renders_only_that_recordings_row_of_the_work_page_again(client):
    work = WorkFactory()
    recordings = [full_recording(work=work) for _ in range(4)]
    first = client.get(work.get_absolute_url())
    assert [t.name for t in first.templates].count(ROW) == 4
    offer = recordings[1].release.offers.get()
    offer.stock = 0
    offer.save()
    second = client.get(work.get_absolute_url())
    assert [t.name for t in second.templates].count(ROW) == 1
    body = second.content.decode()
    assert body.count("Out of stock") == 1 and body.count("In stock") == 3
