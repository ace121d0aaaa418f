"""Two feeds applied at the same moment on PostgreSQL (a scheduled feed while staff
confirm the same file in the admin): each release exists once, with its tracks once;
the feed that lost the race says so per release, and running it again changes nothing."""

import io

import pytest

from catalog.imports import catalog_import
from catalog.models import Offer, Release, Track
from tests.factories import ArtistFactory, LabelFactory, WorkFactory
from tests.threads import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def feed(releases):
    lines = [
        "label,catalog_number,release_title,release_date,format,composer,work,performers,track,track_title,sku,price"
    ]
    for n in range(releases):
        for track in (1, 2, 3):
            offer = f"RACE{n}-S,12.50" if track == 1 else ","
            lines.append(
                f"Race Records,RACE{n},Race {n},2024-01-0{1 + n % 9},CD,Racecomposer,Sonata no. 1,"
                f"conductor: Race Conductor,{track},Part {track},{offer}"
            )
    return ("\n".join(lines) + "\n").encode()


def test_the_same_feed_applied_twice_at_once_creates_each_release_once(postgres):
    LabelFactory(name="Race Records", slug="race-records")
    ArtistFactory(name="Race Conductor", slug="race-conductor")
    WorkFactory(composer__name="Racecomposer", composer__full_name="Anna Racecomposer", title="Sonata no. 1")
    data = feed(20)

    def apply(i):
        report = catalog_import(file=io.BytesIO(data), file_name=f"feed-{i}.csv", dry_run=False)
        return dict(report.counts), [r for o in report.outcomes.get("rejected", []) for r in o.reasons]

    results = at_once(2, apply)

    assert all(isinstance(r, tuple) for r in results), results
    assert sorted(r[0].get("created", 0) for r in results)[-1] > 0
    assert sum(r[0].get("created", 0) for r in results) == 20
    for counts, reasons in results:
        assert counts.get("created", 0) + counts.get("rejected", 0) + counts.get("unchanged", 0) == 20
        assert all("at the same time" in reason for reason in reasons), reasons
    assert Release.objects.filter(label__name="Race Records").count() == 20
    assert Track.objects.filter(release__label__name="Race Records").count() == 60
    assert Offer.objects.filter(sku__startswith="RACE").count() == 20
    again = catalog_import(file=io.BytesIO(data), file_name="feed-again.csv", dry_run=False)
    assert dict(again.counts) == {"unchanged": 20}


def test_two_confirms_of_one_preview_at_the_same_moment_queue_one_import(postgres, settings, admin_user):
    """A double click whose two requests reach two servers at once: one queues the import."""
    from django.core.files.storage import default_storage
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from django_tasks_db.models import DBTaskResult

    from catalog.models import ImportRun
    from tests.conftest import staff_login
    from tests.factories import OfferFactory

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    OfferFactory(sku="ARK-123")
    clients = [Client(), Client()]
    for client in clients:
        staff_login(client, admin_user)
    clients[0].post(
        "/admin/catalog/importrun/import/", {"file": SimpleUploadedFile("p.csv", b"sku,stock\nARK-123,7\n")}
    )
    run = ImportRun.objects.get()
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.PREVIEWED)  # as the worker leaves it

    pages = at_once(2, lambda i: clients[i].post(f"/admin/catalog/importrun/{run.pk}/confirm/", follow=True))

    texts = sorted(p.content.decode() if not isinstance(p, str) else p for p in pages)
    assert sum("Importing p.csv" in t for t in texts) == 1, texts
    assert sum("was confirmed already" in t for t in texts) == 1
    assert DBTaskResult.objects.filter(task_path="catalog.tasks.apply_catalog_file").count() == 1
    assert ImportRun.objects.get().status == "queued"
    default_storage.delete(ImportRun.objects.get().stored)
