"""Reading one value out of a large JSON column in the database, not in Python.

An evaluation run stores its request and result as JSON documents that grow with the number of
strategies evaluated (megabytes for ten thousand). A read about one strategy selects only that
strategy's part, so neither the database nor the service ships or parses the rest.

Django's own key transforms read an all-digit key ("123") as an array index, and quote keys
into an SQLite JSON path, which cannot hold every character a strategy id may contain; this
expression takes any key.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.db import models
from django.db.models.expressions import Func
from django.db.models.sql.compiler import SQLCompiler

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# SQLite's json_each gives scalars as SQL values; turn each back into its JSON text.
_SQLITE_VALUE = (
    "CASE type WHEN 'object' THEN value WHEN 'array' THEN value WHEN 'true' THEN 'true' "
    "WHEN 'false' THEN 'false' WHEN 'null' THEN 'null' ELSE json_quote(value) END"
)


class JSONValueAt(Func):
    """The JSON value at `*parents, key` in the JSON column `column`; SQL NULL when absent.

    `parents` are keys the code names (plain identifiers); `key` may be any text, such as a
    strategy id sent by a client.
    """

    output_field = models.JSONField()

    def __init__(self, column: str, *parents: str, key: str) -> None:
        for parent in parents:
            if not _PLAIN_KEY.match(parent):
                raise ValueError(f"{parent!r} is not a plain key")
        super().__init__(models.F(column))
        self.parents = parents
        self.key = key

    def as_postgresql(
        self, compiler: SQLCompiler, connection: Any, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        column, params = compiler.compile(self.source_expressions[0])
        return f"({column} #> %s)", (*params, [*self.parents, self.key])

    def as_sqlite(
        self, compiler: SQLCompiler, connection: Any, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        column, params = compiler.compile(self.source_expressions[0])
        parent_path = "$" + "".join(f".{json.dumps(parent)}" for parent in self.parents)
        sql = f"(SELECT {_SQLITE_VALUE} FROM json_each({column}, %s) WHERE key = %s)"  # noqa: S608 - fixed SQL, values bound
        return sql, (*params, parent_path, self.key)
