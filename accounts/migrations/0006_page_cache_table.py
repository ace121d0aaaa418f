"""The table of the page cache (settings.CACHES["default"], arkiv.cache.CountingDatabaseCache)
used when no Redis is configured: created here so that `migrate` is the only setup step.
Kept apart from the rate-limit table, whose counts must not be culled with old pages."""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLE = "arkiv_page_cache"


def create(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_rate_limit_cache_table")]

    operations = [migrations.RunPython(create, drop)]
