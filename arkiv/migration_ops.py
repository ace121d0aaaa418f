"""Operations the shop's migrations share: SQL for one database vendor only, and giving a
staff group more permissions with the historical models a data migration hands over."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


class VendorSQL(migrations.RunSQL):
    """RunSQL that runs only on one database vendor."""

    def __init__(self, vendor, sql, reverse_sql):
        super().__init__(sql, reverse_sql, elidable=False)
        self.vendor = vendor

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_backwards(app_label, schema_editor, from_state, to_state)


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
