"""Read-only SQL over the tables the caller may read (DESIGN rule 2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from urbandata.audit.service import record
from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import guarded
from urbandata.catalog.rows import json_value
from urbandata.catalog.service import readable_sql_tables
from urbandata.catalog.sql_guard import check_sql
from urbandata.errors import InvalidInput
from urbandata.stores import Stores


@dataclass
class SqlAnswer:
    columns: list[str]
    rows: list[dict[str, Any]]
    truncated: bool
    tables: list[str]


@guarded("dataset.read")
def run_query(ctx: RequestContext, stores: Stores, sql: str, max_rows: int | None = None) -> SqlAnswer:
    settings = ctx.settings
    limit = min(max_rows or settings.sql_max_rows, settings.sql_max_rows)
    if limit < 1:
        raise InvalidInput("max_rows must be at least 1", parameter="max_rows")
    dialect = "duckdb" if stores.datastore.kind == "duckdb" else "postgres"
    checked = check_sql(sql, dialect)
    readable = {t.sql_table.lower(): t for t in readable_sql_tables(ctx, stores, sorted(checked.tables))}
    unknown = sorted(checked.tables - set(readable))
    if unknown:
        # tables the actor may not read are reported exactly like tables that do not exist
        raise InvalidInput(
            f"Unknown table {unknown[0]!r}. GET /api/v1/sql/tables lists the tables you can query.",
            code="unknown_table",
            parameter="q",
            table=unknown[0],
        )
    hidden = [t.sql_table for t in readable.values() if t.access_level != "public"]
    if hidden and ctx.actor.kind != "system":
        record(ctx, stores.engine, "data.sql", "sql", ",".join(sorted(hidden)), details={"q": sql[:2000]})
    result = stores.datastore.run_sql(
        checked.sql,
        {t.sql_table: (t.table_ref, t.columns) for t in readable.values()},
        limit,
        settings.sql_timeout_seconds,
    )
    names = _unique(result.columns)
    rows = [{n: json_value(v, "") for n, v in zip(names, r, strict=True)} for r in result.rows]
    return SqlAnswer(columns=names, rows=rows, truncated=result.truncated, tables=sorted(readable))


def _unique(columns: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for c in columns:
        n = seen.get(c, 0)
        seen[c] = n + 1
        out.append(c if n == 0 else f"{c}_{n + 1}")
    return out
