"""The "Risk staff" group: write drafts and review other people's versions (docs/admin.md)."""

from django.db import migrations

from worldservice.staff_groups import RISK_STAFF, ensure_group, remove_group

PERMISSIONS = (
    "policies.view_worldpolicy",
    "policies.add_worldpolicy",
    "policies.approve_worldpolicy",
    "worlds.view_world",
)


def create(apps, schema_editor):
    ensure_group(apps, RISK_STAFF, PERMISSIONS)


def remove(apps, schema_editor):
    remove_group(apps, RISK_STAFF)


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("policies", "0007_evaluation_run_as_of_required"),
        ("worlds", "0003_world_approver_permission"),
    ]

    operations = [migrations.RunPython(create, remove)]
