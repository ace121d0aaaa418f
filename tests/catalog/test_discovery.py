"""What brings people to the shop from elsewhere: the sitemap and robots.txt that crawlers
read, Atom feeds of new releases, and link previews (OpenGraph, Twitter cards) with a
canonical link on composer, work and release pages. Every URL they carry is absolute
on the shop's public address (ARKIV_SITE_URL), whatever host the request came in on."""

import datetime
import re
import urllib.robotparser
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Work
from catalog.sitemaps import ReleaseSitemap
from tests.factories import (
    ArtistFactory,
    ComposerFactory,
    LabelFactory,
    RecordingFactory,
    ReleaseFactory,
    WorkFactory,
    make_recordings,
)

pytestmark = pytest.mark.django_db

SITE = "https://records.example"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.ARKIV_SITE_URL = SITE


@pytest.fixture
def symphony():
    return Work.objects.select_related("composer").get(composer__slug="beethoven", title__startswith="Symphony no. 9")


def xml_of(response):
    assert response.status_code == 200
    return ET.fromstring(response.content)


def sitemap_urls(client, path):
    """{loc: lastmod} of one sitemap page."""
    root = xml_of(client.get(path))
    return {u.findtext(f"{SM}loc"): u.findtext(f"{SM}lastmod") for u in root.iter(f"{SM}url")}


def index_locations(client):
    return [s.findtext(f"{SM}loc") for s in xml_of(client.get("/sitemap.xml")).iter(f"{SM}sitemap")]


# Sitemap


def test_sitemap_index_names_each_section_on_the_public_address(client):
    locations = index_locations(client)
    assert locations == [
        f"{SITE}/sitemap-{section}.xml" for section in ["pages", "composers", "works", "releases", "artists", "labels"]
    ]


def test_sitemap_lists_releases_with_their_date_and_recorded_works_only(client, symphony):
    release = make_recordings(symphony, 1)[0].release
    unrecorded = WorkFactory(composer=symphony.composer, title="Unfinished Sketch", slug="unfinished-sketch")

    releases = sitemap_urls(client, "/sitemap-releases.xml")
    works = sitemap_urls(client, "/sitemap-works.xml")

    assert releases[SITE + release.get_absolute_url()] == release.release_date.isoformat()
    assert SITE + symphony.get_absolute_url() in works
    assert SITE + unrecorded.get_absolute_url() not in works


def test_sitemap_lists_composers_artists_labels_and_fixed_pages(client):
    artist, label = ArtistFactory(), LabelFactory()
    assert f"{SITE}/composers/beethoven/" in sitemap_urls(client, "/sitemap-composers.xml")
    assert SITE + artist.get_absolute_url() in sitemap_urls(client, "/sitemap-artists.xml")
    assert SITE + label.get_absolute_url() in sitemap_urls(client, "/sitemap-labels.xml")
    pages = sitemap_urls(client, "/sitemap-pages.xml")
    assert {f"{SITE}/", f"{SITE}/composers/", f"{SITE}/genres/orchestral/", f"{SITE}/privacy/"} <= set(pages)
    assert not any(re.search(r"/(cart|checkout|account|orders|admin|search)/", url) for url in pages)


def test_sitemap_sections_are_paginated(client, monkeypatch):
    monkeypatch.setattr(ReleaseSitemap, "limit", 2)
    releases = ReleaseFactory.create_batch(5)

    locations = index_locations(client)
    assert [loc for loc in locations if "releases" in loc] == [
        f"{SITE}/sitemap-releases.xml",
        f"{SITE}/sitemap-releases.xml?p=2",
        f"{SITE}/sitemap-releases.xml?p=3",
    ]
    listed = {}
    for page in (1, 2, 3):
        listed.update(sitemap_urls(client, f"/sitemap-releases.xml?p={page}"))
    # Each release in English and German; a page of the section holds both of a row.
    assert set(listed) == {SITE + prefix + r.get_absolute_url() for r in releases for prefix in ("", "/de")}
    assert client.get("/sitemap-releases.xml?p=4").status_code == 404
    assert client.get("/sitemap-releases.xml?p=last").status_code == 404


