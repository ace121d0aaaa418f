"""Undoing an import puts back only what is still as the import left it: a price, a
title or a release a staff member (or a later import) changed since is kept as it is,
and the undo says what it kept and why."""

import io
from decimal import Decimal
from pathlib import Path

import pytest

from catalog.imports import catalog_import, import_undo
from catalog.models import Artist, ImportRun, Offer, Release
from tests.factories import ArtistFactory, LabelFactory, OfferFactory

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[2] / "catalog" / "import_examples"


@pytest.fixture
def example_catalog():
    LabelFactory(name="Example Classics", slug="example-classics")
    ArtistFactory(name="Example Conductor", slug="example-conductor")
    ArtistFactory(name="Example Symphony Orchestra", slug="example-symphony-orchestra", kind=Artist.Kind.GROUP)
    ArtistFactory(name="Example Cellist", slug="example-cellist")


def run(data, name="feed.csv"):
    data = data.encode() if isinstance(data, str) else data
    return catalog_import(file=io.BytesIO(data), file_name=name, dry_run=False)


def test_undo_keeps_a_price_staff_changed_after_the_import_and_puts_back_the_rest(admin_client):
    offer = OfferFactory(sku="ARK-123", price=Decimal("10.00"), stock=5)
    report = run("sku,price,stock\nARK-123,12.00,40\n")
    offer.refresh_from_db()
    offer.price = Decimal("11.00")  # staff correct the supplier's price in the admin
    offer.save()

    undone = admin_client.post(f"/admin/catalog/importrun/{report.run.pk}/undo/", follow=True)

    page = undone.content.decode()
    assert "is undone" in page
    assert "Kept: price of ARK-123 was changed after the import." in page
    offer.refresh_from_db()
    assert (offer.price, offer.stock) == (Decimal("11.00"), 5)
    assert ImportRun.objects.get(pk=report.run.pk).notes == ["Kept: price of ARK-123 was changed after the import."]
    run_page = admin_client.get(f"/admin/catalog/importrun/{report.run.pk}/change/").content.decode()
    assert "Kept: price of ARK-123 was changed after the import." in run_page


def test_undo_puts_back_values_nobody_changed_since_the_import():
    offer = OfferFactory(sku="ARK-123", price=Decimal("10.00"), stock=5)
    report = run("sku,price,stock\nARK-123,12.00,40\n")

    notes = import_undo(run=report.run)

    assert notes == []
    offer.refresh_from_db()
    assert (offer.price, offer.stock) == (Decimal("10.00"), 5)


def test_undo_keeps_a_title_edited_after_the_import_and_puts_back_the_offers(client, example_catalog):
    first = run((EXAMPLES / "release_feed.csv").read_bytes())
    assert first.counts == {"created": 2}
    changed = (
        (EXAMPLES / "release_feed.csv")
        .read_text()
        .replace("14.99", "15.99")
        .replace("Bach: Cello", "J. S. Bach: Cello")
    )
    second = run(changed)
    assert second.counts == {"changed": 2}
    release = Release.objects.get(catalog_number="EXC2402")
    release.title = "Bach: The Glimmerwald Cello Suites"
    release.save()
    assert "Glimmerwald" not in client.get("/search/?q=glimmerwald").content.decode()  # the page is cached meanwhile

    notes = import_undo(run=second.run)

    assert notes == ["Kept: title of Example Classics EXC2402 was changed after the import."]
    assert Release.objects.get(catalog_number="EXC2402").title == "Bach: The Glimmerwald Cello Suites"
    assert Offer.objects.get(sku="EXC2401-STK").price == Decimal("14.99")
    assert "Bach: The Glimmerwald Cello Suites" in client.get("/search/?q=glimmerwald").content.decode()


def test_undo_leaves_a_release_it_created_when_staff_edited_it_since(example_catalog):
    report = run((EXAMPLES / "release_feed.csv").read_bytes())
    release = Release.objects.get(catalog_number="EXC2401")
    release.title = "Beethoven 5 and Dvořák 9 (corrected)"
    release.save()

    notes = import_undo(run=report.run)

    assert notes == ["Kept: release Example Classics EXC2401 was changed after the import, so it stays in the catalog."]
    assert Release.objects.filter(catalog_number="EXC2401").exists()
    assert not Release.objects.filter(catalog_number="EXC2402").exists()
