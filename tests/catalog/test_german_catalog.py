"""The catalog in German under /de/: every page reads in German (headings, buttons,
filters, availability, badges, counts, dates and prices), work titles are written as
a German catalogue writes them and found again by German search, the sitemap and link
previews name both languages, and the English and German copies of a cached page live
side by side and go stale together."""

import datetime
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from catalog.models import Artist, EditorialPick, Genre, Role, Work
from catalog.openopus import read_data
from catalog.search import search_catalog
from catalog.services import work_refresh_search_text
from catalog.templatetags.catalog_tags import money
from catalog.text import fold, from_german, german_title, parse_title
from tests.factories import (
    ArtistFactory,
    AwardFactory,
    ComposerFactory,
    CreditFactory,
    EditorialPickFactory,
    OfferFactory,
    RecordingFactory,
    ReleaseFactory,
    TrackFactory,
    WorkFactory,
    make_recordings,
)

pytestmark = pytest.mark.django_db

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"


NBSP = "\u00a0"  # between amount and currency sign, as German typesetting keeps them together


def url_of(obj):
    """The English address of obj, whatever language an earlier request left active."""
    with translation.override("en-gb"):
        return obj.get_absolute_url()


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, url
    return response.content.decode()


def visit(client, url):
    """The page and whether it came from the shared cache (no catalog query)."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode(), not any("catalog_" in q["sql"] for q in ctx.captured_queries)


def fresh_cost(client, url):
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


@pytest.fixture
def symphony():
    return Work.objects.select_related("composer").get(composer__slug="beethoven", title__startswith="Symphony no. 9")


# Work titles


@pytest.mark.parametrize(
    ("english", "german"),
    [
        ('Symphony no. 9 in D minor, op. 125, "Choral"', "Sinfonie Nr. 9 d-Moll op. 125 „Choral“"),
        ("Piano Concerto no. 2 in C minor, op. 18", "Klavierkonzert Nr. 2 c-Moll op. 18"),
        ("String Quartet in E-flat major", "Streichquartett Es-Dur"),
        ("Mass in B minor, BWV.232", "Messe h-Moll BWV 232"),
        ("Violin Concerto in B flat major, RV 583", "Violinkonzert B-Dur RV 583"),
        ("Piano Sonata no. 14 in C sharp minor, op. 27 no. 2", "Klaviersonate Nr. 14 cis-Moll op. 27 Nr. 2"),
        ("Waltz in A flat major, op. 34, no. 1", "Walzer As-Dur op. 34 Nr. 1"),
        ("Prelude and Fugue in G flat major", "Präludium und Fuge Ges-Dur"),
        ("Keyboard Sonata in E flat minor, Hob.XVI:24", "Klaviersonate es-Moll Hob. XVI:24"),
        ("String Quartet no. 4 in D", "Streichquartett Nr. 4 in D"),
        ("Overture in F sharp minor", "Ouvertüre fis-Moll"),
        # Nicknames German catalogues give in German; the others stay.
        (
            'Piano Sonata no. 14 in C sharp minor, op. 27 no. 2, "Moonlight"',
            "Klaviersonate Nr. 14 cis-Moll op. 27 Nr. 2 „Mondscheinsonate“",
        ),
        (
            'Symphony no. 9 in E minor, op. 95, "From the New World"',
            "Sinfonie Nr. 9 e-Moll op. 95 „Aus der Neuen Welt“",
        ),
        ('Piano Quintet in A major, D.667, "Trout"', "Klavierquintett A-Dur D 667 „Forellenquintett“"),
        ('Symphony no. 94 in G major, Hob.I:94, "Surprise"', "Sinfonie Nr. 94 G-Dur Hob. I:94 „Mit dem Paukenschlag“"),
        ('Symphony no. 3 in E flat major, op. 55, "Eroica"', "Sinfonie Nr. 3 Es-Dur op. 55 „Eroica“"),
    ],
)
def test_work_titles_are_written_as_a_german_catalogue_writes_them(english, german):
    assert german_title(english) == german


@pytest.mark.parametrize(
    "title",
    [
        "Komm, Jesu, komm",  # already German
        "Concerto for 2 Violins in D minor, BWV.1043",  # a form the shop has no German for
        "Adagio in A major, for piano",  # words after the key that are not a number
        "5 Songs, for voice and piano",
        "Mazurka de salon in E flat major, op. 95",
    ],
)
def test_titles_the_translator_cannot_read_stay_as_they_are(title):
    assert german_title(title) == title


def test_koechel_numbers_are_kv_in_mozart_and_kirkpatricks_stay_k():
    mozart = Work.objects.select_related("composer").get(composer__slug="mozart", title__startswith="Symphony no. 40")
    scarlatti = WorkFactory(composer=ComposerFactory(slug="scarlatti-test"), title="Sonata in D minor, K.9, L.413")

    assert mozart.display_title("de") == "Sinfonie Nr. 40 g-Moll KV 550"
    assert scarlatti.display_title("de") == "Sonate d-Moll K. 9 L 413"
    assert mozart.display_title("en-gb") == mozart.title


def test_every_open_opus_title_the_translator_rewrites_is_all_german_and_reads_back_to_its_key_and_number():
    """All ~25,000 Open Opus titles: a rewritten title keeps no English title words, and
    search's reading of German (from_german) gives back the English key and number."""
    titles = [work["title"] for composer in read_data()["composers"] for work in composer["works"]]
    rewritten = [(title, german_title(title)) for title in titles if german_title(title) != title]
    english_words = re.compile(r"\b(?:major|minor|no\.|flat|sharp)\b")
    wrong = []
    for title, german in rewritten:
        parts, english = parse_title(title), from_german(german) or fold(german)
        number_lost = parts.number and f"no {fold(parts.number)}" not in english
        # "in H" (B without major or minor) is the one key German search does not read.
        key_lost = parts.key and parts.key != "B" and fold(parts.key) not in english
        if english_words.search(german.split("„")[0]) or number_lost or key_lost:
            wrong.append((title, german, english))

    assert len(titles) > 24_000 and len(rewritten) > 4_000
    assert wrong == []


