"""Today's standard VAT rates for the shop's country and the 27 EU members, and the
database's refusal to change an issued invoice or credit note.

The rates are copied, not imported from orders.vat, so this migration keeps saying what
it said when the code's list moves on.

Triggers, as in privacy's 0007_records_are_final: SQLite refuses updates (deletes are
refused by the models; SQLite's flush deletes row by row). PostgreSQL refuses updates,
and deletes of a document (or its lines) before its retention date has passed."""

import datetime

from django.db import migrations

from arkiv.migration_ops import VendorSQL

RATES = {
    "GB": "20", "AT": "20", "BE": "21", "BG": "20", "CY": "19", "CZ": "21", "DE": "19", "DK": "25",
    "EE": "24", "ES": "21", "FI": "25.5", "FR": "20", "GR": "24", "HR": "25", "HU": "27", "IE": "23",
    "IT": "22", "LT": "21", "LU": "17", "LV": "21", "MT": "18", "NL": "21", "PL": "23", "PT": "23",
    "RO": "21", "SE": "25", "SI": "22", "SK": "23",
}  # fmt: skip
# The rates in force when the table was made, entered as applying since 2000 so that an
# order placed before then still finds one; staff add a row for any period that differed.
SINCE = datetime.date(2000, 1, 1)


def add_rates(apps, schema_editor):
    VatRate = apps.get_model("orders", "VatRate")
    for country, rate in RATES.items():
        VatRate.objects.get_or_create(country=country, valid_from=SINCE, defaults={"rate": rate})


def remove_rates(apps, schema_editor):
    apps.get_model("orders", "VatRate").objects.filter(valid_from=SINCE, country__in=RATES).delete()


SQLITE = [
    """CREATE TRIGGER orders_invoice_final BEFORE UPDATE ON orders_invoice
    BEGIN SELECT RAISE(ABORT, 'An issued invoice or credit note never changes.'); END""",
    """CREATE TRIGGER orders_invoiceline_final BEFORE UPDATE ON orders_invoiceline
    BEGIN SELECT RAISE(ABORT, 'An issued invoice or credit note never changes.'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS orders_invoice_final",
    "DROP TRIGGER IF EXISTS orders_invoiceline_final",
]
# The purge says which day it purges for (orders.privacy_data.purge sets arkiv.today for its
# transaction: the shop's local date, which near midnight is not the database's UTC one);
# any other delete is judged by the database's own date.
TODAY = "COALESCE(NULLIF(current_setting('arkiv.today', true), '')::date, CURRENT_DATE)"
PG_REFUSE = "RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation';"
POSTGRESQL = [
    f"""CREATE FUNCTION orders_invoice_final() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND OLD.retain_until < {TODAY} THEN RETURN OLD; END IF;
        {PG_REFUSE.format(message="An issued invoice or credit note never changes and is kept until its retention date.")}
    END $$""",
    """CREATE TRIGGER orders_invoice_final BEFORE UPDATE OR DELETE ON orders_invoice
    FOR EACH ROW EXECUTE FUNCTION orders_invoice_final()""",
    f"""CREATE FUNCTION orders_invoiceline_final() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND (SELECT retain_until FROM orders_invoice WHERE id = OLD.invoice_id) < {TODAY}
        THEN RETURN OLD; END IF;
        {PG_REFUSE.format(message="An issued invoice or credit note never changes and is kept until its retention date.")}
    END $$""",
    """CREATE TRIGGER orders_invoiceline_final BEFORE UPDATE OR DELETE ON orders_invoiceline
    FOR EACH ROW EXECUTE FUNCTION orders_invoiceline_final()""",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS orders_invoice_final ON orders_invoice",
    "DROP FUNCTION IF EXISTS orders_invoice_final()",
    "DROP TRIGGER IF EXISTS orders_invoiceline_final ON orders_invoiceline",
    "DROP FUNCTION IF EXISTS orders_invoiceline_final()",
]


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0013_vat_and_invoices"),
    ]

    operations = [
        migrations.RunPython(add_rates, remove_rates),
        VendorSQL("sqlite", SQLITE, SQLITE_REVERSE),
        VendorSQL("postgresql", POSTGRESQL, POSTGRESQL_REVERSE),
    ]
