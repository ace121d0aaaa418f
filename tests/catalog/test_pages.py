"""Catalog pages as a shopper sees them, with the number of queries each page makes:
a list page's queries must not grow with its rows (each test names the N+1 it guards)."""

import json
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import Artist, Composer, Format, Role, Work
from tests.factories import (
    ArtistFactory,
    CreditFactory,
    LabelFactory,
    OfferFactory,
    RecordingFactory,
    ReleaseFactory,
    TrackFactory,
    WorkFactory,
    make_recordings,
)

pytestmark = pytest.mark.django_db


def queries_for(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries), response


def jsonld_of(response):
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', response.content.decode(), re.S)
    assert match, "page has no JSON-LD"
    return json.loads(match.group(1))


@pytest.fixture
def symphony():
    return Work.objects.select_related("composer").get(composer__slug="beethoven", title__startswith="Symphony no. 9")


def test_home_shows_new_releases_and_popular_composers(client):
    release = ReleaseFactory(title="Brand New Beethoven")
    response = client.get("/")
    assert response.status_code == 200
    assert "Brand New Beethoven" in response.content.decode()
    assert reverse("catalog:composer", kwargs={"slug": "beethoven"}) in response.content.decode()
    assert release.get_cover_url() in response.content.decode()


def test_home_queries_do_not_grow_with_releases(client):
    # Guards label lookups per release card.
    ReleaseFactory.create_batch(2)
    few, _ = queries_for(client, "/")
    ReleaseFactory.create_batch(12)
    many, _ = queries_for(client, "/")
    assert few == many <= 4


def test_composers_a_to_z_lists_real_composers_by_letter(client):
    response = client.get("/composers/?letter=B")
    body = response.content.decode()
    assert "Beethoven, Ludwig van" in body and "Brahms" in body
    assert "Mozart" not in body


def test_composers_by_period(client):
    body = client.get(reverse("catalog:period", args=["baroque"])).content.decode()
    assert "Baroque composers" in body and "Vivaldi" in body and "Brahms" not in body


def test_unknown_period_is_404(client):
    assert client.get("/composers/period/futurism/").status_code == 404


def test_composer_page_groups_works_by_genre_with_jsonld(client):
    response = client.get("/composers/beethoven/")
    body = response.content.decode()
    assert "Ludwig van Beethoven" in body
    assert "Orchestral" in body and "Keyboard" in body
    assert "Symphony no. 9 in D minor" in body
    data = jsonld_of(response)
    assert data["@type"] == "Person" and data["name"] == "Ludwig van Beethoven" and data["birthDate"] == "1770"


def test_composer_page_filters_by_genre(client):
    body = client.get("/composers/beethoven/?genre=keyboard").content.decode()
    assert "Moonlight" in body and "Symphony no. 9" not in body


def test_composer_page_queries_fixed(client):
    # Guards a works-per-genre query and a composer lookup per work.
    composer = Composer.objects.get(slug="mahler")
    few, _ = queries_for(client, composer.get_absolute_url())
    WorkFactory.create_batch(30, composer=composer)
    many, _ = queries_for(client, composer.get_absolute_url())
    assert few == many <= 5


def test_work_page_lists_every_recording_with_performers_and_prices(client, symphony):
    recordings = make_recordings(symphony, 3)
    conductor = recordings[0].credits.get(role=Role.CONDUCTOR).artist
    response = client.get(symphony.get_absolute_url())
    body = response.content.decode()
    assert "3 recordings" in body
    assert conductor.name in body
    assert recordings[2].release.title in body
    assert "€12.99" in body
    assert "op. 125" in body
    data = jsonld_of(response)
    assert data["@type"] == "MusicComposition" and data["composer"]["name"] == "Ludwig van Beethoven"


def test_work_page_queries_do_not_grow_with_recordings(client, symphony):
    # Guards per-row credits, artists, labels and offers.
    make_recordings(symphony, 2)
    few, _ = queries_for(client, symphony.get_absolute_url())
    make_recordings(symphony, 15)
    many, _ = queries_for(client, symphony.get_absolute_url())
    assert few == many <= 12


def test_work_page_filters_by_format_label_performer_and_year(client, symphony):
    RecordingFactory(work=symphony, release=ReleaseFactory(format=Format.LP, title="Vinyl Ninth"), year=1962)
    cd = RecordingFactory(work=symphony, release=ReleaseFactory(format=Format.CD, title="Digital Ninth"), year=2010)
    maestro = ArtistFactory(name="Ingrid Maestro", slug="ingrid-maestro")
    CreditFactory(recording=cd, artist=maestro)
    url = symphony.get_absolute_url()

    def titles(query):
        body = client.get(url + query).content.decode()
        return {t for t in ("Vinyl Ninth", "Digital Ninth") if t in body}

    assert titles("?format=lp") == {"Vinyl Ninth"}
    assert titles(f"?label={cd.release.label.slug}") == {"Digital Ninth"}
    assert titles("?performer=ingrid-maestro") == {"Digital Ninth"}
    assert titles("?year=1962") == {"Vinyl Ninth"}


