"""A work's page counts its recordings from the same grouped query that lists its
filters: the heading must say how many recordings the shopper's filters leave, and the
pages together must list exactly those."""

import datetime
import re

import pytest

from catalog.models import Format, Role
from tests.factories import ArtistFactory, CreditFactory, LabelFactory, RecordingFactory, ReleaseFactory, WorkFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def work():
    """25 recordings: CDs and SACDs on two labels, recorded in two years, some conducted
    by one conductor."""
    work = WorkFactory(title="Symphony No. 1")
    labels = [LabelFactory(name="Alpha", slug="alpha"), LabelFactory(name="Beta", slug="beta")]
    maestro = ArtistFactory(name="Maria Maestro", slug="maria-maestro")
    for day in range(1, 26):
        release = ReleaseFactory(
            title=f"Day {day:02d}",
            label=labels[day % 2],
            format=Format.SACD if day % 5 == 0 else Format.CD,
            release_date=datetime.date(2010, 1, day),
        )
        recording = RecordingFactory(work=work, release=release, year=1990 + day % 3)
        CreditFactory(recording=recording, role=Role.CONDUCTOR, artist=maestro if day % 4 == 0 else ArtistFactory())
    return work


def shown(client, url):
    body = client.get(url).content.decode()
    heading = re.search(r"<h2[^>]*>\s*(\d+) recordings?", body).group(1)
    return int(heading), re.findall(r'class="fw-semibold" href="/releases/[^"]+/">(Day \d+)</a>', body)


@pytest.mark.parametrize(
    "query, days",
    [
        ("", list(range(1, 26))),
        ("format=sacd", [5, 10, 15, 20, 25]),
        ("label=alpha", [d for d in range(1, 26) if d % 2 == 0]),
        ("year=1990", [d for d in range(1, 26) if d % 3 == 0]),
        ("label=beta&format=cd&year=1992", [d for d in range(1, 26) if d % 2 == 1 and d % 5 and d % 3 == 2]),
        ("performer=maria-maestro", [4, 8, 12, 16, 20, 24]),
        ("label=nobody", []),
    ],
)
def test_the_heading_counts_the_recordings_the_filters_leave_and_the_pages_list_them(client, work, query, days):
    url = work.get_absolute_url() + "?" + query

    count, first = shown(client, url)
    _, second = shown(client, url + "&page=2")

    assert count == len(days)
    listed = first + (second if len(days) > 20 else [])
    assert sorted(listed) == [f"Day {d:02d}" for d in days]
    assert listed == sorted(listed, reverse=True)  # newest first


def test_the_recordings_are_counted_with_the_filter_choices_not_by_a_count_of_their_own(client, work):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(work.get_absolute_url() + "?format=cd")

    assert not [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT COUNT(*)")]
