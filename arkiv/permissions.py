"""Giving a staff group more permissions from a data migration, with the historical models
the migration hands over."""

from django.contrib.auth.management import create_permissions


def grant(apps, group_name, app_label, codenames):
    """Add the app's permissions named by codenames to the group, if the group exists
    (creating the permissions first: they are made after migrations otherwise)."""
    config = apps.get_app_config(app_label)
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    group = apps.get_model("auth", "Group").objects.filter(name=group_name).first()
    if group is not None:
        permissions = apps.get_model("auth", "Permission").objects.filter(
            content_type__app_label=app_label, codename__in=codenames
        )
        group.permissions.add(*permissions)


def revoke(apps, group_name, app_label, codenames):
    group = apps.get_model("auth", "Group").objects.filter(name=group_name).first()
    if group is not None:
        permissions = apps.get_model("auth", "Permission").objects.filter(
            content_type__app_label=app_label, codename__in=codenames
        )
        group.permissions.remove(*permissions)