def test_every_german_title_written_from_open_opus_finds_its_work_in_german_search():
    """The corpus: each loaded Open Opus work whose title the translator rewrites, typed
    on /de/ as a German collector would (composer and German title), finds that work."""
    works = [w for w in Work.objects.select_related("composer").order_by("pk") if w.display_title("de") != w.title]
    missed = []
    for work in works:
        query = f"{work.composer.name} {work.display_title('de')}"
        if work.pk not in [found.pk for found in search_catalog(query).works[:3]]:
            missed.append(query)

    assert len(works) >= 400
    # Two titles are known misses: Haydn's "Keyboard Concerto" reads as "Klavierkonzert",
    # which search takes for a piano concerto, and a catalogue number Smetana's JB has
    # no query form for. A translator or search change that loses more fails here.
    assert len(missed) <= len(works) // 100, missed


def test_german_search_page_finds_a_work_by_its_german_title_and_shows_it_in_german(client, symphony):
    make_recordings(symphony, 2)
    Work.objects.filter(pk=symphony.pk).update(recording_count=2)

    body = page(client, "/de/search/?q=Beethoven+Sinfonie+Nr.+9+d-Moll+op.+125")

    works = body[body.index('id="work-results"') :]
    assert "Beethoven: Sinfonie Nr. 9 d-Moll op. 125 „Choral“" in works
    assert "2 Aufnahmen" in works
    assert ">Werke</h2>" in body


def test_a_german_title_set_by_staff_is_shown_on_german_pages_and_found_by_search(client):
    work = WorkFactory(title='Symphony no. 8 in B minor, D.759, "Unfinished"', genre=Genre.ORCHESTRAL)
    make_recordings(work, 1)
    work.title_de = "Sinfonie Nr. 7 h-Moll D 759 „Die Unvollendete“"
    work.save()
    work_refresh_search_text(work=work)

    german = page(client, "/de" + url_of(work))
    english = page(client, url_of(work))

    assert "<h1>Sinfonie Nr. 7 h-Moll D 759 „Die Unvollendete“</h1>" in german
    assert "<h1>Symphony no. 8 in B minor, D.759, &quot;Unfinished&quot;</h1>" in english
    assert work in search_catalog("Die Unvollendete").works


