"""Release covers are served like static files: a URL that names the cover's version, a
year's max-age under it, an ETag and 304 when the browser has the cover already, and no
session or cookie work."""

import pytest

from tests.factories import ReleaseFactory

pytestmark = pytest.mark.django_db


def test_a_cover_is_cached_for_a_year_under_its_versioned_url(client):
    release = ReleaseFactory(title="Brahms: Symphony no. 4")
    url = release.get_cover_url()
    assert "?v=" in url
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["ETag"]
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")


def test_a_browser_that_has_the_cover_gets_304_without_a_body(client):
    release = ReleaseFactory()
    url = release.get_cover_url()
    etag = client.get(url)["ETag"]
    response = client.get(url, headers={"if-none-match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert "max-age=31536000" in response["Cache-Control"]
    assert not response.cookies


def test_renaming_a_release_gives_its_cover_a_new_url_and_etag(client):
    release = ReleaseFactory(title="Brahms: Symphony no. 4")
    old_url = release.get_cover_url()
    old_etag = client.get(old_url)["ETag"]
    release.title = "Brahms: Symphony no. 3"
    release.save()
    new_url = release.get_cover_url()
    assert new_url != old_url
    response = client.get(new_url, headers={"if-none-match": old_etag})
    assert response.status_code == 200
    assert response["ETag"] != old_etag
    assert "Symphony no. 3" in response.content.decode()
    # The page shows the new cover.
    assert new_url in client.get(release.get_absolute_url()).content.decode()


def test_a_cover_asked_for_without_its_current_version_is_kept_only_an_hour(client):
    release = ReleaseFactory()
    bare = release.get_cover_url().split("?")[0]
    for url in (bare, bare + "?v=stale"):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Cache-Control"] == "public, max-age=3600"


def test_a_cover_of_an_unknown_release_is_404(client):
    assert (
        client.get("/releases/no-such-release/cover.svg?v=abc", headers={"if-none-match": '"abc"'}).status_code == 404
    )
