"""Shipping zones get a German name for the German shipping page; the default zones are
named in German, a zone staff named themselves is left for them to name."""

from django.db import migrations, models

from orders.shipping_defaults import GERMAN_NAMES


def forward(apps, schema_editor):
    ShippingZone = apps.get_model("orders", "ShippingZone")
    for name, german in GERMAN_NAMES.items():
        ShippingZone.objects.filter(name=name, name_de="").update(name_de=german)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0011_order_language"),
    ]

    operations = [
        migrations.AddField(
            model_name="shippingzone",
            name="name_de",
            field=models.CharField(
                blank=True,
                help_text="The name on German pages; blank shows the name above.",
                max_length=100,
                verbose_name="German name",
            ),
        ),
        migrations.RunPython(forward, migrations.RunPython.noop),
    ]
