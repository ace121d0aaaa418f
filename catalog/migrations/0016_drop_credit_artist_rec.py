"""catalog_credit_artist_rec (artist, role, recording) answered counting a performer's
recordings in a role from the index alone; catalog_credit_role_date (artist, role,
release_date, recording) holds the same columns and answers every query it did, and the
counts are now kept on the performer. Dropped concurrently on PostgreSQL."""

import importlib

from django.db import migrations

RemoveIndexConcurrentlyOnPostgres = importlib.import_module(
    "catalog.migrations.0013_credit_release_date"
).RemoveIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("catalog", "0015_artist_recording_counts"),
    ]

    operations = [
        RemoveIndexConcurrentlyOnPostgres(model_name="credit", name="catalog_credit_artist_rec"),
    ]
