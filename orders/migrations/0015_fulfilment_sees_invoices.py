"""Fulfilment staff, who ship (capture) and refund orders, see the invoices and credit
notes those actions issue, the VAT rates they were worked out with, and order lines."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODES = ["view_invoice", "view_invoiceline", "view_vatrate", "view_orderline"]


def forward(apps, schema_editor):
    config = apps.get_app_config("orders")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.filter(name="Fulfilment").first()
    if group is not None:
        group.permissions.add(*Permission.objects.filter(content_type__app_label="orders", codename__in=CODES))


def backward(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.filter(name="Fulfilment").first()
    if group is not None:
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="orders", codename__in=CODES))


class Migration(migrations.Migration):
    dependencies = [("orders", "0014_vat_rates_and_final_documents")]

    operations = [migrations.RunPython(forward, backward)]
