"""Make the audit table append-only in the database itself.

Triggers refuse UPDATE and DELETE on every row, whoever connects. PostgreSQL and SQLite each get
their own trigger; a database owner can still drop a trigger, which is why rows also carry a
hash chain (`/audit/verify`).
"""

from django.db import migrations

POSTGRES_INSTALL = """
CREATE OR REPLACE FUNCTION worlds_audit_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'worlds_worldauditlog is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER worlds_audit_append_only
    BEFORE UPDATE OR DELETE ON worlds_worldauditlog
    FOR EACH ROW EXECUTE FUNCTION worlds_audit_refuse_change();
"""
POSTGRES_REMOVE = """
DROP TRIGGER IF EXISTS worlds_audit_append_only ON worlds_worldauditlog;
DROP FUNCTION IF EXISTS worlds_audit_refuse_change();
"""
SQLITE_INSTALL = [
    """
    CREATE TRIGGER worlds_audit_no_update BEFORE UPDATE ON worlds_worldauditlog
    BEGIN SELECT RAISE(ABORT, 'worlds_worldauditlog is append-only: UPDATE refused'); END;
    """,
    """
    CREATE TRIGGER worlds_audit_no_delete BEFORE DELETE ON worlds_worldauditlog
    BEGIN SELECT RAISE(ABORT, 'worlds_worldauditlog is append-only: DELETE refused'); END;
    """,
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS worlds_audit_no_update;",
    "DROP TRIGGER IF EXISTS worlds_audit_no_delete;",
]


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_INSTALL, None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_INSTALL:
            schema_editor.execute(statement)
    else:
        raise RuntimeError(f"no append-only trigger for {schema_editor.connection.vendor}")


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_REMOVE, None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_REMOVE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("worlds", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
