"""Import history (each run and what it changed) is kept IMPORT_HISTORY_DAYS, then the
nightly purge deletes it; previews nobody confirmed go after a day, with their files."""

import datetime
import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from catalog.imports import catalog_import
from catalog.models import ImportChange, ImportRun
from tests.factories import OfferFactory

pytestmark = pytest.mark.django_db


def applied(days_ago):
    OfferFactory(sku=f"AGE-{days_ago}")
    report = catalog_import(
        file=io.BytesIO(f"sku,stock\nAGE-{days_ago},1\n".encode()), file_name="f.csv", dry_run=False
    )
    ImportRun.objects.filter(pk=report.run.pk).update(started_at=timezone.now() - datetime.timedelta(days=days_ago))
    return report.run


def test_the_nightly_purge_deletes_import_history_older_than_the_setting(settings):
    settings.IMPORT_HISTORY_DAYS = 30
    old, recent = applied(40), applied(20)
    assert ImportChange.objects.filter(run=old).exists()

    call_command("purge_expired_records", stdout=io.StringIO())

    assert not ImportRun.objects.filter(pk=old.pk).exists()
    assert not ImportChange.objects.filter(run_id=old.pk).exists()
    assert ImportRun.objects.filter(pk=recent.pk).exists() and ImportChange.objects.filter(run=recent).exists()


def test_an_unconfirmed_preview_and_its_file_go_after_a_day():
    stored = default_storage.save("catalog-imports/" + "b" * 32 + ".csv", ContentFile(b"sku,stock\nX,1\n"))
    waiting = ImportRun.objects.create(file_name="f.csv", status=ImportRun.Status.PREVIEWED, stored=stored)
    # Confirmed, then refused by the worker: part of the history, kept like the others.
    confirmed = ImportRun.objects.create(file_name="h.csv", status=ImportRun.Status.REFUSED, preview={"rows": 1})
    ImportRun.objects.filter(pk__in=[waiting.pk, confirmed.pk]).update(
        started_at=timezone.now() - datetime.timedelta(days=2)
    )
    today = ImportRun.objects.create(file_name="g.csv", status=ImportRun.Status.PREVIEWED)

    call_command("purge_expired_records", stdout=io.StringIO())

    assert not ImportRun.objects.filter(pk=waiting.pk).exists()
    assert not default_storage.exists(stored)
    assert ImportRun.objects.filter(pk=today.pk).exists()
    assert ImportRun.objects.filter(pk=confirmed.pk).exists()


def test_the_import_list_says_how_long_history_is_kept(admin_client, settings):
    settings.IMPORT_HISTORY_DAYS = 90

    page = admin_client.get("/admin/catalog/importrun/").content.decode()

    assert "Imports and what they changed are kept for 90 days" in page
