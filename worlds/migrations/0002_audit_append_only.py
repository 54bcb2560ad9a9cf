"""Make the audit table append-only in the database itself.

Triggers refuse UPDATE and DELETE on every row, whoever connects. A database owner can still
drop a trigger, which is why rows also carry a hash chain (`/audit/verify`).
"""

from django.db import migrations

from worldservice.db_triggers import drop_triggers, install_append_only

TABLE = "worlds_worldauditlog"


def install(apps, schema_editor):
    install_append_only(schema_editor, TABLE)


def remove(apps, schema_editor):
    drop_triggers(schema_editor, TABLE)


class Migration(migrations.Migration):
    dependencies = [("worlds", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
