"""The five roles as groups. Their permissions are applied after every migrate from the tables
in each app's permissions.py (orgs.roles.sync_role_permissions)."""

from django.db import migrations

ROLES = ["clerk", "supervisor", "finance", "viewer", "admin"]


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.using(schema_editor.connection.alias).get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("orgs", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
