"""Catalog feeds: staff (admin) and scheduled jobs (import_catalog) import releases,
tracks, credits and offers, or prices and stock, from suppliers' CSV and XLSX files.
Composers, works and performers are matched, never duplicated; bad rows are rejected
with their reason and nothing of their release is written; a file can be previewed,
applied, applied again without effect, and the last import undone exactly."""

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook, load_workbook

from catalog.imports import _release_snapshot, catalog_import, import_undo
from catalog.models import Artist, Composer, ImportRun, Label, Offer, Release, Work
from tests.factories import (
    ArtistFactory,
    CreditFactory,
    LabelFactory,
    OfferFactory,
    RecordingFactory,
    ReleaseFactory,
    TrackFactory,
)

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[2] / "catalog" / "import_examples"
HEADER = (
    "label,catalog_number,barcode,release_title,release_date,format,discs,composer,work,recording_year,"
    "performers,disc,track,track_title,duration,sku,price,stock,made_to_order,lead_time_days\n"
)


@pytest.fixture
def example_catalog():
    """The label and performers the example files name (the composers and works are
    the real ones every test database has)."""
    LabelFactory(name="Example Classics", slug="example-classics")
    ArtistFactory(name="Example Conductor", slug="example-conductor")
    ArtistFactory(name="Example Symphony Orchestra", slug="example-symphony-orchestra", kind=Artist.Kind.GROUP)
    ArtistFactory(name="Example Cellist", slug="example-cellist")


def run(text, *, dry_run=False, name="feed.csv"):
    data = text.encode() if isinstance(text, str) else text
    return catalog_import(file=io.BytesIO(data), file_name=name, dry_run=dry_run)


def example(name):
    return (EXAMPLES / name).read_bytes()


def reasons(report):
    return " | ".join(r for o in report.outcomes.get("rejected", []) for r in o.reasons)


def test_a_release_feed_creates_releases_with_their_tracks_credits_and_offers(example_catalog):
    composers, works = Composer.objects.count(), Work.objects.count()

    report = run(example("release_feed.csv"))

    assert report.counts == {"created": 2}, reasons(report)
    release = Release.objects.get(catalog_number="EXC2401")
    beethoven5 = Work.objects.get(composer__slug="beethoven", title="Symphony no. 5 in C minor, op. 67")
    dvorak9 = release.recordings.get(position=2).work
    assert (dvorak9.composer.slug, dvorak9.number) == ("dvorak", "9")
    assert release.recordings.get(position=1).work == beethoven5
    assert [t.title for t in release.tracks.all()] == [
        "Symphony No. 5: I. Allegro con brio",
        "Symphony No. 5: II. Andante con moto",
        "Symphony No. 9: I. Adagio – Allegro molto",
    ]
    assert release.tracks.first().duration_seconds == 7 * 60 + 21
    assert {(c.artist.name, c.role) for c in release.recordings.get(position=1).credits.all()} == {
        ("Example Conductor", "conductor"),
        ("Example Symphony Orchestra", "orchestra"),
    }
    assert {(o.sku, o.price, o.stock, o.made_to_order) for o in release.offers.all()} == {
        ("EXC2401-STK", Decimal("14.99"), 25, False),
        ("EXC2401-MTO", Decimal("16.99"), 0, True),
    }
    assert release.min_price == Decimal("14.99")
    assert Work.objects.get(pk=beethoven5.pk).recording_count == 1
    bach = Release.objects.get(catalog_number="EXC2402")
    assert [r.work.catalogue_numbers.first().number for r in bach.recordings.all()] == ["1007", "1010"]
    # Matched, never duplicated.
    assert (Composer.objects.count(), Work.objects.count()) == (composers, works)


