"""Fulfilment staff see returns and mark them received (refunding needs refund_order,
which the group already has)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODES = ["view_returnrequest", "change_returnrequest"]


def forward(apps, schema_editor):
    config = apps.get_app_config("orders")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Fulfilment").first()
    if group is not None:
        group.permissions.add(*Permission.objects.filter(content_type__app_label="orders", codename__in=CODES))


def backward(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.filter(name="Fulfilment").first()
    if group is not None:
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="orders", codename__in=CODES))


class Migration(migrations.Migration):
    dependencies = [("orders", "0007_wishlist_and_returns")]

    operations = [migrations.RunPython(forward, backward)]
