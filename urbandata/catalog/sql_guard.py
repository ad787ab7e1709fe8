"""Read-only SQL, checked with a real SQL parser (sqlglot) before any engine sees it.

One statement, a query (SELECT / set operation / WITH), no data changes or DDL anywhere in the tree,
no table functions (files, other queries), no functions that reach outside the data, and only table
names that the caller may read. The engines add a second wall (DESIGN rule 2).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError

from urbandata.errors import InvalidInput

_FORBIDDEN_NODES: tuple[type[exp.Expression], ...] = tuple(
    getattr(exp, name)
    for name in (
        "DML",
        "DDL",
        "Insert",
        "Update",
        "Delete",
        "Merge",
        "Create",
        "Drop",
        "Alter",
        "Copy",
        "Attach",
        "Detach",
        "Command",
        "Pragma",
        "Set",
        "Install",
        "Use",
        "Transaction",
        "Commit",
        "Rollback",
        "Into",
        "Lock",
        "LoadData",
        "Grant",
        "Revoke",
        "Describe",
        "Summarize",
        "Analyze",
        "Export",
        "Refresh",
    )
    if hasattr(exp, name)
)
_DENIED_PREFIXES = (
    "pg_",
    "lo_",
    "dblink",
    "current_setting",
    "set_config",
    "getvariable",
    "query",
    "read_",
    "glob",
    "sniff_",
    "parquet_",
    "duckdb_",
    "pragma_",
    "which_secret",
    "txid",
    "inet_",
    "file_",
    "copy",
    "load",
    "install",
    "getenv",
    "sleep",
    "system",
    "version",
    "current_user",
    "session_user",
    "user",
    "table_to_",
    "cursor_to_",
    "schema_to_",
    "database_to_",
    "ts_stat",
    "xpath",
    "xmlparse",
    "has_",
    "to_reg",
    "obj_description",
    "col_description",
    "set_",
    "row_security",
    "gen_random",
    "nextval",
    "setval",
    "currval",
    "lastval",
)


@dataclass(frozen=True)
class CheckedSql:
    sql: str
    tables: frozenset[str]


def _reject(message: str, **details: object) -> InvalidInput:
    return InvalidInput(message, code="forbidden_sql", parameter="q", **details)


def check_sql(sql: str, dialect: str) -> CheckedSql:
    """Parse and check a query; return it with the table names it reads."""
    if not sql or not sql.strip():
        raise InvalidInput("Empty query", code="invalid_sql", parameter="q")
    if len(sql) > 20000:
        raise InvalidInput("Query too long (at most 20,000 characters)", code="invalid_sql", parameter="q")
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except ParseError as exc:
        err = exc.errors[0] if exc.errors else {}
        raise InvalidInput(
            f"SQL syntax error: {err.get('description', str(exc))[:200]}",
            code="invalid_sql",
            parameter="q",
            line=err.get("line"),
            column=err.get("col"),
        ) from None
    except SqlglotError as exc:  # tokenizer errors: unterminated strings and the like
        raise InvalidInput(f"SQL syntax error: {str(exc)[:200]}", code="invalid_sql", parameter="q") from None
    if len(statements) != 1:
        raise _reject("Exactly one statement, please (no ';'-separated statements).")
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise _reject(f"Only read-only queries (SELECT) are allowed, not {tree.key.upper()}.")
    cte_names = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    tables: set[str] = set()
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise _reject(f"Only read-only queries are allowed; {node.key.upper()} is forbidden.")
        if isinstance(node, exp.Table):
            if not isinstance(node.this, exp.Identifier):
                raise _reject("Table functions (files, other queries) are not allowed.", function=node.this.sql()[:80])
            if node.args.get("db") or node.args.get("catalog"):
                raise _reject(f"Unknown table {node.sql()[:80]!r}; use the table names of the catalog (sql_table).")
            name = node.name.lower()
            if name not in cte_names:
                tables.add(name)
        elif isinstance(node, exp.Anonymous):
            fname = node.name.lower()
            if fname.startswith(_DENIED_PREFIXES):
                raise _reject(f"Function {node.name}() is not allowed.", function=node.name)
        elif isinstance(node, exp.Func) and type(node).__name__.startswith("Read"):
            raise _reject("Reading files is not allowed.", function=type(node).__name__)
    return CheckedSql(sql=tree.sql(dialect=dialect), tables=frozenset(tables))
