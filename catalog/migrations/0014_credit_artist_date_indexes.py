"""A performer's recordings newest first, all roles or one, as an index walk that stops
after a page: at a million releases the biggest performers have 80,000 credits. Built
concurrently on PostgreSQL, as 0012's are."""

import importlib

from django.db import migrations, models

AddIndexConcurrentlyOnPostgres = importlib.import_module(
    "catalog.migrations.0012_credit_artist_page_indexes"
).AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("catalog", "0013_credit_release_date"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="credit",
            index=models.Index(fields=["artist", "release_date", "recording"], name="catalog_credit_artist_date"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="credit",
            index=models.Index(
                fields=["artist", "role", "release_date", "recording"], name="catalog_credit_role_date"
            ),
        ),
    ]
