"""The default shipping zones and rates (orders/shipping_defaults.py), and Fulfilment
staff may edit zones and rates."""

from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations

from orders.shipping_defaults import create_default_zones

CODES = [f"{verb}_{model}" for model in ("shippingzone", "shippingrate") for verb in ("add", "change", "delete", "view")]


def forward(apps, schema_editor):
    create_default_zones(
        apps.get_model("orders", "ShippingZone"), apps.get_model("orders", "ShippingRate"), settings.ARKIV_SHOP_COUNTRY
    )
    config = apps.get_app_config("orders")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    group = apps.get_model("auth", "Group").objects.filter(name="Fulfilment").first()
    if group is not None:
        Permission = apps.get_model("auth", "Permission")
        group.permissions.add(*Permission.objects.filter(content_type__app_label="orders", codename__in=CODES))


def backward(apps, schema_editor):
    apps.get_model("orders", "ShippingZone").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("orders", "0009_shipping_zones_and_regions")]

    operations = [migrations.RunPython(forward, backward)]
