"""A stored policy version never changes its content; a change is a new version.

Reviews are history too: the database refuses to edit or delete them.
"""

from django.db import migrations

from worldservice.db_triggers import drop_triggers, install_append_only, install_frozen_columns

TABLE = "policies_worldpolicy"
REVIEWS = "policies_policyapproval"
FROZEN = ["world_id", "version", "yaml", "document", "checksum", "created_by_id", "created_at"]


def install(apps, schema_editor):
    install_frozen_columns(schema_editor, TABLE, FROZEN)
    install_append_only(schema_editor, REVIEWS)


def remove(apps, schema_editor):
    drop_triggers(schema_editor, TABLE)
    drop_triggers(schema_editor, REVIEWS)


class Migration(migrations.Migration):
    dependencies = [("policies", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