def test_composers_are_matched_by_any_name_variant_and_works_by_catalogue_number(example_catalog):
    feed = HEADER + (
        "Example Classics,EXC1,,Pathétique,2020-01-01,SACD,1,Tschaikowsky,op. 74,,,1,1,Adagio,,EXC1-S,19.00,3,no,\n"
        'Example Classics,EXC2,,Eroica,2020-01-01,cd,1,"Beethoven, Ludwig van",Symphony No. 3 in E flat major,'
        ",,1,1,Allegro,,EXC2-S,9.50,3,no,\n"
    )

    report = run(feed)

    assert report.counts == {"created": 2}, reasons(report)
    pathetique = Release.objects.get(catalog_number="EXC1").recordings.get().work
    assert (pathetique.composer.slug, pathetique.nickname) == ("tchaikovsky", "Pathétique")
    assert Release.objects.get(catalog_number="EXC1").format == "sacd"
    eroica = Release.objects.get(catalog_number="EXC2").recordings.get().work
    assert "op. 55" in eroica.title


def test_unknown_composers_works_and_performers_are_listed_and_their_releases_rejected(example_catalog):
    feed = HEADER + (
        "Example Classics,EXC1,,One,2020-01-01,CD,1,Nobodyknowsky,Symphony no. 1,,,1,1,I,,EXC1-S,9.00,1,no,\n"
        "Example Classics,EXC2,,Two,2020-01-01,CD,1,Beethoven,Symphony no. 99,,,1,1,I,,EXC2-S,9.00,1,no,\n"
        "Example Classics,EXC3,,Three,2020-01-01,CD,1,Beethoven,op. 67,,conductor: Ann Unknown,1,1,I,,EXC3-S,9,1,no,\n"
        "Unknown Records,UR1,,Four,2020-01-01,CD,1,Beethoven,op. 67,,,1,1,I,,UR1-S,9.00,1,no,\n"
        "Example Classics,EXC5,,Five,2020-01-01,CD,1,Beethoven,op. 67,,conductor: Example Conductor,1,1,I,,EXC5-S,9,1,"
        "no,\n"
    )
    artists = Artist.objects.count()

    report = run(feed)

    assert report.counts == {"rejected": 4, "created": 1}
    assert report.unmatched == {
        "composer": {"Nobodyknowsky": 2},
        "work": {"Ludwig van Beethoven: Symphony no. 99": 3},
        "performer": {"Ann Unknown": 4},
        "label": {"Unknown Records": 5},
    }
    assert "performer \u201cAnn Unknown\u201d is not in the catalog" in reasons(report)
    assert list(Release.objects.filter(catalog_number__in=["EXC1", "EXC2", "EXC3", "UR1"])) == []
    assert Artist.objects.count() == artists
    assert Release.objects.filter(catalog_number="EXC5").exists()


def test_a_bad_row_rejects_its_whole_release_with_the_reason_and_nothing_of_it_is_written(example_catalog):
    feed = HEADER + (
        "Example Classics,EXC1,,Good,2020-01-01,CD,1,Beethoven,op. 67,,,1,1,I,7:00,EXC1-S,9.00,1,no,\n"
        "Example Classics,EXC2,,Bad,2020-01-01,CD,1,Beethoven,op. 67,,,1,1,I,7:00,EXC2-S,9.00,1,no,\n"
        "Example Classics,EXC2,,Bad,2020-01-01,CD,1,Beethoven,op. 67,,,1,2,II,seven,,,,,\n"
        "Example Classics,EXC3,,Bad price,2020-01-01,CD,1,Beethoven,op. 67,,,1,1,I,,EXC3-S,-4,1,no,\n"
        "Example Classics,EXC4,,Bad date,31/02/2020,LP,1,Beethoven,op. 67,,,1,1,I,,EXC4-S,9,1,no,\n"
        "Example Classics,EXC5,,Bad mto,2020-01-01,CD,1,Beethoven,op. 67,,,1,1,I,,EXC5-S,9,0,yes,\n"
        "Example Classics,EXC6,,Twice,2020-01-01,CD,1,Beethoven,op. 67,,,1,1,I,,EXC6-S,9,1,no,\n"
        "Example Classics,EXC6,,Twice,2020-01-01,CD,1,Beethoven,op. 67,,,1,1,I again,,,,,,\n"
        "Example Classics,EXC7,,Format,2020-01-01,Cassette,1,Beethoven,op. 67,,,1,1,I,,EXC7-S,9,1,no,\n"
    )

    report = run(feed)

    assert report.counts == {"created": 1, "rejected": 6}
    text = reasons(report)
    assert "line 4: duration \u201cseven\u201d is not a time" in text
    assert "line 5: price -4 must be above 0" in text
    assert "line 6: release_date \u201c31/02/2020\u201d is not a date" in text
    assert "line 7: a made-to-order offer needs lead_time_days above 0" in text
    assert "line 9: track 1 of disc 1 appears twice" in text
    assert "line 10: format \u201cCassette\u201d is not one of CD, SACD, Blu-ray, DVD, LP" in text
    assert list(Release.objects.filter(label__name="Example Classics").values_list("catalog_number", flat=True)) == [
        "EXC1"
    ]
    assert not Offer.objects.filter(sku__in=["EXC2-S", "EXC3-S", "EXC5-S", "EXC6-S"]).exists()


