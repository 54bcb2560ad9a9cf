"""A version records the preset it was made from (name, mode, version label, overrides).

They are part of the version's content, so the database refuses edits to them too.
"""

from django.db import migrations, models

from worldservice.db_triggers import drop_triggers, install_frozen_columns

TABLE = "policies_worldpolicy"
FROZEN_BEFORE = ["world_id", "version", "yaml", "document", "checksum", "created_by_id", "created_at"]
FROZEN = [*FROZEN_BEFORE, "preset", "preset_mode", "preset_version", "preset_overrides"]


def freeze_preset_columns(apps, schema_editor):
    drop_triggers(schema_editor, TABLE)
    install_frozen_columns(schema_editor, TABLE, FROZEN)


def unfreeze_preset_columns(apps, schema_editor):
    drop_triggers(schema_editor, TABLE)
    install_frozen_columns(schema_editor, TABLE, FROZEN_BEFORE)


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0004_history_reported_updated_at_and_execution_domain"),
    ]

    operations = [
        migrations.AddField(
            model_name="worldpolicy",
            name="preset",
            field=models.CharField(
                blank=True, help_text="The preset's name.", max_length=64, null=True
            ),
        ),
        migrations.AddField(
            model_name="worldpolicy",
            name="preset_mode",
            field=models.CharField(
                blank=True,
                choices=[("shared", "Shared"), ("clone", "Clone"), ("extend", "Extend")],
                help_text="How the client applied the preset (metadata only).",
                max_length=8,
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="worldpolicy",
            name="preset_overrides",
            field=models.JSONField(
                blank=True, help_text="The overrides applied to the preset, as sent.", null=True
            ),
        ),
        migrations.AddField(
            model_name="worldpolicy",
            name="preset_version",
            field=models.CharField(
                blank=True,
                help_text="The client's version label of the preset (metadata only).",
                max_length=64,
                null=True,
            ),
        ),
        migrations.RunPython(freeze_preset_columns, unfreeze_preset_columns),
    ]