def test_unknown_sitemap_section_is_404(client):
    assert client.get("/sitemap-orders.xml").status_code == 404


@pytest.mark.parametrize("section", ["releases", "works", "composers", "artists", "labels"])
def test_sitemap_section_queries_do_not_grow_with_rows(client, section):
    # Guards a query per row (a work's composer for its URL, a deferred column).
    def fresh_count():
        from django.core.cache import cache

        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/sitemap-{section}.xml").status_code == 200
        return len(ctx.captured_queries)

    RecordingFactory(work=WorkFactory(composer=ComposerFactory()), release=ReleaseFactory(label=LabelFactory()))
    ArtistFactory()
    few = fresh_count()
    for _ in range(25):
        RecordingFactory(work=WorkFactory(composer=ComposerFactory()), release=ReleaseFactory(label=LabelFactory()))
        ArtistFactory()
    assert fresh_count() == few <= 2


def test_sitemap_index_queries_are_fixed(client):
    # Guards the default latest-lastmod that reads every release's date.
    ReleaseFactory.create_batch(3)
    with CaptureQueriesContext(connection) as ctx:
        client.get("/sitemap.xml")
    assert len(ctx.captured_queries) <= 7


def test_sitemap_is_served_from_the_page_cache_until_the_catalog_changes(client):
    ReleaseFactory()
    client.get("/sitemap-releases.xml")
    with CaptureQueriesContext(connection) as ctx:
        client.get("/sitemap-releases.xml")
    assert len(ctx.captured_queries) == 0

    added = ReleaseFactory()
    assert SITE + added.get_absolute_url() in sitemap_urls(client, "/sitemap-releases.xml")


# robots.txt


