"""A performer's page walks their credits by copies of the release dates and shows a
count kept on the performer: whatever writes credits or release dates (the admin, a
feed, undoing a feed, deleting a release, the demo loader) keeps both right, so the page
shows what the catalog holds."""

import datetime
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog.imports import import_undo
from catalog.models import Artist, Credit, Label, Role
from tests.catalog.test_admin import admin_form_as_shown
from tests.catalog.test_import import example, example_catalog, run  # noqa: F401 (a fixture)
from tests.conftest import staff_login
from tests.factories import ArtistFactory, CreditFactory, RecordingFactory, ReleaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(django_user_model):
    """Staff in the admin, in a browser of their own beside the visitor's."""
    user = django_user_model.objects.create_superuser(email="staff@arkiv.example", password="a-long-passphrase")
    staff = Client()
    staff_login(staff, user)
    return staff


def page(client, artist, query=""):
    response = client.get(artist.get_absolute_url() + query)
    assert response.status_code == 200
    body = response.content.decode()
    heading = re.search(r'<h2 class="h4">\s*([^<]*?)\s*</h2>', body).group(1)
    return heading, re.findall(r'href="/releases/([^"/]+)/"', body)


def conducted(artist, *years):
    """A recording conducted by artist on a release of each year, oldest first."""
    releases = []
    for year in years:
        release = ReleaseFactory(release_date=datetime.date(year, 6, 1), slug=f"released-{year}")
        CreditFactory(artist=artist, recording=RecordingFactory(release=release), role=Role.CONDUCTOR)
        releases.append(release)
    return releases


def test_a_release_redated_in_the_admin_moves_on_its_performers_page(client, staff_client):
    artist = ArtistFactory()
    oldest, _, _ = conducted(artist, 2001, 2002, 2003)
    assert page(client, artist)[1] == ["released-2003", "released-2002", "released-2001"]
    url = f"/admin/catalog/release/{oldest.pk}/change/"

    response = staff_client.post(url, admin_form_as_shown(staff_client, url, release_date="2010-01-31"))

    assert response.status_code == 302, response.content.decode()[:3000]
    assert page(client, artist)[1] == ["released-2001", "released-2003", "released-2002"]
    assert page(client, artist, "?role=conductor")[1] == ["released-2001", "released-2003", "released-2002"]


def test_a_credit_added_and_removed_in_the_admin_is_counted_and_listed(client, staff_client):
    artist = ArtistFactory(name="Clara Example")
    conducted(artist, 2001)
    recording = RecordingFactory(release=ReleaseFactory(release_date=datetime.date(2005, 1, 1), slug="solo"))
    assert page(client, artist) == ("1 recording", ["released-2001"])
    url = f"/admin/catalog/recording/{recording.pk}/change/"
    added = {
        "credits-TOTAL_FORMS": "1",
        "credits-0-position": "1",
        "credits-0-artist": str(artist.pk),
        "credits-0-role": Role.SOLOIST,
        "credits-0-instrument": "piano",
    }

    response = staff_client.post(url, admin_form_as_shown(staff_client, url, **added))

    assert response.status_code == 302, response.content.decode()[:3000]
    assert page(client, artist) == ("2 recordings", ["solo", "released-2001"])
    assert page(client, artist, "?role=soloist") == ("1 recording", ["solo"])
    credit = Credit.objects.get(recording=recording)
    removed = {"credits-0-id": str(credit.pk), "credits-0-DELETE": "on"}

    response = staff_client.post(url, admin_form_as_shown(staff_client, url, **removed))

    assert response.status_code == 302, response.content.decode()[:3000]
    assert page(client, artist) == ("1 recording", ["released-2001"])
    assert page(client, artist, "?role=soloist")[0] == "0 recordings"


