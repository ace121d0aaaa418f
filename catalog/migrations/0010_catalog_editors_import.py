"""Catalog editors, who already add and change releases and offers, see the import runs:
the list, the "Import a catalog file" page and the undo of the last import."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODES = ["view_importrun"]


def forward(apps, schema_editor):
    config = apps.get_app_config("catalog")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.filter(name="Catalog editors").first()
    if group is not None:
        group.permissions.add(*Permission.objects.filter(content_type__app_label="catalog", codename__in=CODES))


def backward(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.filter(name="Catalog editors").first()
    if group is not None:
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="catalog", codename__in=CODES))


class Migration(migrations.Migration):
    dependencies = [("catalog", "0009_import_runs"), ("orders", "0002_staff_groups")]

    operations = [migrations.RunPython(forward, backward)]
