"""Performers credited by two writers at the same moment on PostgreSQL (two suppliers'
scheduled feeds, two staff in the admin): the performer's page counts every recording of
both, each writer counting again only once the other's credits are committed."""

import io
import re
import threading

import pytest
from django.db import transaction

from catalog.imports import catalog_import
from catalog.models import Artist, Credit
from catalog.services import artists_recount
from tests.factories import ArtistFactory, CreditFactory, LabelFactory, RecordingFactory, WorkFactory
from tests.threads import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def feed(label, releases):
    lines = ["label,catalog_number,release_title,release_date,format,composer,work,performers,track,track_title"]
    for n in range(releases):
        for track in (1, 2):
            lines.append(
                f"{label},{label[:3].upper()}{n},{label} {n},2024-01-0{1 + n % 9},CD,Racecomposer,Sonata no. {track},"
                f"conductor: Race Conductor,{track},Part {track}"
            )
    return ("\n".join(lines) + "\n").encode()


def test_two_feeds_crediting_one_performer_at_once_are_both_counted_on_their_page(postgres, client):
    LabelFactory(name="North Records", slug="north-records")
    LabelFactory(name="South Records", slug="south-records")
    conductor = ArtistFactory(name="Race Conductor", slug="race-conductor")
    first = WorkFactory(composer__name="Racecomposer", composer__full_name="Anna Racecomposer", title="Sonata no. 1")
    WorkFactory(composer=first.composer, title="Sonata no. 2")
    files = [feed("North Records", 15), feed("South Records", 15)]

    def apply(i):
        report = catalog_import(file=io.BytesIO(files[i]), file_name=f"feed-{i}.csv", dry_run=False)
        return dict(report.counts)

    results = at_once(2, apply)

    assert results == [{"created": 15}, {"created": 15}], results
    recordings = Credit.objects.filter(artist=conductor).values("recording").distinct().count()
    assert recordings == 60
    body = client.get(conductor.get_absolute_url()).content.decode()
    assert re.search(r"\b60 recordings\b", body)
    assert Artist.objects.get(pk=conductor.pk).role_counts == {"conductor": 60}


def test_two_staff_crediting_one_performer_at_the_same_moment_are_both_counted(postgres, client):
    """Each credits the performer on a recording and, before either has committed, both
    count their recordings again (as the admin does on saving a recording)."""
    conductor = ArtistFactory(slug="busy-conductor")
    CreditFactory(artist=conductor)
    recordings = [RecordingFactory(), RecordingFactory()]
    both_credited = threading.Barrier(2)

    def credit(i):
        with transaction.atomic():
            recording = recordings[i]
            Credit.objects.create(
                recording=recording, artist=conductor, role="conductor", release_date=recording.release_date
            )
            both_credited.wait(timeout=30)
            artists_recount(artist_ids=[conductor.pk])

    assert at_once(2, credit) == [None, None]

    assert Artist.objects.get(pk=conductor.pk).recording_count == 3
    assert re.search(r"\b3 recordings\b", client.get(conductor.get_absolute_url()).content.decode())
