"""The table of the "shared" cache (arkiv.cache.CountingDatabaseCache) used when no
Redis is configured: created here so that `migrate` is the only setup step."""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLE = "arkiv_rate_limits"


def create(apps, schema_editor):
    # Creates the table only if it is missing, with the columns Django's DatabaseCache expects.
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_email_links")]

    operations = [migrations.RunPython(create, drop)]
