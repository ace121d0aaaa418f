"""Catalog editors, who already add and change releases and offers, see the import runs:
the list, the "Import a catalog file" page and the undo of the last import."""

from django.db import migrations

from arkiv.migration_ops import grant, revoke

CODES = ["view_importrun"]



def forward(apps, schema_editor):
    grant(apps, "Catalog editors", "catalog", CODES)


def backward(apps, schema_editor):
    revoke(apps, "Catalog editors", "catalog", CODES)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0009_import_runs"), ("orders", "0002_staff_groups")]

    operations = [migrations.RunPython(forward, backward)]
