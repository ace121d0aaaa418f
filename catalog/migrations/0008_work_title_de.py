import importlib

from django.db import migrations, models

fts = importlib.import_module("catalog.migrations.0004_sqlite_search_fts")


def restore_work_search_index(apps, schema_editor):
    """SQLite adds this column by rebuilding catalog_work, which drops the triggers that
    keep its full-text index (0004) in step: create them again and rebuild the index."""
    if schema_editor.connection.vendor == "sqlite":
        spec = next(spec for spec in fts.FTS_TABLES if spec[1] == "catalog_work")
        for statement in fts.statements(*spec):
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0007_release_search_vector"),
    ]

    operations = [
        migrations.AddField(
            model_name="work",
            name="title_de",
            field=models.CharField(
                blank=True,
                help_text="As German pages show it, e.g. Sinfonie Nr. 9 d-Moll op. 125. Leave empty to have it "
                "written from the English title (form, number, key and catalogue numbers in German).",
                max_length=300,
                verbose_name="German title",
            ),
        ),
        migrations.RunPython(restore_work_search_index, migrations.RunPython.noop),
    ]
