"""Catalog work that runs in the task worker, not in a request."""

import logging

from django.core.files.storage import default_storage
from django_tasks import task

from arkiv import logjson

from . import imports
from .models import ImportRun

logger = logging.getLogger(__name__)


@task()
def preview_catalog_file(*, run_id, request_id=None):
    """Read a file staff uploaded, for its preview (below); logs carry the id of the
    request that uploaded it."""
    with logjson.bound_request_id(request_id):
        _preview(run_id)


def _preview(run_id):
    """Read a file staff uploaded and keep what it would create, change, deactivate and
    reject for the preview page; writes nothing to the catalog. Idempotent: a run no
    longer waiting for its preview is left as it is."""
    waiting = ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.PREVIEWING)
    run = waiting.first()
    if run is None:
        return
    if not run.stored or not default_storage.exists(run.stored):
        waiting.update(status=ImportRun.Status.REFUSED, error="The uploaded file is gone: upload it again.")
        return
    try:
        with default_storage.open(run.stored, "rb") as file:
            report = imports.catalog_import(
                file=file, file_name=run.file_name, dry_run=True, full_feed=run.full_feed, force=run.force
            )
    except imports.FileRejected as error:
        default_storage.delete(run.stored)
        waiting.update(status=ImportRun.Status.REFUSED, error=str(error), stored="")
        return
    except Exception:
        # Staff must not wait on a preview that will never come.
        logger.exception("Preview of import run %s failed", run_id)
        default_storage.delete(run.stored)
        waiting.update(
            status=ImportRun.Status.REFUSED,
            error="The preview could not be prepared because of an error in the shop; the file was not imported.",
            stored="",
        )
        return
    waiting.update(status=ImportRun.Status.PREVIEWED, kind=report.kind, rows=report.rows, preview=report.as_preview())
    logger.info("Preview of import run %s ready: %s rows read", run_id, report.rows)


@task()
def apply_catalog_file(*, run_id, stored, request_id=None):
    """Apply a confirmed file (below); logs carry the id of the request that confirmed it."""
    with logjson.bound_request_id(request_id):
        _apply(run_id, stored)


def _apply(run_id, stored):
    """Apply a file staff previewed and confirmed; the import run says how it went and,
    while it runs, how many rows are done. Idempotent: a run already finished is left as
    it is."""
    queued = ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.QUEUED)
    run = queued.first()
    if run is None:
        return
    if not default_storage.exists(stored):
        # Nothing was written: the run is refused, not failed part-way (which undo would take).
        queued.update(status=ImportRun.Status.REFUSED, error="The uploaded file is gone: upload it again.")
        return

    def progress(rows):
        ImportRun.objects.filter(pk=run.pk).update(rows=rows)

    try:
        with default_storage.open(stored, "rb") as file:
            imports.catalog_import(
                file=file,
                file_name=run.file_name,
                dry_run=False,
                run=run,
                progress=progress,
                full_feed=run.full_feed,
                force=run.force,
            )
    except imports.FileRejected as error:
        # Read whole before anything is written: nothing of it was applied.
        ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.REFUSED, error=str(error))
    finally:
        default_storage.delete(stored)
        ImportRun.objects.filter(pk=run.pk).update(stored="")