# Pages in German


def test_german_work_page_reads_in_german(client, symphony):
    make_recordings(symphony, 2)

    body = page(client, "/de" + url_of(symphony))

    assert "<h1>Sinfonie Nr. 9 d-Moll op. 125 „Choral“</h1>" in body
    assert "<title>Beethoven: Sinfonie Nr. 9 d-Moll op. 125 „Choral“ ·" in body
    assert ">Tonart</dt>" in body and ">d-Moll</dd>" in body
    assert ">Orchestermusik</a>" in body
    assert ">Werkverzeichnis</dt>" in body and ">Sätze</dt>" in body
    assert "2 Aufnahmen</h2>" in body
    for text in ["Neueste zuerst", "Preis: aufsteigend", "Empfohlen (Auszeichnungen und Empfehlungen zuerst)"]:
        assert text in body
    assert ">Anwenden</button>" in body
    assert "Auf Lager" in body and "(Dirigent)" in body
    assert "In stock" not in body and "Newest first" not in body


def test_german_release_page_reads_in_german_with_german_prices_dates_and_badges(client):
    release = ReleaseFactory(release_date=datetime.date(2024, 3, 5), discs=2)
    OfferFactory(release=release, price=Decimal("1234.50"), stock=2)
    OfferFactory(release=release, price=Decimal("19.00"), made_to_order=True, lead_time_days=3, stock=0)
    recording = RecordingFactory(release=release, year=1962)
    CreditFactory(recording=recording, role=Role.SOLOIST, instrument="piano")
    TrackFactory(recording=recording)
    EditorialPickFactory(
        release=release,
        kind=EditorialPick.Kind.RECORDING_OF_THE_WEEK,
        ends_on=datetime.date.today() + datetime.timedelta(days=3),
    )
    EditorialPickFactory(release=release, kind=EditorialPick.Kind.EDITORS_CHOICE)
    AwardFactory(release=release, name="Diapason d'Or", year=2024)

    body = page(client, "/de" + url_of(release))

    assert "Nur noch 2 auf Lager" in body
    assert "Auf Bestellung (CD, für Sie gefertigt)" in body
    assert "Versand in etwa 3 Werktagen" in body
    assert f"1.234,50{NBSP}€" in body and f"19,00{NBSP}€" in body
    assert "5. März 2024" in body
    assert "CD, 2 Discs" in body
    assert "In den Warenkorb" in body and "Auf die Merkliste" in body
    assert "Aufnahme der Woche" in body and "Empfehlung der Redaktion" in body
    assert "Diapason d&#x27;Or 2024" in body
    assert "(Klavier)" in body and "aufgenommen 1962" in body
    assert ">Titelliste</h2>" in body


def test_english_release_page_keeps_english_prices_and_dates(client):
    release = ReleaseFactory(release_date=datetime.date(2024, 3, 5))
    OfferFactory(release=release, price=Decimal("1234.50"), stock=2)

    body = page(client, url_of(release))

    assert "€1,234.50" in body and "5 March 2024" in body and "Only 2 left" in body


def test_money_follows_the_page_language_and_currency():
    with translation.override("de"):
        assert money(Decimal("12.50"), "GBP") == f"12,50{NBSP}£"
        assert money(Decimal("1234.50"), "EUR") == f"1.234,50{NBSP}€"
    with translation.override("en-gb"):
        assert money(Decimal("12.50"), "GBP") == "£12.50"
        assert money(Decimal("1234.50"), "EUR") == "€1,234.50"


def test_period_and_genre_names_are_german_in_the_navigation_and_their_pages(client):
    home = page(client, "/de/")

    for name in ["Barock", "Klassik", "Frühromantik", "20. Jahrhundert", "Orchestermusik", "Kammermusik", "Konzerte"]:
        assert f">{name}</a>" in home
    assert "Jede Aufnahme der Musik, die Sie lieben" in home
    assert "<h1>Komponisten: Barock</h1>" in page(client, "/de/composers/period/baroque/")
    assert "<h1>Kammermusik</h1>" in page(client, "/de/genres/chamber/")


