"""A performer's page at catalog scale: the count, the roles and each page of their
recordings come from the credit indexes, and must show what reading every recording
showed: the same recordings, newest first, each once, page after page."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Role
from tests.factories import ArtistFactory, CreditFactory, RecordingFactory, ReleaseFactory

pytestmark = pytest.mark.django_db


def titles_on(client, url):
    body = client.get(url).content.decode()
    return re.findall(r'<a href="/releases/[^"]+/">([^<]+)</a>', body), body


def recording_on(artist, day, role=Role.CONDUCTOR, **credit):
    release = ReleaseFactory(title=f"Release of day {day:02d}", release_date=datetime.date(2001, 1, day))
    return CreditFactory(artist=artist, role=role, recording=RecordingFactory(release=release), **credit).recording


def test_a_performer_credited_twice_on_a_recording_counts_and_lists_it_once(client):
    artist = ArtistFactory(name="Daniel Director")
    both = recording_on(artist, 2, role=Role.CONDUCTOR)
    CreditFactory(artist=artist, role=Role.SOLOIST, instrument="piano", recording=both)
    recording_on(artist, 1)

    titles, body = titles_on(client, artist.get_absolute_url())

    assert "2 recordings" in body
    assert titles == ["Release of day 02", "Release of day 01"]


def test_the_performer_pages_show_every_recording_once_newest_first(client):
    artist = ArtistFactory()
    for day in range(1, 26):
        recording_on(artist, day)
    CreditFactory(role=Role.CONDUCTOR)  # someone else's recording

    first, body = titles_on(client, artist.get_absolute_url())
    second, _ = titles_on(client, artist.get_absolute_url() + "?page=2")

    assert "25 recordings" in body
    assert first + second == [f"Release of day {day:02d}" for day in range(25, 0, -1)]


def test_a_role_shows_and_counts_only_the_recordings_in_that_role(client):
    artist = ArtistFactory()
    recording_on(artist, 3, role=Role.SOLOIST, instrument="violin")
    recording_on(artist, 2)
    recording_on(artist, 1, role=Role.SOLOIST, instrument="violin")

    titles, body = titles_on(client, artist.get_absolute_url() + "?role=soloist")

    assert "2 recordings" in body
    assert titles == ["Release of day 03", "Release of day 01"]
    assert 'href="?role=conductor"' in body and 'href="?role=soloist"' in body
    assert 'href="?role=choir"' not in body


def test_a_performer_page_reads_no_more_rows_with_more_roles_or_recordings(client):
    artist = ArtistFactory()
    recording_on(artist, 1)
    with CaptureQueriesContext(connection) as few:
        client.get(artist.get_absolute_url())
    for day in range(2, 12):
        recording_on(artist, day, role=[Role.SOLOIST, Role.ENSEMBLE, Role.CONDUCTOR][day % 3])
    with CaptureQueriesContext(connection) as many:
        client.get(artist.get_absolute_url())

    assert len(many.captured_queries) == len(few.captured_queries)
