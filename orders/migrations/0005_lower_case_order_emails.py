"""Order emails are stored lower-case from now on (the checkout form normalises them);
bring older rows in line so matching by address finds them."""

from django.db import migrations
from django.db.models.functions import Lower


def lower_case_order_emails(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    Order.objects.exclude(email=Lower("email")).update(email=Lower("email"))


class Migration(migrations.Migration):
    dependencies = [("orders", "0004_erasure_and_retention")]

    operations = [migrations.RunPython(lower_case_order_emails, migrations.RunPython.noop)]