def test_a_dry_run_lists_what_would_be_created_and_rejected_and_writes_nothing(example_catalog):
    feed = example("release_feed.csv").decode() + (
        "Example Classics,EXC9,,Bad,2020-01-01,CD,1,Beethoven,op. 67,,,1,1,I,,EXC9-S,free,1,no,\n"
    )

    report = run(feed, dry_run=True)

    assert report.counts == {"created": 2, "rejected": 1}
    assert [o.name for o in report.outcomes["created"]] == ["Example Classics EXC2401", "Example Classics EXC2402"]
    assert report.outcomes["rejected"][0].reasons == ["line 7: price \u201cfree\u201d is not an amount"]
    assert not Release.objects.filter(label__name="Example Classics").exists()
    assert not ImportRun.objects.exists()


def test_importing_the_same_file_twice_changes_nothing_the_second_time(example_catalog):
    run(example("release_feed.csv"))
    before = [_release_snapshot(r) for r in Release.objects.filter(label__name="Example Classics")]

    with CaptureQueriesContext(connection) as ctx:
        again = run(example("release_feed.csv"))

    assert again.counts == {"unchanged": 2}
    assert [_release_snapshot(r) for r in Release.objects.filter(label__name="Example Classics")] == before
    writes = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]
    assert [w for w in writes if "catalog_importrun" not in w] == []
    assert again.run.changes.count() == 0


def test_a_price_and_stock_feed_changes_only_the_offers_it_names(example_catalog):
    run(example("release_feed.csv"))

    report = run(example("price_stock_feed.csv"))

    assert report.counts == {"changed": 3}
    offers = {o.sku: o for o in Offer.objects.filter(sku__startswith="EXC")}
    assert (offers["EXC2401-STK"].price, offers["EXC2401-STK"].stock) == (Decimal("13.99"), 18)
    assert (offers["EXC2402-STK"].price, offers["EXC2402-STK"].stock) == (Decimal("12.99"), 0)
    assert offers["EXC2401-MTO"].lead_time_days == 7
    assert Release.objects.get(catalog_number="EXC2401").min_price == Decimal("13.99")
    assert run(example("price_stock_feed.csv")).counts == {"unchanged": 3}


def test_a_price_feed_naming_an_unknown_sku_rejects_that_row_only():
    offer = OfferFactory(sku="KNOWN-1", price=Decimal("10.00"))

    report = run("sku;price\nKNOWN-1;11,50\nNOPE-1;9.00\n")

    assert report.counts == {"changed": 1, "rejected": 1}
    assert "no offer has SKU NOPE-1" in reasons(report)
    offer.refresh_from_db()
    assert offer.price == Decimal("11.50")


