"""Fulfilment staff, who ship (capture) and refund orders, see the invoices and credit
notes those actions issue, the VAT rates they were worked out with, and order lines."""

from django.db import migrations

from arkiv.migration_ops import grant, revoke

CODES = ["view_invoice", "view_invoiceline", "view_vatrate", "view_orderline"]



def forward(apps, schema_editor):
    grant(apps, "Fulfilment", "orders", CODES)


def backward(apps, schema_editor):
    revoke(apps, "Fulfilment", "orders", CODES)


class Migration(migrations.Migration):
    dependencies = [("orders", "0014_vat_rates_and_final_documents")]

    operations = [migrations.RunPython(forward, backward)]
