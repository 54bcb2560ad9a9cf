"""SQL for triggers that make rows (or columns) immutable, on PostgreSQL and SQLite.

Used by migrations: the database itself refuses the change, whoever connects.
"""

from __future__ import annotations

from typing import Any


def _pg_function(name: str, message: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{message}: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def install_append_only(schema_editor: Any, table: str) -> None:
    """Refuse every UPDATE and DELETE on `table`."""
    message = f"{table} is append-only"
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            _pg_function(f"{table}_refuse_change", message)
            + f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_refuse_change();",
            None,
        )
        return
    _require_sqlite(schema_editor)
    for operation in ("UPDATE", "DELETE"):
        schema_editor.execute(
            f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}: {operation} refused'); END;"
        )


def install_frozen_columns(schema_editor: Any, table: str, columns: list[str]) -> None:
    """Refuse UPDATEs that change any of `columns` (other columns stay writable)."""
    message = f"{table} columns {', '.join(columns)} are immutable"
    if schema_editor.connection.vendor == "postgresql":
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
        schema_editor.execute(
            _pg_function(f"{table}_refuse_edit", message)
            + f"CREATE TRIGGER {table}_frozen BEFORE UPDATE ON {table} FOR EACH ROW "
            f"WHEN ({changed}) EXECUTE FUNCTION {table}_refuse_edit();",
            None,
        )
        return
    _require_sqlite(schema_editor)
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
    schema_editor.execute(
        f"CREATE TRIGGER {table}_frozen BEFORE UPDATE ON {table} WHEN ({changed}) "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END;"
    )


def drop_triggers(schema_editor: Any, table: str) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for trigger in ("append_only", "frozen"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_{trigger} ON {table};", None)
        for function in ("refuse_change", "refuse_edit"):
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_{function}();", None)
        return
    for trigger in ("no_update", "no_delete", "frozen"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_{trigger};")


def _require_sqlite(schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "sqlite":
        raise RuntimeError(f"no immutability trigger for {schema_editor.connection.vendor}")
