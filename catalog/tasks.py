"""Catalog work that runs in the task worker, not in a request."""

from django.core.files.storage import default_storage
from django_tasks import task

from . import imports
from .models import ImportRun


@task()
def apply_catalog_file(*, run_id, stored):
    """Apply a file staff previewed and confirmed; the import run says how it went.
    Idempotent: a run already finished is left as it is."""
    run = ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.QUEUED).first()
    if run is None or not default_storage.exists(stored):
        return
    try:
        with default_storage.open(stored, "rb") as file:
            imports.catalog_import(file=file, file_name=run.file_name, dry_run=False, run=run)
    except imports.FileRejected as error:
        ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.FAILED, error=str(error))
    finally:
        default_storage.delete(stored)
