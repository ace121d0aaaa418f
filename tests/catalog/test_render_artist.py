"""A performer's page lists their recordings newest first, twenty a page, walked from
their credits' copies of the release dates."""

import datetime
import re

import pytest

from catalog.models import Role
from tests.factories import ArtistFactory, CreditFactory, RecordingFactory, ReleaseFactory

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
URLS = ["", "?page=2", "?page=3", "?role=conductor", "?role=soloist", "?role=conductor&page=2"]


@pytest.fixture
def artist():
    """A conductor on 45 recordings, some released the same day, some where they also
    play the solo part, and recordings by others in between."""
    artist = ArtistFactory()
    start = datetime.date(2001, 1, 1)
    for n in range(45):
        release = ReleaseFactory(release_date=start + datetime.timedelta(days=(n * 37) % 400 // 30))
        recording = RecordingFactory(release=release)
        CreditFactory(artist=artist, recording=recording, role=Role.CONDUCTOR)
        if n % 4 == 0:
            CreditFactory(artist=artist, recording=recording, role=Role.SOLOIST, instrument="piano")
        CreditFactory(recording=RecordingFactory(release=ReleaseFactory(release_date=release.release_date)))
    return artist


def pages(client, artist):
    bodies = {}
    for query in URLS:
        response = client.get(artist.get_absolute_url() + query)
        assert response.status_code == 200, query
        bodies[query] = CSRF.sub("", response.content.decode())
    return bodies


def shown_releases(body):
    return re.findall(r'href="(/releases/[^"/]+/)"', body)


def test_a_performers_page_lists_each_recording_once_newest_first(client, artist):
    listed = []
    for query in ("", "?page=2", "?page=3"):
        listed += shown_releases(client.get(artist.get_absolute_url() + query).content.decode())
    recordings = artist.credits.values_list("recording__release__slug", "recording__release_date", "recording_id")
    newest_first = sorted(set(recordings), key=lambda row: (row[1], row[2]), reverse=True)
    assert listed == [f"/releases/{slug}/" for slug, _, _ in newest_first]