def test_composer_page_in_german_lists_works_by_german_genre_with_german_titles(client, symphony):
    make_recordings(symphony, 1)
    Work.objects.filter(pk=symphony.pk).update(recording_count=1)

    body = page(client, "/de/composers/beethoven/")

    assert ">Alle Werke</a>" in body
    assert '<h2 class="h4 mt-4">Orchestermusik</h2>' in body
    assert ">Sinfonie Nr. 9 d-Moll op. 125 „Choral“</a>" in body
    assert "1 Aufnahme</span>" in body
    assert "1770–1827 · Frühromantik" in body


def test_performer_pages_in_german(client, symphony):
    pianist = ArtistFactory(name="Clara Test", instrument="piano")
    recording = make_recordings(symphony, 1)[0]
    CreditFactory(recording=recording, artist=pianist, role=Role.SOLOIST, instrument="piano")

    detail = page(client, "/de" + url_of(pianist))
    listing = page(client, "/de/artists/?kind=person")

    assert ">Als Solist</a>" in detail and ">Alle Rollen</a>" in detail
    assert '<p class="text-muted">Klavier</p>' in detail
    assert "1 Aufnahme</h2>" in detail
    assert "Sinfonie Nr. 9 d-Moll" in detail
    assert "Dirigenten &amp; Solisten" in listing and "<h1>Interpreten</h1>" in listing
    assert Artist.objects.filter(kind="person").exists()


def test_new_releases_and_label_pages_in_german_with_pagination(client):
    release = ReleaseFactory()
    for _ in range(30):
        OfferFactory(release=ReleaseFactory(label=release.label))

    releases = page(client, "/de/releases/")
    label = page(client, "/de" + url_of(release.label))

    assert "<h1>Neuheiten</h1>" in releases and ">Alle Formate</a>" in releases
    assert f"ab 12,99{NBSP}€" in releases
    assert ">Weiter</a>" in releases and ">Seite 1</span>" in releases
    assert ">Zurück</a>" in page(client, "/de/releases/?page=2")
    assert ">Labels</a>" in label and ">Alle Formate</a>" in label


def test_german_search_without_results_and_with_a_suggestion(client):
    nothing = page(client, "/de/search/?q=qqqzzzxxx")
    suggestion = page(client, "/de/search/?q=bethoven")
    empty = page(client, "/de/search/?q=")

    assert "Zu „qqqzzzxxx“ haben wir im Katalog nichts gefunden." in nothing
    assert 'Ergebnisse für <a href="?q=beethoven"><strong>beethoven</strong></a> werden angezeigt.' in suggestion
    assert "Geben Sie einen Komponisten ein" in empty


def test_error_pages_are_in_the_language_of_the_address(client):
    german_404 = page(client, "/de/no-such-page/", status=404)
    english_404 = page(client, "/no-such-page/", status=404)
    german_400 = page(client, "/de/search/?q=%00", status=400)

    assert "Diese Seite haben wir nicht gefunden" in german_404
    assert '<a href="/de/">Zurück zur Startseite</a>' in german_404
    assert "We could not find that page" in english_404
    assert "Nullzeichen (%00)" in german_400 and "Wir konnten diese Anfrage nicht lesen" in german_400


def test_the_server_error_page_is_in_the_language_of_the_address(rf):
    from django.views.defaults import server_error

    with translation.override("de"):
        body = server_error(rf.get("/de/")).content.decode()

    assert '<html lang="de">' in body
    assert "Bei uns ist etwas schiefgegangen" in body and 'href="/de/"' in body


def test_the_rate_limit_page_is_in_the_language_of_the_address(rf):
    from arkiv.limits import rate_limited

    with translation.override("de"):
        body = rate_limited(rf.get("/de/")).content.decode()

    assert "Zu viele Versuche" in body and "Sie haben dieses Formular zu oft gesendet." in body


# Crawlers and link previews


