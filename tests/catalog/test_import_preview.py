"""Staff upload a catalog file in the admin and the task worker does the slow parts: it
prepares the preview (the page says so and refreshes itself until it is ready) and
applies the file once confirmed (the run's page shows how far it got). A file is
applied once however often Confirm is pressed; a file that cannot be read says why."""

from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from catalog.models import ImportRun, Offer
from tests.factories import OfferFactory

# The worker closes its database connection when it is done, as it does in production.
pytestmark = pytest.mark.django_db(transaction=True)

IMPORT = "/admin/catalog/importrun/import/"


@pytest.fixture
def task_queue(settings):
    """Production's task path: the database queue, served by the worker when the test says."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def no_uploads_left():
    """Files of previews a test leaves unconfirmed are removed, as the nightly purge would."""
    yield
    for stored in ImportRun.objects.exclude(stored="").values_list("stored", flat=True):
        default_storage.delete(stored)


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--queue-name", "*", verbosity=0)


def upload(client, text, name="prices.csv", **options):
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, text.encode()), **options})


def test_the_preview_is_prepared_by_the_worker_and_its_page_refreshes_until_ready(admin_client, task_queue):
    offer = OfferFactory(sku="ARK-123", price=Decimal("10.00"))

    response = upload(admin_client, "sku,price\nARK-123,12.50\n")

    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/admin/catalog/importrun/{run.pk}/preview/"
    waiting = admin_client.get(response["Location"]).content.decode()
    assert "Preview being prepared" in waiting
    assert '<meta http-equiv="refresh"' in waiting
    assert "Confirm and import" not in waiting

    run_worker()

    ready = admin_client.get(response["Location"]).content.decode()
    assert "Preview being prepared" not in ready and 'http-equiv="refresh"' not in ready
    assert "1 to change" in ready and "price 10.00 \u2192 12.50" in ready
    assert "Confirm and import" in ready
    offer.refresh_from_db()
    assert offer.price == Decimal("10.00"), "a preview changes nothing"


def test_a_confirmed_file_is_applied_by_the_worker_and_its_page_shows_progress(admin_client, task_queue):
    offer = OfferFactory(sku="ARK-123", price=Decimal("10.00"))
    preview = upload(admin_client, "sku,price\nARK-123,12.50\n")["Location"]
    run_worker()
    run = ImportRun.objects.get()

    confirmed = admin_client.post(f"/admin/catalog/importrun/{run.pk}/confirm/", follow=True)

    page = confirmed.content.decode()
    assert "Importing prices.csv" in page
    assert "Being imported:" in page and '<meta http-equiv="refresh"' in page
    assert Offer.objects.get(pk=offer.pk).price == Decimal("10.00")

    run_worker()

    done = admin_client.get(f"/admin/catalog/importrun/{run.pk}/change/").content.decode()
    assert "Applied" in done and "Being imported:" not in done and 'http-equiv="refresh"' not in done
    assert Offer.objects.get(pk=offer.pk).price == Decimal("12.50")
    assert admin_client.get(preview)["Location"] == f"/admin/catalog/importrun/{run.pk}/change/"


def test_a_double_click_on_confirm_applies_the_file_once(admin_client, task_queue):
    OfferFactory(sku="ARK-123", price=Decimal("10.00"), stock=5)
    upload(admin_client, "sku,stock\nARK-123,7\n")
    run_worker()
    run = ImportRun.objects.get()

    first = admin_client.post(f"/admin/catalog/importrun/{run.pk}/confirm/", follow=True)
    second = admin_client.post(f"/admin/catalog/importrun/{run.pk}/confirm/", follow=True)

    assert "Importing prices.csv" in first.content.decode()
    assert "This file (prices.csv) was confirmed already: it is imported once." in second.content.decode()
    assert DBTaskResult.objects.filter(task_path="catalog.tasks.apply_catalog_file").count() == 1
    run_worker()
    run.refresh_from_db()
    assert (run.status, run.changed, run.changes.count()) == ("applied", 1, 1)


def test_a_file_cannot_be_confirmed_before_its_preview_is_ready(admin_client, task_queue):
    OfferFactory(sku="ARK-123", price=Decimal("10.00"))
    upload(admin_client, "sku,price\nARK-123,12.50\n")
    run = ImportRun.objects.get()

    early = admin_client.post(f"/admin/catalog/importrun/{run.pk}/confirm/", follow=True)

    assert "That preview is not ready to import." in early.content.decode()
    assert not DBTaskResult.objects.filter(task_path="catalog.tasks.apply_catalog_file").exists()
    assert ImportRun.objects.get().status == "previewing"


def test_a_file_whose_rows_cannot_be_read_shows_the_reason_on_its_preview_page(admin_client, task_queue):
    data = b"sku,price\nARK-1,12.50\n" + "ARK-2,Dvořák\n".encode("cp1250")
    preview = admin_client.post(IMPORT, {"file": SimpleUploadedFile("prices.csv", data)})["Location"]

    run_worker()

    refused = admin_client.get(preview)
    assert refused.status_code == 400
    assert "The file cannot be imported: Line 3 is not UTF-8" in refused.content.decode()
    assert "Confirm and import" not in refused.content.decode()
    assert ImportRun.objects.get().status == "refused"
    assert not ImportRun.objects.get().stored, "the refused file is not kept"


def test_a_confirmed_file_that_is_gone_when_the_worker_comes_says_so_and_blocks_nothing(admin_client, task_queue):
    OfferFactory(sku="ARK-123", price=Decimal("10.00"))
    upload(admin_client, "sku,price\nARK-123,12.50\n")
    run_worker()
    run = ImportRun.objects.get()
    admin_client.post(f"/admin/catalog/importrun/{run.pk}/confirm/")
    default_storage.delete(run.stored)  # lost between the servers and the worker

    run_worker()

    page = admin_client.get(f"/admin/catalog/importrun/{run.pk}/change/").content.decode()
    assert "The file cannot be imported: The uploaded file is gone: upload it again." in page
    assert 'http-equiv="refresh"' not in page
    assert ImportRun.objects.get().status == "refused"
    assert Offer.objects.get(sku="ARK-123").price == Decimal("10.00")