def test_work_page_sorts_by_price(client, symphony):
    from decimal import Decimal

    cheap = RecordingFactory(work=symphony, release=ReleaseFactory(title="Cheap Ninth", min_price=Decimal("5.99")))
    dear = RecordingFactory(work=symphony, release=ReleaseFactory(title="Dear Ninth", min_price=Decimal("49.99")))
    body = client.get(symphony.get_absolute_url() + "?sort=price").content.decode()
    assert body.index(cheap.release.title) < body.index(dear.release.title)
    body = client.get(symphony.get_absolute_url() + "?sort=-price").content.decode()
    assert body.index(dear.release.title) < body.index(cheap.release.title)


@pytest.mark.parametrize(
    "query",
    [
        "?format=cassette",
        "?year=abc",
        "?year=99999",
        "?sort=random",
        "?performer=<script>",
        "?page=0",
        "?page=-1",
        "?page=999999999999",
        "?page=abc",
        "?page=" + "9" * 5000,
    ],
)
def test_work_page_survives_odd_parameters(client, symphony, query):
    # A NUL anywhere is refused before any view with a 400 (tests/test_bad_bytes.py).
    make_recordings(symphony, 2)
    response = client.get(symphony.get_absolute_url() + query)
    assert response.status_code == 200
    assert "recording" in response.content.decode()


def test_release_page_shows_tracks_credits_format_price_and_availability(client):
    recording = RecordingFactory(release=ReleaseFactory(format=Format.SACD, barcode="2000000000015", discs=2))
    CreditFactory(recording=recording, role=Role.SOLOIST, instrument="cello", artist=ArtistFactory(name="Clara Cello"))
    TrackFactory(recording=recording, number=1, title="Prélude", duration_seconds=125)
    OfferFactory(release=recording.release, stock=2)
    OfferFactory(release=recording.release, stock=0, made_to_order=True, lead_time_days=5)
    response = client.get(recording.release.get_absolute_url())
    body = response.content.decode()
    for text in (
        "SACD",
        "2 discs",
        "2000000000015",
        "Clara Cello",
        "(cello)",
        "Prélude",
        "2:05",
        "Only 2 left",
        "Ships in about 5 working days",
        "Add to cart",
    ):
        assert text in body, text
    data = jsonld_of(response)
    assert data["@type"] == "MusicAlbum" and data["gtin13"] == "2000000000015"
    assert {o["availability"] for o in data["offers"]} == {
        "https://schema.org/InStock",
        "https://schema.org/MadeToOrder",
    }


def test_release_page_queries_do_not_grow_with_tracks(client):
    # Guards per-recording credits and per-track queries.
    release = ReleaseFactory()
    first = RecordingFactory(release=release, position=1)
    TrackFactory(recording=first, number=1)
    few, _ = queries_for(client, release.get_absolute_url())
    for position in range(2, 6):
        recording = RecordingFactory(release=release, position=position)
        CreditFactory(recording=recording)
        TrackFactory(recording=recording, number=position * 10)
    many, _ = queries_for(client, release.get_absolute_url())
    assert few == many <= 6


def test_release_cover_is_generated_svg_with_title(client):
    release = ReleaseFactory(title="Brahms: Symphony no. 4 <live>")
    response = client.get(release.get_cover_url())
    assert response["Content-Type"] == "image/svg+xml"
    body = response.content.decode()
    assert "Symphony no. 4 &lt;live&gt;" in body and "<live>" not in body


def test_artist_page_lists_recordings_by_role(client, symphony):
    artist = ArtistFactory(name="Lars Baton")
    conducted = CreditFactory(artist=artist, role=Role.CONDUCTOR, recording=RecordingFactory(work=symphony))
    played = CreditFactory(artist=artist, role=Role.SOLOIST, instrument="piano")
    body = client.get(artist.get_absolute_url()).content.decode()
    assert "2 recordings" in body and "As conductor" in body and "As soloist" in body
    body = client.get(artist.get_absolute_url() + "?role=conductor").content.decode()
    assert conducted.recording.release.title in body and played.recording.release.title not in body


def test_artist_page_queries_fixed(client):
    # Guards per-recording work, composer, release and credits lookups.
    artist = ArtistFactory()
    CreditFactory.create_batch(2, artist=artist)
    few, _ = queries_for(client, artist.get_absolute_url())
    CreditFactory.create_batch(15, artist=artist)
    many, _ = queries_for(client, artist.get_absolute_url())
    assert few == many <= 6