def test_the_sitemap_lists_each_page_in_both_languages_naming_every_version(client, settings, symphony):
    settings.ARKIV_SITE_URL = "https://records.example"
    make_recordings(symphony, 1)

    root = ET.fromstring(client.get("/sitemap-works.xml").content)
    entries = {
        url.findtext(f"{SM}loc"): {link.get("hreflang"): link.get("href") for link in url.iter(f"{XHTML}link")}
        for url in root.iter(f"{SM}url")
    }

    english = "https://records.example" + url_of(symphony)
    german = "https://records.example/de" + url_of(symphony)
    both = {"en-gb": english, "de": german, "x-default": english}
    assert entries[english] == both and entries[german] == both
    pages = ET.fromstring(client.get("/sitemap-pages.xml").content)
    locations = {url.findtext(f"{SM}loc") for url in pages.iter(f"{SM}url")}
    assert {
        "https://records.example/",
        "https://records.example/de/",
        "https://records.example/de/genres/chamber/",
    } <= (locations)


def test_link_previews_name_the_page_language_and_the_other(client, symphony):
    make_recordings(symphony, 1)

    german = page(client, "/de" + url_of(symphony))
    english = page(client, url_of(symphony))

    assert '<meta property="og:locale" content="de_DE">' in german
    assert '<meta property="og:locale:alternate" content="en_GB">' in german
    assert '<meta property="og:title" content="Beethoven: Sinfonie Nr. 9 d-Moll op. 125 „Choral“">' in german
    assert '<meta property="og:locale" content="en_GB">' in english
    assert '<meta property="og:locale:alternate" content="de_DE">' in english


# The page cache


def test_english_and_german_copies_of_a_page_are_cached_side_by_side_and_a_price_change_stales_both(client):
    offer = OfferFactory(price=Decimal("12.99"), stock=10)
    RecordingFactory(release=offer.release)
    english_url = url_of(offer.release)
    german_url = "/de" + english_url
    visit(client, english_url)
    visit(client, german_url)

    english, english_cached = visit(client, english_url)
    german, german_cached = visit(client, german_url)
    assert english_cached and german_cached
    assert "€12.99" in english and "Add to cart" in english
    assert f"12,99{NBSP}€" in german and "In den Warenkorb" in german

    offer.price = Decimal("7.49")
    offer.save()

    english, english_cached = visit(client, english_url)
    german, german_cached = visit(client, german_url)
    assert not english_cached and "€7.49" in english
    assert not german_cached and f"7,49{NBSP}€" in german


def test_a_stock_change_stales_the_german_work_page_too(client, symphony):
    recording = make_recordings(symphony, 1)[0]
    offer = recording.release.offers.get()
    url = "/de" + url_of(symphony)
    visit(client, url)
    assert visit(client, url)[1]

    offer.stock = 0
    offer.save()

    body, cached = visit(client, url)
    assert not cached and "Nicht auf Lager" in body


def test_german_work_page_costs_the_same_queries_as_the_english_one(client):
    # The same eight as the English page (test_miss_cost): German titles, genre names
    # and prices are written in Python, never read per row.
    work = WorkFactory(title="Piano Concerto no. 2 in C minor, op. 18")
    make_recordings(work, 3)
    english = fresh_cost(client, url_of(work))
    few = fresh_cost(client, "/de" + url_of(work))
    make_recordings(work, 27)
    many = fresh_cost(client, "/de" + url_of(work))

    assert english == few == many == 8


@pytest.mark.parametrize("kind", ["composer", "genre", "artist", "release", "search"])
def test_german_list_and_detail_pages_cost_what_the_english_ones_do(client, symphony, kind):
    # German work titles need each row's composer (Köchel numbers are Mozart's only):
    # the selectors load it with the row, so no page gains a query per work.
    recordings = make_recordings(symphony, 3)
    conductor = recordings[0].credits.get(role=Role.CONDUCTOR).artist
    url = {
        "composer": url_of(symphony.composer),
        "genre": "/genres/orchestral/",
        "artist": url_of(conductor),
        "release": url_of(recordings[0].release),
        "search": "/search/?q=beethoven+9",
    }[kind]

    assert fresh_cost(client, "/de" + url) == fresh_cost(client, url)
