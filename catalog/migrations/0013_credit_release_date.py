"""A performer's page walks their credits newest first: each credit gets its
recording's release date. The indexes it makes redundant go first, so that filling the
three million credits of a million-release catalog writes fewer index entries:

- catalog_credit_artist_role (artist, role) is the head of catalog_credit_artist_rec
  (artist, role, recording), which answers every query it did;
- the foreign-key indexes on recording and on artist are the heads of
  catalog_credit_rec_artist (recording, artist, role) and catalog_credit_artist_rec.

Indexes are dropped concurrently on PostgreSQL (the migration is not atomic for that);
the fill is one statement, a join of credits and recordings."""

from django.db import migrations, models


def _fk_index_names(schema_editor, model, column):
    """The single-column index Django made for a foreign key, whatever its hashed name."""
    return schema_editor._constraint_names(model, [column], index=True, primary_key=False, unique=False)


class DropForeignKeyIndex(migrations.operations.base.Operation):
    """A foreign key without its own index (db_index=False): the index is dropped
    concurrently on PostgreSQL, plainly elsewhere, and made again going backwards."""

    reduces_to_sql = False
    reversible = True

    def __init__(self, model_name, name):
        self.model_name, self.name = model_name, name

    def state_forwards(self, app_label, state):
        model_state = state.models[app_label, self.model_name]
        field = model_state.fields[self.name].clone()
        field.db_index = False
        state.alter_field(app_label, self.model_name, self.name, field, preserve_default=True)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        column = model._meta.get_field(self.name).column
        concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
        for name in _fk_index_names(schema_editor, model, column):
            schema_editor.execute(f"DROP INDEX{concurrently} IF EXISTS {schema_editor.quote_name(name)}")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        field = model._meta.get_field(self.name)
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))

    def describe(self):
        return f"Drop the own index of {self.model_name}.{self.name}"


class RemoveIndexConcurrentlyOnPostgres(migrations.RemoveIndex):
    """RemoveIndex, dropped with DROP INDEX CONCURRENTLY on PostgreSQL, plainly elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = from_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
            concurrently = schema_editor.connection.vendor == "postgresql"
            schema_editor.remove_index(model, index, **({"concurrently": True} if concurrently else {}))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = to_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
            concurrently = schema_editor.connection.vendor == "postgresql"
            schema_editor.add_index(model, index, **({"concurrently": True} if concurrently else {}))


def copy_release_dates(apps, schema_editor):
    Credit = apps.get_model("catalog", "Credit")
    Recording = apps.get_model("catalog", "Recording")
    credit, recording = Credit._meta.db_table, Recording._meta.db_table
    if schema_editor.connection.vendor == "postgresql":
        sql = (
            f"UPDATE {credit} c SET release_date = r.release_date"
            f" FROM {recording} r WHERE r.id = c.recording_id"
        )
    else:
        sql = (
            f"UPDATE {credit} SET release_date ="
            f" (SELECT release_date FROM {recording} r WHERE r.id = {credit}.recording_id)"
        )
    schema_editor.execute(sql)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("catalog", "0012_credit_artist_page_indexes"),
    ]

    operations = [
        RemoveIndexConcurrentlyOnPostgres(model_name="credit", name="catalog_credit_artist_role"),
        DropForeignKeyIndex(model_name="credit", name="recording"),
        DropForeignKeyIndex(model_name="credit", name="artist"),
        migrations.AddField(
            model_name="credit",
            name="release_date",
            field=models.DateField(editable=False, null=True),
        ),
        migrations.RunPython(copy_release_dates, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="credit",
            name="release_date",
            field=models.DateField(editable=False),
        ),
    ]