def test_a_release_deleted_in_the_admin_leaves_its_performers_count(client, staff_client):
    artist = ArtistFactory()
    _, newest = conducted(artist, 2001, 2002)
    assert page(client, artist)[0] == "2 recordings"

    response = staff_client.post(f"/admin/catalog/release/{newest.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert page(client, artist) == ("1 recording", ["released-2001"])


def test_an_import_crediting_a_performer_counts_and_lists_it_and_undoing_it_takes_it_back(
    client,
    example_catalog,  # noqa: F811
):
    conductor = Artist.objects.get(name="Example Conductor")
    conducted(conductor, 2001)
    assert page(client, conductor)[0] == "1 recording"

    report = run(example("release_feed.csv"))

    assert report.counts == {"created": 2}
    heading, releases = page(client, conductor)
    assert heading == "3 recordings"  # Beethoven's Fifth and Dvořák's Ninth on one release
    assert releases[-1] == "released-2001" and len(releases) == 3
    assert page(client, Artist.objects.get(name="Example Cellist"), "?role=soloist")[0] == "2 recordings"

    import_undo(run=report.run)

    assert page(client, conductor) == ("1 recording", ["released-2001"])
    assert page(client, Artist.objects.get(name="Example Cellist"))[0] == "0 recordings"


def test_a_performer_credited_twice_on_a_recording_is_counted_once_in_all_roles_and_once_in_each(client):
    artist = ArtistFactory()
    recording = RecordingFactory(release=ReleaseFactory(slug="from-the-keyboard"))
    CreditFactory(artist=artist, recording=recording, role=Role.CONDUCTOR)
    CreditFactory(artist=artist, recording=recording, role=Role.SOLOIST, instrument="piano")

    assert page(client, artist) == ("1 recording", ["from-the-keyboard"])
    assert page(client, artist, "?role=conductor") == ("1 recording", ["from-the-keyboard"])
    assert page(client, artist, "?role=soloist") == ("1 recording", ["from-the-keyboard"])


def test_the_demo_catalog_counts_every_performers_recordings_and_dates_every_credit():
    call_command("load_demo_catalog", releases=120)

    counted = dict(
        Credit.objects.values("artist").annotate(n=Count("recording", distinct=True)).values_list("artist", "n")
    )
    artists = Artist.objects.filter(pk__in=counted)
    assert artists.exists()
    assert {a.pk: a.recording_count for a in artists} == counted
    mismatched = [c for c in Credit.objects.select_related("recording") if c.release_date != c.recording.release_date]
    assert mismatched == []


def test_deleting_a_release_counts_each_of_its_performers_again_once(client):
    """A release of ten recordings by one conductor and orchestra: deleting it counts the
    two performers' recordings again once each, not once per credit (at a million
    releases a busy performer's count reads 80,000 index entries)."""
    conductor, orchestra = ArtistFactory(), ArtistFactory()
    conducted(conductor, 2001)
    release = ReleaseFactory()
    for position in range(1, 11):
        recording = RecordingFactory(release=release, position=position)
        CreditFactory(artist=conductor, recording=recording, role=Role.CONDUCTOR)
        CreditFactory(artist=orchestra, recording=recording, role=Role.ORCHESTRA)
    with CaptureQueriesContext(connection) as deleting:
        release.delete()

    counts = [
        q["sql"] for q in deleting.captured_queries if 'COUNT(DISTINCT "catalog_credit"."recording_id")' in q["sql"]
    ]
    assert len(counts) == 2 * 2  # in all roles and in each, for each performer
    assert page(client, conductor) == ("1 recording", ["released-2001"])
    assert page(client, orchestra)[0] == "0 recordings"


def test_a_feed_replacing_a_releases_performers_moves_the_count_from_one_to_the_other(
    client,
    example_catalog,  # noqa: F811
):
    old_conductor = ArtistFactory(slug="old-conductor")
    release = ReleaseFactory(label=Label.objects.get(name="Example Classics"), catalog_number="EXC2401")
    CreditFactory(artist=old_conductor, recording=RecordingFactory(release=release), role=Role.CONDUCTOR)
    assert page(client, old_conductor)[0] == "1 recording"

    report = run(example("release_feed.csv"))

    assert report.counts == {"changed": 1, "created": 1}
    assert page(client, old_conductor) == ("0 recordings", [])
    assert page(client, Artist.objects.get(name="Example Conductor"), "?role=conductor")[0] == "2 recordings"
