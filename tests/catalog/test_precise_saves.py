"""A saved recording, credit, track, catalogue number or movement shows at once on every
page that shows it (its release's, its work's, its performers', search) and leaves the
other pages cached: the front page, the lists, other works' and releases' pages. A work's
page keeps what it shows of its recordings (its filters) across catalog-wide changes that
do not touch them, and shows a renamed label or performer at once."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog.models import CatalogueNumber, Movement, Role
from catalog.services import artists_recount, catalog_changed, offer_changed
from tests.catalog.test_admin import admin_form_as_shown
from tests.catalog.test_precise_invalidation import visit
from tests.conftest import staff_login
from tests.factories import (
    ArtistFactory,
    CreditFactory,
    OfferFactory,
    RecordingFactory,
    ReleaseFactory,
    TrackFactory,
    WorkFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    """Two releases, each with one recording of its own work conducted by its own
    conductor, and a third work with no recording yet."""
    rows = {}
    for name in ("a", "b"):
        release = ReleaseFactory(title=f"Release {name.upper()}")
        OfferFactory(release=release)
        work = WorkFactory(title=f"Work {name.upper()}")
        recording = RecordingFactory(release=release, work=work)
        conductor = ArtistFactory(name=f"Conductor {name.upper()}")
        credit = CreditFactory(recording=recording, artist=conductor, role=Role.CONDUCTOR)
        rows[name] = {"release": release, "work": work, "recording": recording, "artist": conductor, "credit": credit}
    rows["c"] = {"work": WorkFactory(title="Work C")}
    return rows


def url(row, name):
    return row[name].get_absolute_url()


def others(shop):
    """Pages that show nothing of release A, its recording or its credits."""
    b = shop["b"]
    return [
        "/",
        "/releases/",
        url(b, "release"),
        url(b, "work"),
        url(b, "artist"),
        b["release"].label.get_absolute_url(),
    ]


def test_a_recording_moved_to_another_work_leaves_the_old_work_page_and_shows_on_the_new_one(client, shop):
    a, c = shop["a"], shop["c"]
    own = [url(a, "release"), url(a, "work"), url(c, "work"), url(a, "artist"), "/search/?q=work"]
    for page in own + others(shop):
        visit(client, page)

    recording = a["recording"]
    recording.work = c["work"]
    recording.save()

    old_work, _ = visit(client, url(a, "work"))
    assert "Release A" not in old_work and "0 recordings" in old_work
    new_work, _ = visit(client, url(c, "work"))
    assert "Release A" in new_work and "1 recording" in new_work and "Conductor A" in new_work
    release, _ = visit(client, url(a, "release"))
    assert "Work C" in release and "Work A" not in release
    artist, _ = visit(client, url(a, "artist"))
    assert "Work C" in artist and "Work A" not in artist
    _, cached = visit(client, "/search/?q=work")
    assert not cached
    for page in others(shop):
        _, cached = visit(client, page)
        assert cached, page


def test_a_credit_given_to_another_performer_shows_on_every_page_of_its_recording(client, shop):
    a = shop["a"]
    newcomer = ArtistFactory(name="Newcomer Conductor")
    own = [url(a, "release"), url(a, "work"), url(a, "artist"), newcomer.get_absolute_url(), "/search/?q=release"]
    for page in own + others(shop):
        visit(client, page)

    credit = a["credit"]
    credit.artist = newcomer
    credit.save()
    artists_recount(artist_ids=[a["artist"].pk, newcomer.pk])  # as the recording's admin page does

    release, _ = visit(client, url(a, "release"))
    assert "Newcomer Conductor" in release and "Conductor A" not in release
    work, _ = visit(client, url(a, "work"))
    assert "Newcomer Conductor" in work and "Conductor A" not in work  # its rows and its performer filter
    newcomer_page, _ = visit(client, newcomer.get_absolute_url())
    assert "Release A" in newcomer_page
    old_page, _ = visit(client, url(a, "artist"))
    assert "Release A" not in old_page
    _, cached = visit(client, "/search/?q=release")
    assert not cached
    for page in others(shop):
        _, cached = visit(client, page)
        assert cached, page


def test_a_new_credit_shows_in_the_work_filters_of_its_recording_only(client, shop):
    a = shop["a"]
    soloist = ArtistFactory(name="Soloist Added")
    for page in [url(a, "work"), *others(shop)]:
        visit(client, page)

    CreditFactory(recording=a["recording"], artist=soloist, role=Role.SOLOIST)

    work, _ = visit(client, url(a, "work"))
    assert "Soloist Added" in work
    for page in others(shop):
        _, cached = visit(client, page)
        assert cached, page


def test_a_track_saved_changes_its_release_page_only(client, shop):
    a = shop["a"]
    track = TrackFactory(recording=a["recording"], title="Adagio sostenuto")
    own = [url(a, "release")]
    for page in own + [url(a, "work"), url(a, "artist"), *others(shop)]:
        visit(client, page)

    track.title = "Presto agitato"
    track.save()

    release, cached = visit(client, url(a, "release"))
    assert not cached and "Presto agitato" in release and "Adagio sostenuto" not in release
    for page in [url(a, "work"), url(a, "artist"), *others(shop)]:
        _, cached = visit(client, page)
        assert cached, page


def test_a_catalogue_number_and_movement_changed_or_deleted_show_on_their_work_page_only(client, shop):
    a = shop["a"]
    number = CatalogueNumber.objects.create(work=a["work"], system="Op", number="12")
    movement = Movement.objects.create(work=a["work"], position=1, title="Largo assai")
    for page in [url(a, "work"), url(a, "release"), *others(shop)]:
        visit(client, page)

    number.number = "13"
    number.save()
    movement.delete()

    work, cached = visit(client, url(a, "work"))
    assert not cached and "op. 13" in work and "op. 12" not in work and "Largo assai" not in work
    for page in [url(a, "release"), *others(shop)]:
        _, cached = visit(client, page)
        assert cached, page

    number.delete()
    work, _ = visit(client, url(a, "work"))
    assert "op. 13" not in work


def test_a_renamed_label_shows_at_once_in_the_work_filters(client, shop):
    a = shop["a"]
    visit(client, url(a, "work"))
    label = a["release"].label
    label.name = "Renamed Records"
    label.save()

    work, _ = visit(client, url(a, "work"))
    assert "Renamed Records" in work


def test_a_renamed_performer_shows_at_once_in_the_work_filters(client, shop):
    a = shop["a"]
    visit(client, url(a, "work"))
    conductor = a["artist"]
    conductor.sort_name = "Renamed, Conductor"
    conductor.save()

    work, _ = visit(client, url(a, "work"))
    assert "Renamed, Conductor" in work


def test_a_catalog_wide_change_re_renders_the_work_page_without_reading_its_recordings_again(client, shop):
    """A composer, work or alias saved expires every page; the work's page is rendered
    again, as cheaply as after a sale of one of its offers."""
    a = shop["a"]
    page = url(a, "work")
    visit(client, page)

    offer_changed(a["release"].offers.get())
    with CaptureQueriesContext(connection) as after_sale:
        client.get(page)
    catalog_changed()
    with CaptureQueriesContext(connection) as after_change:
        body = client.get(page).content.decode()

    assert "Release A" in body and "Conductor A" in body
    assert len(after_change.captured_queries) == len(after_sale.captured_queries)
    assert not any("DISTINCT" in q["sql"] or "COUNT(" in q["sql"] for q in after_change.captured_queries)


def test_a_composer_saved_still_shows_on_the_work_page_at_once(client, shop):
    a = shop["a"]
    visit(client, url(a, "work"))
    composer = a["work"].composer
    composer.name = "Renamedcomposer"
    composer.save()

    work, cached = visit(client, a["work"].get_absolute_url())
    assert not cached and "Renamedcomposer" in work


def test_a_recording_moved_to_another_work_in_the_admin_shows_on_both_work_pages(client, shop, django_user_model):
    a, c = shop["a"], shop["c"]
    staff = Client()
    staff_login(staff, django_user_model.objects.create_superuser(email="staff@arkiv.example", password="a-long-pass"))
    for page in [url(a, "work"), url(c, "work"), *others(shop)]:
        visit(client, page)

    change = f"/admin/catalog/recording/{a['recording'].pk}/change/"
    response = staff.post(change, admin_form_as_shown(staff, change, work=c["work"].pk))
    assert response.status_code == 302, response.content.decode()[:2000]

    old_work, _ = visit(client, url(a, "work"))
    assert "Release A" not in old_work
    new_work, _ = visit(client, url(c, "work"))
    assert "Release A" in new_work and "Conductor A" in new_work
    for page in others(shop):
        _, cached = visit(client, page)
        assert cached, page