def test_undo_puts_back_exactly_what_the_last_import_changed_and_removes_what_it_created(example_catalog):
    conductor = Artist.objects.get(name="Example Conductor")
    release = ReleaseFactory(label=Label.objects.get(name="Example Classics"), catalog_number="EXC2401", title="Old")
    work = Work.objects.get(composer__slug="beethoven", title="Symphony no. 5 in C minor, op. 67")
    recording = RecordingFactory(release=release, work=work, year=1980)
    CreditFactory(recording=recording, artist=conductor, role="conductor")
    TrackFactory(recording=recording, number=1, title="Old track", duration_seconds=100)
    OfferFactory(release=release, sku="EXC2401-STK", price=Decimal("20.00"), stock=2)
    before = _release_snapshot(Release.objects.get(pk=release.pk))
    offers_before = list(Offer.objects.filter(release=release).values())

    report = run(example("release_feed.csv"))
    assert report.counts == {"changed": 1, "created": 1}, reasons(report)
    assert Release.objects.get(pk=release.pk).title != "Old"

    notes = import_undo(run=report.run)

    assert notes == []
    assert _release_snapshot(Release.objects.get(pk=release.pk)) == before
    assert list(Offer.objects.filter(release=release).values()) == offers_before
    assert not Release.objects.filter(catalog_number="EXC2402").exists()
    assert not Offer.objects.filter(sku="EXC2401-MTO").exists()
    assert Work.objects.get(pk=work.pk).recording_count == 1  # the old release's recording, counted again
    assert ImportRun.objects.get(pk=report.run.pk).status == "undone"


