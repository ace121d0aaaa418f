"""Staff groups with least privilege: fulfilment staff work orders but do not edit the
catalog; catalog editors edit the catalog but never see customers or their addresses."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

FULFILMENT = [
    ("orders", "view_order"), ("orders", "change_order"), ("orders", "ship_order"), ("orders", "cancel_order"),
    ("orders", "refund_order"), ("orders", "view_paymentevent"),
    ("catalog", "view_release"), ("catalog", "view_offer"),
]
CATALOG_MODELS = ["composer", "composeralias", "work", "cataloguenumber", "movement", "artist", "label", "release",
                  "recording", "credit", "track", "offer"]
CATALOG_EDITORS = [("catalog", f"{verb}_{model}") for model in CATALOG_MODELS for verb in ("add", "change", "delete", "view")]


def forward(apps, schema_editor):
    for config in apps.get_app_configs():
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codes in (("Fulfilment", FULFILMENT), ("Catalog editors", CATALOG_EDITORS)):
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in codes:
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def backward(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Fulfilment", "Catalog editors"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
        ("catalog", "0003_release_list_indexes"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forward, backward)]
