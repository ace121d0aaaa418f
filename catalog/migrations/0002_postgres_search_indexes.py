"""PostgreSQL only: full-text and trigram indexes for catalog search. SQLite has no
equivalent and searches with plain LIKE, so there this migration does nothing."""

from django.db import migrations

# The expressions match what django.contrib.postgres.search.SearchVector emits, so the
# planner uses these indexes for search queries.
FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS catalog_work_fts ON catalog_work "
    "USING gin (to_tsvector('simple'::regconfig, COALESCE(search_text, '')))",
    "CREATE INDEX IF NOT EXISTS catalog_release_fts ON catalog_release "
    "USING gin (to_tsvector('simple'::regconfig, COALESCE(search_text, '')))",
    "CREATE INDEX IF NOT EXISTS catalog_searchterm_trgm ON catalog_searchterm USING gin (word gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS catalog_artist_trgm ON catalog_artist USING gin (search_text gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS catalog_work_fts",
    "DROP INDEX IF EXISTS catalog_release_fts",
    "DROP INDEX IF EXISTS catalog_searchterm_trgm",
    "DROP INDEX IF EXISTS catalog_artist_trgm",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
