"""A supplier's full feed lists every offer of its labels: offers of those labels that
it leaves out are deactivated (and come back with undo). A partial file never
deactivates anything, and a full feed that would deactivate too many offers (a file
cut short) deactivates none unless staff force it."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from catalog.imports import catalog_import, import_undo
from catalog.models import ImportRun, Offer, Release
from tests.factories import LabelFactory, OfferFactory, ReleaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def label_offers():
    """Ten offers of one label, each on its own release, and one offer of another label."""
    label = LabelFactory(name="Example Classics", slug="example-classics")
    offers = [
        OfferFactory(sku=f"EXC-{n}", price=Decimal("10.00"), release=ReleaseFactory(label=label)) for n in range(10)
    ]
    other = OfferFactory(sku="OTHER-1", price=Decimal("10.00"))
    return offers, other


def feed(skus):
    return ("sku,stock\n" + "".join(f"{sku},3\n" for sku in skus)).encode()


def run(data, **options):
    return catalog_import(file=io.BytesIO(data), file_name="full.csv", dry_run=False, **options)


def active(sku):
    return Offer.objects.get(sku=sku).is_active


def test_a_full_feed_deactivates_the_offers_of_its_labels_it_leaves_out_and_undo_brings_them_back(client, label_offers):
    offers, other = label_offers
    dropped = offers[-1]
    page = dropped.release.get_absolute_url()
    assert "Add to cart" in client.get(page).content.decode()

    report = run(feed(o.sku for o in offers[:-1]), full_feed=True)

    assert report.counts == {"changed": 9, "deactivated": 1}
    assert not active(dropped.sku)
    assert active(offers[0].sku) and active(other.sku), "offers it lists, and other labels' offers, stay"
    assert ImportRun.objects.get(pk=report.run.pk).deactivated == 1
    assert Release.objects.get(pk=dropped.release_id).min_price is None
    assert "Add to cart" not in client.get(page).content.decode(), "the cached page no longer sells it"

    assert import_undo(run=report.run) == []
    assert active(dropped.sku)
    assert "Add to cart" in client.get(page).content.decode()


def test_undo_of_a_full_feed_keeps_an_offer_staff_put_back_on_sale_meanwhile(label_offers):
    offers, _ = label_offers
    report = run(feed(o.sku for o in offers[:-1]), full_feed=True)
    Offer.objects.filter(sku=offers[-1].sku).update(is_active=True, price=Decimal("9.00"))

    notes = import_undo(run=report.run)

    assert notes == [f"Kept: on-sale status of {offers[-1].sku} was changed after the import."]
    assert active(offers[-1].sku) and Offer.objects.get(sku=offers[-1].sku).price == Decimal("9.00")


def test_a_partial_feed_deactivates_nothing(label_offers):
    offers, _ = label_offers

    report = run(feed(o.sku for o in offers[:5]))

    assert report.counts == {"changed": 5}
    assert Offer.objects.filter(is_active=True).count() == 11


def test_a_full_feed_cut_short_deactivates_nothing_and_says_why_unless_forced(label_offers, settings):
    offers, _ = label_offers
    settings.IMPORT_FULL_FEED_MAX_SHARE = 0.2

    report = run(feed(o.sku for o in offers[:5]), full_feed=True)

    assert report.counts == {"changed": 5}
    assert Offer.objects.filter(is_active=True).count() == 11
    assert report.run.notes == [
        "Nothing was deactivated: the file leaves out 5 of the 10 active offers of its labels, more than the 20% "
        "a full feed may leave out, so it may be cut short. If the file is complete, import it again with "
        "\u201cforce\u201d."
    ]

    forced = run(feed(o.sku for o in offers[:5]), full_feed=True, force=True)

    assert forced.counts == {"unchanged": 5, "deactivated": 5}
    assert Offer.objects.filter(is_active=True).count() == 6


def test_a_full_release_feed_deactivates_the_labels_offers_missing_from_it(label_offers):
    offers, other = label_offers
    from tests.factories import WorkFactory

    WorkFactory(composer__name="Feedcomposer", composer__full_name="Anna Feedcomposer", title="Sonata no. 1")
    release = offers[0].release
    rows = "label,catalog_number,release_title,release_date,format,composer,work,track,track_title,sku,price\n"
    rows += "".join(
        f"Example Classics,{o.release.catalog_number},{o.release.title},2024-01-01,CD,Feedcomposer,Sonata no. 1,1,"
        f"I,{o.sku},10.00\n"
        for o in offers
        if o != offers[1]
    )

    report = run(rows.encode(), full_feed=True)

    assert report.counts["deactivated"] == 1, report.outcomes.get("rejected")
    assert not active(offers[1].sku)
    assert active(release.offers.get().sku) and active(other.sku)


def test_staff_tick_full_feed_in_the_admin_and_see_what_will_be_deactivated(admin_client, label_offers):
    offers, _ = label_offers
    file = SimpleUploadedFile("full.csv", feed(o.sku for o in offers[:-1]))

    preview = admin_client.post("/admin/catalog/importrun/import/", {"file": file, "full_feed": "on"}, follow=True)

    page = preview.content.decode()
    assert "(full feed)" in page and "1 to deactivate" in page
    assert offers[-1].sku in page and "not in the full feed" in page
    assert active(offers[-1].sku), "the preview deactivates nothing"
    run_ = ImportRun.objects.get()
    admin_client.post(f"/admin/catalog/importrun/{run_.pk}/confirm/")
    assert not active(offers[-1].sku)
    assert ImportRun.objects.get().deactivated == 1


def test_the_feed_command_takes_full_and_force(tmp_path, label_offers):
    offers, _ = label_offers
    path = tmp_path / "nightly.csv"
    path.write_bytes(feed(o.sku for o in offers[:5]))
    out = io.StringIO()

    call_command("import_catalog", str(path), "--full", stdout=out)

    assert "0 were deactivated (not in the full feed)" in out.getvalue()
    assert "Nothing was deactivated: the file leaves out 5 of the 10" in out.getvalue()
    assert Offer.objects.filter(is_active=True).count() == 11

    out = io.StringIO()
    call_command("import_catalog", str(path), "--full", "--force", stdout=out)

    assert "5 were deactivated (not in the full feed)" in out.getvalue()
    assert Offer.objects.filter(is_active=True).count() == 6
