"""The "Auditors" group: the audit pages, read-only (docs/admin.md)."""

from django.db import migrations

from worldservice.staff_groups import AUDITORS, ensure_group, remove_group

PERMISSIONS = ("worlds.view_worldauditlog",)


def create(apps, schema_editor):
    ensure_group(apps, AUDITORS, PERMISSIONS)


def remove(apps, schema_editor):
    remove_group(apps, AUDITORS)


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("worlds", "0004_world_change_review"),
    ]

    operations = [migrations.RunPython(create, remove)]