def visit(client, url):
    """The page's text and whether it came from the shared cache (no catalog query)."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode(), not any("catalog_" in q["sql"] for q in ctx.captured_queries)


def test_a_price_changed_by_a_feed_shows_on_the_cached_release_page(client, example_catalog):
    run(example("release_feed.csv"))
    other = OfferFactory(price=Decimal("30.00"))
    url = Release.objects.get(catalog_number="EXC2401").get_absolute_url()
    visit(client, url)
    visit(client, other.release.get_absolute_url())
    page, cached = visit(client, url)
    assert cached and "14.99" in page

    run(example("price_stock_feed.csv"))

    page, cached = visit(client, url)
    assert not cached
    assert "13.99" in page and "14.99" not in page
    # A release the feed did not touch keeps its cached page.
    assert visit(client, other.release.get_absolute_url())[1]


def test_a_release_created_by_a_feed_is_found_by_search(client, example_catalog):
    feed = HEADER + (
        "Example Classics,EXC77,,Glimmerwald Nocturnes,2024-05-01,CD,1,Beethoven,op. 67,,"
        "conductor: Example Conductor,1,1,I,,EXC77-S,11.00,4,no,\n"
    )
    page, _ = visit(client, "/search/?q=glimmerwald")
    assert "Glimmerwald Nocturnes" not in page

    run(feed)

    page, _ = visit(client, "/search/?q=glimmerwald")
    assert "Glimmerwald Nocturnes" in page
    # Found by its performer's name and catalogue number too.
    assert "Glimmerwald Nocturnes" in visit(client, "/search/?q=EXC77")[0]


def test_a_feed_as_xlsx_imports_like_the_csv(example_catalog):
    book = Workbook()
    sheet = book.active
    for row in load_rows(example("release_feed.csv")):
        sheet.append(row)
    sheet["E2"].value = __import__("datetime").date(2024, 3, 15)  # a date cell, as Excel keeps it
    sheet["Q2"].value = 14.99  # a number cell
    data = io.BytesIO()
    book.save(data)

    report = run(data.getvalue(), name="feed.xlsx")

    assert report.counts == {"created": 2}, reasons(report)
    assert Offer.objects.get(sku="EXC2401-STK").price == Decimal("14.99")
    assert run(example("release_feed.csv")).counts == {"unchanged": 2}


def load_rows(data):
    import csv

    return list(csv.reader(io.StringIO(data.decode())))


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("feed.csv", HEADER.encode() + "Ex,1,,Dvořák".encode("cp1250"), "Line 2 is not UTF-8"),
        ("feed.csv", "Künstler,Titel\nA,B\n".encode("latin-1"), "not UTF-8"),
        ("feed.csv", b"label,catalog_number,track\nA,1,1\n", "Columns missing: release_title, release_date"),
        ("feed.csv", b"name,colour\nA,red\n", "none of the catalog's columns"),
        ("cover.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "neither a CSV nor an XLSX"),
        ("feed.xlsx", b"this is not a workbook", "not an XLSX workbook"),
        ("feed.xlsx", b"PK\x03\x04 broken zip", "cannot be read as XLSX"),
        ("feed.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Old Excel files (.xls)"),
        ("feed.csv", b"", "The submitted file is empty"),
        ("feed.csv", b"\n\n", "The file is empty"),
        ("feed.csv", "sku,price\r\n".encode("utf-16"), "neither a CSV nor an XLSX"),
    ],
)
def test_a_file_that_cannot_be_read_gets_a_clear_message_and_changes_nothing(admin_client, name, data, message):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = admin_client.post(
        "/admin/catalog/importrun/import/", {"file": SimpleUploadedFile(name, data)}, follow=True
    )

    # A file whose columns are wrong is refused on upload; one whose rows turn out
    # unreadable, on its preview page (read by the task worker).
    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not ImportRun.objects.exclude(status="refused").exists()


def test_staff_preview_a_file_confirm_it_and_undo_it_in_the_admin(admin_client, example_catalog):
    from django.core.files.uploadedfile import SimpleUploadedFile

    feed = example("release_feed.csv").decode() + (
        "Example Classics,EXC9,,Unknown,2020-01-01,CD,1,Salieriwski,Symphony no. 1,,,1,1,I,,EXC9-S,9,1,no,\n"
    )
    page = admin_client.get("/admin/catalog/importrun/import/").content.decode()
    assert "one row per track" in page and "catalog/import_examples/" in page

    admin_client.post("/admin/catalog/importrun/import/", {"file": SimpleUploadedFile("first.csv", feed.encode())})
    preview = admin_client.post(
        "/admin/catalog/importrun/import/", {"file": SimpleUploadedFile("label-feed.csv", feed.encode())}, follow=True
    )
    assert len(list(Path("/tmp/arkiv-test-media/catalog-imports").glob("*"))) == 1, "only the file previewed last"

    text = preview.content.decode()
    assert preview.status_code == 200
    assert "2 to create" in text and "1 rejected" in text
    assert "composer \u201cSalieriwski\u201d is not in the catalog" in text
    assert "Example Classics EXC2401" in text
    assert not Release.objects.filter(label__name="Example Classics").exists()

    run_ = ImportRun.objects.get()
    done = admin_client.post(f"/admin/catalog/importrun/{run_.pk}/confirm/", follow=True)

    # The task worker applies it (at once with the tests' task backend); the run's page
    # says what it did and what staff must resolve.
    text = done.content.decode()
    assert "Importing label-feed.csv" in text
    assert "Applied" in text
    assert "composer \u201cSalieriwski\u201d is not in the catalog" in text
    assert Release.objects.filter(label__name="Example Classics").count() == 2
    run_ = ImportRun.objects.get()
    assert (run_.file_name, run_.kind, run_.created, run_.rejected) == ("label-feed.csv", "releases", 2, 1)
    assert run_.unmatched == {"composer": {"Salieriwski": 7}}
    assert not list(Path("/tmp/arkiv-test-media/catalog-imports").glob("*")), "the uploaded file is removed"
    # Confirming twice does not apply the file twice.
    again = admin_client.post(f"/admin/catalog/importrun/{run_.pk}/confirm/", follow=True)
    assert "This file (label-feed.csv) was confirmed already" in again.content.decode()
    assert Release.objects.filter(label__name="Example Classics").count() == 2

    assert "Undo this import" in admin_client.get(f"/admin/catalog/importrun/{run_.pk}/change/").content.decode()
    listing = admin_client.get("/admin/catalog/importrun/").content.decode()
    assert "Import a catalog file" in listing and "Undo the last import (label-feed.csv)" in listing
    assert "puts back what it changed" in admin_client.get(f"/admin/catalog/importrun/{run_.pk}/undo/").content.decode()
    assert Release.objects.filter(label__name="Example Classics").count() == 2, "a GET undoes nothing"
    undone = admin_client.post(f"/admin/catalog/importrun/{run_.pk}/undo/", follow=True)

    assert "is undone" in undone.content.decode()
    assert not Release.objects.filter(label__name="Example Classics").exists()
    refused = admin_client.post(f"/admin/catalog/importrun/{run_.pk}/undo/", follow=True)
    assert "Only the last import that is still applied can be undone" in refused.content.decode()


def test_staff_without_catalog_rights_cannot_import(client, django_user_model):
    from tests.conftest import staff_login

    clerk = django_user_model.objects.create_user(email="clerk@example.com", password="x", is_staff=True)
    staff_login(client, clerk)

    assert client.get("/admin/catalog/importrun/import/").status_code == 403


def test_the_scheduled_feed_command_is_idempotent_and_says_what_it_did(tmp_path, example_catalog):
    releases = tmp_path / "releases.csv"
    releases.write_bytes(example("release_feed.csv"))
    prices = tmp_path / "prices.csv"
    prices.write_bytes(example("price_stock_feed.csv"))
    out = io.StringIO()

    call_command("import_catalog", str(releases), "--dry-run", stdout=out)
    assert "2 would be created" in out.getvalue()
    assert not Release.objects.filter(label__name="Example Classics").exists()

    call_command("import_catalog", str(releases), stdout=out)
    call_command("import_catalog", str(prices), stdout=out)
    state = [_release_snapshot(r) for r in Release.objects.filter(label__name="Example Classics")]
    offers = list(Offer.objects.order_by("sku").values())
    out = io.StringIO()
    call_command("import_catalog", str(prices), stdout=out)
    call_command("import_catalog", str(releases), stdout=out)

    assert "0 were created, 0 were changed, 3 unchanged" in out.getvalue()
    assert "2 were changed" in out.getvalue()  # the release feed puts its own prices and stock back
    call_command("import_catalog", "--undo-last", stdout=out)
    assert [_release_snapshot(r) for r in Release.objects.filter(label__name="Example Classics")] == state
    assert list(Offer.objects.order_by("sku").values()) == offers


def test_the_command_refuses_a_bad_file_with_its_reason(tmp_path):
    bad = tmp_path / "feed.csv"
    bad.write_bytes(b"sku;price\nA;1\nB;" + "ü".encode("latin-1") + b"\n")

    with pytest.raises(CommandError, match="Line 3 is not UTF-8 text"):
        call_command("import_catalog", str(bad))
    with pytest.raises(CommandError, match="Cannot open"):
        call_command("import_catalog", str(tmp_path / "missing.csv"))
    assert not ImportRun.objects.exists()


def test_releases_exported_from_the_admin_import_back_unchanged(admin_client):
    releases = []
    for _ in range(3):
        recording = RecordingFactory(work=Work.objects.get(composer__slug="beethoven", title__contains="op. 67"))
        CreditFactory(recording=recording, role="conductor")
        TrackFactory(recording=recording, number=1)
        TrackFactory(recording=recording, number=2)
        OfferFactory(release=recording.release, stock=3)
        releases.append(recording.release)

    with CaptureQueriesContext(connection) as small:
        admin_client.post(
            "/admin/catalog/release/",
            {"action": "export_csv", "_selected_action": [releases[0].pk]},
        )
    response = admin_client.post(
        "/admin/catalog/release/",
        {"action": "export_xlsx", "_selected_action": [r.pk for r in releases]},
    )
    with CaptureQueriesContext(connection) as large:
        csv_response = admin_client.post(
            "/admin/catalog/release/",
            {"action": "export_csv", "_selected_action": [r.pk for r in releases]},
        )

    assert response["Content-Disposition"] == 'attachment; filename="releases.xlsx"'
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    assert rows[0][:4] == ("label", "catalog_number", "barcode", "release_title")
    assert len(rows) == 1 + 6
    # One query per kind of row, however many releases (no N+1 over tracks or credits).
    assert len(large.captured_queries) == len(small.captured_queries)
    assert run(response.content, name="releases.xlsx").counts == {"unchanged": 3}
    assert run(csv_response.content).counts == {"unchanged": 3}


def test_a_release_feed_that_changes_only_a_price_leaves_the_lists_cached(client, example_catalog):
    run(example("release_feed.csv"))
    release = Release.objects.get(catalog_number="EXC2402")
    visit(client, "/releases/")
    visit(client, release.get_absolute_url())
    assert visit(client, "/releases/")[1]
    feed = example("release_feed.csv").decode().replace("EXC2402-STK,12.99,40", "EXC2402-STK,12.99,39")

    report = run(feed)

    assert report.counts == {"changed": 1, "unchanged": 1}
    assert [o.reasons for o in report.outcomes["changed"]] == [["offer EXC2402-STK: stock 40 \u2192 39"]]
    assert Offer.objects.get(sku="EXC2402-STK").stock == 39
    # Stock is shown on the release's page only, and plenty is left: the lists stay cached.
    assert visit(client, "/releases/")[1]
    page, cached = visit(client, release.get_absolute_url())
    assert not cached


def test_a_new_offer_of_a_release_already_in_the_catalog_is_sold_at_its_price(client, example_catalog):
    run(example("release_feed.csv"))
    feed = (
        example("release_feed.csv")
        .decode()
        .replace("Suite No. 4: Prélude,3:44,,,,,", "Suite No. 4: Prélude,3:44,EXC2402-LP,9.99,5,no,")
    )

    report = run(feed)

    assert report.counts == {"changed": 1, "unchanged": 1}
    release = Release.objects.get(catalog_number="EXC2402")
    assert release.min_price == Decimal("9.99")
    assert "9.99" in visit(client, release.get_absolute_url())[0]


def test_a_feed_repricing_many_releases_shows_the_new_prices_on_the_release_lists(client):
    label = LabelFactory()
    offers = [
        OfferFactory(release=ReleaseFactory(label=label, min_price=Decimal("20.00")), price=Decimal("20.00"))
        for _ in range(60)
    ]
    newest = offers[-1]
    page, _ = visit(client, "/releases/")
    assert "20.00" in page and visit(client, "/releases/")[1]
    feed = "sku,price\n" + "".join(f"{o.sku},17.00\n" for o in offers)

    assert run(feed).counts == {"changed": 60}

    page, cached = visit(client, "/releases/")
    assert not cached
    assert "17.00" in page and "20.00" not in page
    assert Release.objects.get(pk=newest.release_id).min_price == Decimal("17.00")


def test_a_confirmed_file_delivered_twice_to_the_worker_is_applied_once(example_catalog):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from catalog.tasks import apply_catalog_file

    stored = default_storage.save("catalog-imports/" + "a" * 32 + ".csv", ContentFile(example("release_feed.csv")))
    run_ = ImportRun.objects.create(file_name="feed.csv", status=ImportRun.Status.QUEUED)

    apply_catalog_file.call(run_id=run_.pk, stored=stored)
    apply_catalog_file.call(run_id=run_.pk, stored=stored)

    run_.refresh_from_db()
    assert (run_.status, run_.created) == ("applied", 2)
    assert ImportRun.objects.count() == 1
    assert run_.changes.count() == 5  # two releases and three offers, once
    assert not default_storage.exists(stored)


def test_catalog_editors_reach_the_import_pages(client, django_user_model):
    from django.contrib.auth.models import Group

    from tests.conftest import staff_login

    editor = django_user_model.objects.create_user(email="editor@example.com", password="x", is_staff=True)
    editor.groups.add(Group.objects.get(name="Catalog editors"))
    staff_login(client, editor)

    assert client.get("/admin/catalog/importrun/").status_code == 200
    assert client.get("/admin/catalog/importrun/import/").status_code == 200