def test_artist_list_filters_by_kind(client):
    ArtistFactory(name="Zelda Soloist", sort_name="Soloist, Zelda")
    ArtistFactory(name="Zeta Orchestra", sort_name="Zeta Orchestra", kind=Artist.Kind.GROUP)
    body = client.get("/artists/?kind=group&letter=Z").content.decode()
    assert "Zeta Orchestra" in body and "Zelda" not in body


def test_label_page_and_release_list_queries_fixed(client):
    # Guards a label lookup per release card.
    label = LabelFactory()
    ReleaseFactory.create_batch(2, label=label)
    few_label, _ = queries_for(client, label.get_absolute_url())
    few_new, _ = queries_for(client, "/releases/")
    ReleaseFactory.create_batch(20, label=label)
    many_label, response = queries_for(client, label.get_absolute_url())
    many_new, _ = queries_for(client, "/releases/")
    assert few_label == many_label <= 4 and few_new == many_new <= 3
    assert "Page 1 of 1" not in response.content.decode()  # 22 releases fit one page of 24


def test_genre_page_lists_works_with_composers_in_fixed_queries(client):
    # Guards a composer lookup per work.
    few, response = queries_for(client, "/genres/keyboard/")
    assert "Moonlight" in response.content.decode()
    WorkFactory.create_batch(10, genre="keyboard", popular=True)
    many, _ = queries_for(client, "/genres/keyboard/")
    assert few == many <= 3


def test_search_page_shows_each_kind_of_result(client, symphony):
    make_recordings(symphony, 1)
    body = client.get("/search/?q=beethoven+9").content.decode()
    assert 'id="composer-results"' in body and "Ludwig van Beethoven" in body
    assert 'id="work-results"' in body and "Symphony no. 9 in D minor" in body
    assert 'id="release-results"' in body


def test_search_page_says_did_you_mean(client):
    body = client.get("/search/?q=bethoven").content.decode()
    assert 'id="did-you-mean"' in body and "beethoven" in body


def test_search_queries_are_bounded(client):
    few, _ = queries_for(client, "/search/?q=beethoven")
    many, _ = queries_for(client, "/search/?q=schostakowitsch+symphony+5")
    assert few <= 8 and many <= 10


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "a" * 5000,
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "BWV",
        "op.",
        "9" * 400,
        "%F0%9F%8E%BB",
        "Чайковский",
        "バッハ",
        "\\",
        "%25",
        "k" * 199 + " 550",
    ],
)
def test_search_survives_odd_queries(client, query):
    # A NUL anywhere is refused before any view with a 400 (tests/test_bad_bytes.py).
    response = client.get("/search/?q=" + query)
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/composers/nobody/",
        "/composers/beethoven/no-such-work/",
        "/releases/no-such-release/",
        "/releases/no-such-release/cover.svg",
        "/artists/nobody/",
        "/labels/nobody/",
        "/genres/polka/",
    ],
)
def test_unknown_slugs_get_friendly_404(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


def test_catalog_pages_refuse_post(client):
    assert client.post("/composers/").status_code == 405


def test_footer_links_policy_terms_and_contact_on_every_page(client):
    for url in ["/", "/composers/", "/search/?q=bach", "/privacy/", "/terms/", "/contact/"]:
        body = client.get(url).content.decode()
        for name in ("privacy:policy", "privacy:terms", "privacy:contact"):
            assert f'href="{reverse(name)}"' in body, (url, name)


def test_pages_load_no_third_party_resources(client, symphony):
    make_recordings(symphony, 1)
    for url in ["/", symphony.get_absolute_url(), "/search/?q=bach"]:
        body = client.get(url).content.decode()
        # Absolute links to the shop itself (the canonical link) are not third parties.
        links = re.findall(r'(?:src|href)="(https?://[^"]+)"', body)
        external = [link for link in links if not link.startswith(settings.ARKIV_SITE_URL.rstrip("/") + "/")]
        assert external == [], (url, external)


@pytest.mark.parametrize(
    "url", ["/composers/", "/composers/?letter=S", "/composers/period/romantic/", "/artists/", "/labels/"]
)
def test_index_pages_queries_do_not_grow_with_rows(client, url):
    # Guards per-row lookups on the A-Z and index pages.
    ArtistFactory(sort_name="Smith")
    LabelFactory()
    few, _ = queries_for(client, url)
    ArtistFactory.create_batch(10, sort_name="Smith")
    LabelFactory.create_batch(10)
    many, _ = queries_for(client, url)
    assert few == many <= 3
