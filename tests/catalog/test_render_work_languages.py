"""A page's links to itself in the other language (the language switch and the hreflang
links) are built from the URL the request already resolved, with each URL name reversed
once per language: they must be exactly the links Django's translate_url gives for the
page's own address, query and all."""

import re

import pytest
from django.urls import translate_url

from tests.factories import OfferFactory, RecordingFactory

pytestmark = pytest.mark.django_db

ALTERNATE = re.compile(r'<link rel="alternate" hreflang="([^"]+)" href="https://shop\.example([^"]*)">')
SWITCH = re.compile(r'<a href="([^"]*)" hreflang="([^"]+)" lang="[^"]+" id="language-switch">')


@pytest.fixture
def recording():
    recording = RecordingFactory()
    OfferFactory(release=recording.release)
    return recording


def addresses(recording):
    work = recording.work.get_absolute_url()
    return [
        "/",
        "/de/",
        work,
        work + "?sort=oldest&format=cd&page=2",
        "/de" + work + "?sort=price",
        recording.release.get_absolute_url(),
        recording.work.composer.get_absolute_url() + "?genre=orchestral",
        "/composers/period/baroque/",
        "/search/?q=beethoven+9",
        "/de/search/?q=%C3%BCber",
    ]


def test_each_page_links_its_versions_as_translate_url_gives_them(client, settings, recording):
    settings.ARKIV_SITE_URL = "https://shop.example"
    for address in addresses(recording):
        response = client.get(address)
        assert response.status_code == 200, address
        body = response.content.decode()

        expected = {code: translate_url(address, code) for code, _ in settings.LANGUAGES}
        alternates = {code: url.replace("&amp;", "&") for code, url in ALTERNATE.findall(body)}
        assert alternates.pop("x-default") == expected[settings.LANGUAGES[0][0]], address
        assert alternates == expected, address
        switch = {code: url.replace("&amp;", "&") for url, code in SWITCH.findall(body)}
        current = "de" if address.startswith("/de/") else settings.LANGUAGES[0][0]
        assert switch == {code: url for code, url in expected.items() if code != current}, address


def test_a_page_without_a_german_copy_links_no_language_versions(admin_client):
    body = admin_client.get("/admin/").content.decode()

    assert not ALTERNATE.search(body)