def robots(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    parser = urllib.robotparser.RobotFileParser()
    parser.parse(response.content.decode().splitlines())
    return parser


@pytest.mark.parametrize(
    "path",
    [
        "/checkout/",
        "/cart/",
        "/cart/add/",
        "/account/",
        "/account/orders/",
        "/orders/AK-123/",
        "/admin/",
        "/search/?q=bach",
    ],
)
def test_robots_txt_keeps_crawlers_out_of_personal_and_endless_pages(client, path):
    assert not robots(client).can_fetch("*", SITE + path)


@pytest.mark.parametrize("path", ["/", "/composers/beethoven/", "/releases/", "/search/"])
def test_robots_txt_lets_crawlers_read_the_catalog(client, path):
    assert robots(client).can_fetch("*", SITE + path)


def test_robots_txt_names_the_sitemap(client):
    assert robots(client).site_maps() == [f"{SITE}/sitemap.xml"]


# Atom feeds


def entries(response):
    assert response["Content-Type"].startswith("application/atom+xml")
    root = xml_of(response)
    assert root.tag == f"{ATOM}feed" and root.findtext(f"{ATOM}updated")
    return [
        {
            "title": e.findtext(f"{ATOM}title"),
            "link": e.find(f"{ATOM}link").get("href"),
            "updated": e.findtext(f"{ATOM}updated"),
            "summary": e.findtext(f"{ATOM}summary"),
        }
        for e in root.iter(f"{ATOM}entry")
    ]


def test_new_releases_feed_parses_and_lists_the_newest_first(client):
    older = ReleaseFactory(title="Older Release", release_date=datetime.date(2024, 3, 1))
    newest = ReleaseFactory(title="Newest & Best", release_date=datetime.date(2025, 6, 1), catalog_number="NB 1")
    ReleaseFactory(title="Middle Release", release_date=datetime.date(2024, 9, 1))

    found = entries(client.get("/releases/new.atom"))

    assert [e["title"] for e in found] == ["Newest & Best", "Middle Release", "Older Release"]
    assert found[0]["link"] == SITE + newest.get_absolute_url()
    assert found[0]["updated"].startswith("2025-06-01")
    assert "NB 1" in found[0]["summary"] and "1 June 2025" in found[0]["summary"]
    assert found[2]["link"] == SITE + older.get_absolute_url()


def test_composer_feed_lists_only_that_composers_releases(client, symphony):
    beethoven = make_recordings(symphony, 1)[0].release
    other = RecordingFactory(work=WorkFactory(composer=ComposerFactory())).release

    found = entries(client.get("/composers/beethoven/new-releases.atom"))

    assert [e["link"] for e in found] == [SITE + beethoven.get_absolute_url()]
    assert SITE + other.get_absolute_url() not in str(found)


def test_feed_of_unknown_composer_is_404(client):
    assert client.get("/composers/nobody-at-all/new-releases.atom").status_code == 404


class _Head(HTMLParser):
    """The <link> and <meta> tags of a page."""

    def __init__(self):
        super().__init__()
        self.links, self.meta = [], {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link":
            self.links.append(attrs)
        elif tag == "meta" and ("property" in attrs or "name" in attrs):
            self.meta[attrs.get("property") or attrs["name"]] = attrs.get("content")


def head_of(response):
    assert response.status_code == 200
    parser = _Head()
    parser.feed(response.content.decode())
    return parser


@pytest.mark.parametrize("url", ["/", "/releases/"])
def test_home_and_new_releases_link_the_feed(client, url):
    feeds = [link for link in head_of(client.get(url)).links if link.get("type") == "application/atom+xml"]
    assert [link["rel"] for link in feeds] == ["alternate"]
    assert entries(client.get(feeds[0]["href"])) == []


def test_composer_page_links_its_feed(client):
    links = head_of(client.get("/composers/beethoven/")).links
    feeds = [link for link in links if link.get("rel") == "alternate" and link.get("type") == "application/atom+xml"]
    assert [feed["href"] for feed in feeds] == ["/composers/beethoven/new-releases.atom"]


# Link previews


def test_release_page_has_open_graph_and_twitter_tags_with_absolute_urls(client):
    release = ReleaseFactory(title="Mahler: Symphony no. 2", catalog_number="MH 2")
    head = head_of(client.get(release.get_absolute_url(), HTTP_HOST="localhost"))
    assert head.meta["og:title"] == "Mahler: Symphony no. 2"
    assert head.meta["og:type"] == "music.album"
    assert head.meta["og:url"] == SITE + release.get_absolute_url()
    assert head.meta["og:image"] == SITE + release.get_cover_url()
    assert "MH 2" in head.meta["og:description"]
    assert head.meta["twitter:card"] == "summary_large_image"
    assert head.meta["twitter:image"] == SITE + release.get_cover_url()
    assert {"rel": "canonical", "href": SITE + release.get_absolute_url()} in head.links


def test_work_page_previews_with_its_first_cover_and_a_canonical_link_without_filters(client, symphony):
    release = make_recordings(symphony, 1)[0].release
    head = head_of(client.get(symphony.get_absolute_url() + "?sort=oldest&format=cd"))
    assert head.meta["og:url"] == SITE + symphony.get_absolute_url()
    assert head.meta["og:title"].startswith("Beethoven: Symphony no. 9")
    assert head.meta["og:image"] == SITE + release.get_cover_url()
    assert head.meta["og:description"]
    assert {"rel": "canonical", "href": SITE + symphony.get_absolute_url()} in head.links


def test_composer_page_previews_as_a_profile(client):
    head = head_of(client.get("/composers/beethoven/"))
    assert head.meta["og:type"] == "profile"
    assert head.meta["og:url"] == f"{SITE}/composers/beethoven/"
    assert "Beethoven" in head.meta["og:title"] and head.meta["twitter:title"] == head.meta["og:title"]
    assert {"rel": "canonical", "href": f"{SITE}/composers/beethoven/"} in head.links


def test_link_previews_carry_nothing_of_the_signed_in_visitor(client, django_user_model):
    release = ReleaseFactory()
    user = django_user_model.objects.create_user(email="listener@example.com", password="a-long-passphrase")
    user.first_name = "Clara"
    user.save()
    client.force_login(user)
    head = head_of(client.get(release.get_absolute_url()))
    shared = " ".join(str(v) for v in head.meta.values())
    assert "listener" not in shared and "Clara" not in shared
    client.logout()
    assert head_of(client.get(release.get_absolute_url())).meta == head.meta
