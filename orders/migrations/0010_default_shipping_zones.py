"""The shipping zones and rates the shop starts with, at the prices charged before zones
existed (standard 4.95, free from 60.00; express 12.95) for the shop's own country and
the EU, and dearer ones for the rest of the world. Fulfilment staff edit them in the admin."""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations

EU = ["AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
      "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"]
TODAY = [("standard", "4.95", "60.00"), ("express", "12.95", None)]
REST_OF_WORLD = [("standard", "14.95", None), ("express", "29.95", None)]
CODES = [f"{verb}_{model}" for model in ("shippingzone", "shippingrate") for verb in ("add", "change", "delete", "view")]


def forward(apps, schema_editor):
    ShippingZone = apps.get_model("orders", "ShippingZone")
    ShippingRate = apps.get_model("orders", "ShippingRate")
    home = settings.ARKIV_SHOP_COUNTRY
    zones = [
        ("Domestic", [home], False, TODAY),
        ("European Union", [code for code in EU if code != home], False, TODAY),
        ("Rest of the world", [], True, REST_OF_WORLD),
    ]
    for position, (name, countries, rest_of_world, rates) in enumerate(zones):
        if ShippingZone.objects.filter(name=name).exists():
            continue
        zone = ShippingZone.objects.create(
            name=name, countries=countries, rest_of_world=rest_of_world, position=position
        )
        for method, price, free_from in rates:
            ShippingRate.objects.create(
                zone=zone, method=method, price=Decimal(price), free_from=Decimal(free_from) if free_from else None
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
