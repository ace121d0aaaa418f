"""Staff groups for the privacy work: the privacy officer handles the consent records and
the service@ queue and exports mailings; partner liaison sees postal campaigns' counts and
key codes only, never names or addresses."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PRIVACY_OFFICER = [
    ("privacy", "view_consentevent"), ("privacy", "view_consent"), ("privacy", "view_agedeclaration"),
    ("privacy", "view_suppression"), ("privacy", "view_optoutrequest"), ("privacy", "change_optoutrequest"),
    ("privacy", "add_policydocument"), ("privacy", "change_policydocument"), ("privacy", "view_policydocument"),
    ("privacy", "add_emailcampaign"), ("privacy", "change_emailcampaign"), ("privacy", "view_emailcampaign"),
    ("privacy", "add_postalcampaign"), ("privacy", "change_postalcampaign"), ("privacy", "view_postalcampaign"),
    ("privacy", "export_mailing"), ("privacy", "view_mailingexport"),
]
PARTNER_LIAISON = [("privacy", "view_postalcampaign")]


def forward(apps, schema_editor):
    for config in apps.get_app_configs():
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codes in (("Privacy officer", PRIVACY_OFFICER), ("Partner liaison", PARTNER_LIAISON)):
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in codes:
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def backward(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Privacy officer", "Partner liaison"]).delete()


class Migration(migrations.Migration):
    dependencies = [("privacy", "0004_optout_requests"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(forward, backward)]
