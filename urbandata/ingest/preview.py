"""The first rows of a staged table, for reviewing an upload's inferred schema before it is loaded."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import duckdb

from urbandata.datastore.base import StagedTable
from urbandata.datastore.sql import quote_ident


def _plain(value: Any) -> Any:
    """A JSON-friendly form of a cell: numbers and booleans stay, dates become ISO text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value)


def sample_rows(staged: StagedTable, limit: int = 5) -> list[dict[str, Any]]:
    """Up to `limit` rows of the staged table, in file order, keyed by column name."""
    names = [c.name for c in staged.columns]
    cols = ", ".join(quote_ident(n) for n in names)
    con = duckdb.connect(str(staged.path), read_only=True)
    try:
        rows = con.execute(f"SELECT {cols} FROM data LIMIT {int(limit)}").fetchall()
    finally:
        con.close()
    return [{n: _plain(v) for n, v in zip(names, row, strict=True)} for row in rows]
