"""The shipping zones and rates a new shop starts with: the shop's own country and the EU
at the prices charged before zones existed (standard 4.95, free from 60.00; express
12.95), the rest of the world dearer. Fulfilment staff change them in the admin.

Used by the data migration that introduced zones, with its historical models, so it
takes the model classes as arguments and reads nothing else of the app."""

from decimal import Decimal

EU = ["AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU"]
EU += ["LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"]
BEFORE_ZONES = [("standard", "4.95", "60.00"), ("express", "12.95", None)]
REST_OF_WORLD = [("standard", "14.95", None), ("express", "29.95", None)]
GERMAN_NAMES = {"Domestic": "Inland", "European Union": "Europäische Union", "Rest of the world": "Übrige Welt"}


def create_default_zones(zone_model, rate_model, home):
    """Create the three default zones for a shop in country `home`; a zone whose name
    exists already is left as it is."""
    zones = [
        ("Domestic", [home], False, BEFORE_ZONES),
        ("European Union", [code for code in EU if code != home], False, BEFORE_ZONES),
        ("Rest of the world", [], True, REST_OF_WORLD),
    ]
    # German names, once zones have them (the migration that created zones ran before).
    named = any(field.name == "name_de" for field in zone_model._meta.get_fields())
    for position, (name, countries, rest_of_world, rates) in enumerate(zones):
        if zone_model.objects.filter(name=name).exists():
            continue
        extra = {"name_de": GERMAN_NAMES[name]} if named else {}
        zone = zone_model.objects.create(
            name=name, countries=countries, rest_of_world=rest_of_world, position=position, **extra
        )
        for method, price, free_from in rates:
            rate_model.objects.create(
                zone=zone, method=method, price=Decimal(price), free_from=Decimal(free_from) if free_from else None
            )
