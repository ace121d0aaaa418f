"""Indexes for a performer's page at a million releases: a performer has about 14,000
credits there, and counting their recordings read as many rows of the credit table
(160 ms); these answer the count and each "is this recording theirs?" check from the
index alone. Built concurrently on PostgreSQL, so a live shop keeps taking orders while
the 3 million credits are indexed."""

from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(migrations.AddIndex):
    """AddIndex, built with CREATE INDEX CONCURRENTLY on PostgreSQL (the migration is not
    atomic for that), plainly elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.add_index(model, self.index, concurrently=True)
            else:
                schema_editor.add_index(model, self.index)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.remove_index(model, self.index, concurrently=True)
            else:
                schema_editor.remove_index(model, self.index)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("catalog", "0011_import_preview_full_feed"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="credit",
            index=models.Index(fields=["artist", "role", "recording"], name="catalog_credit_artist_rec"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="credit",
            index=models.Index(fields=["recording", "artist", "role"], name="catalog_credit_rec_artist"),
        ),
    ]
