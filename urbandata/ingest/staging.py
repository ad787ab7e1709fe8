"""Rows of Python values -> a staging table in DuckDB, written in bounded batches, native types kept.

Readers that parse a file in Python (Excel, GeoJSON) hand their rows to a `StagingWriter`. Each cell is
stored as canonical text while the writer records which kinds of value every column holds; the view
built at the end casts a column back to its engine type when all its values are of one kind (integers,
numbers, booleans, dates, datetimes, times). Mixed and text columns stay VARCHAR, so the shared text
inference decides (German numbers in text cells); nested values (objects, lists) become JSON text.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa

from urbandata.datastore.sql import quote_ident

BATCH_ROWS = 10_000
BATCH_CELLS = 1_000_000
_INT64 = 2**63
_EXACT_FLOAT_INT = 2**53


def _timedelta_text(td: dt.timedelta) -> str:
    seconds = int(td.total_seconds())
    sign = "-" if seconds < 0 else ""
    h, rest = divmod(abs(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h}:{m:02d}:{s:02d}"


def to_text(value: Any, missing: Collection[str]) -> tuple[str | None, str | None]:
    """(canonical text, kind) of one cell; kind None means the cell says nothing about the column type."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return ("true" if value else "false"), "bool"
    if isinstance(value, int):
        return str(value), ("int" if -_INT64 <= value < _INT64 else "text")
    if isinstance(value, float | Decimal):
        f = float(value)
        if math.isnan(f) or math.isinf(f):
            return None, None
        if f.is_integer() and abs(f) < _EXACT_FLOAT_INT:
            return str(int(f)), "int"
        return repr(f), "float"
    if isinstance(value, str):
        return value, (None if value.strip() in missing else "text")
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        if value.time() == dt.time(0, 0):
            return value.date().isoformat(), "date"
        return value.isoformat(sep=" "), "datetime"
    if isinstance(value, dt.date):
        return value.isoformat(), "date"
    if isinstance(value, dt.time):
        return value.replace(tzinfo=None).isoformat(), "time"
    if isinstance(value, dt.timedelta):
        return _timedelta_text(value), "text"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str), "json"
    return str(value), "text"


def engine_type(kinds: set[str]) -> str:
    """The engine type a column keeps, given the kinds of its values."""
    if not kinds:
        return "VARCHAR"
    if kinds == {"int"}:
        return "BIGINT"
    if kinds <= {"int", "float"}:
        return "DOUBLE"
    if kinds == {"bool"}:
        return "BOOLEAN"
    if kinds == {"date"}:
        return "DATE"
    if kinds <= {"date", "datetime"}:
        return "TIMESTAMP"
    if kinds == {"time"}:
        return "TIME"
    if kinds == {"json"}:
        return "JSON"
    return "VARCHAR"


class StagingWriter:
    """Appends rows to table `table` in `con`; columns can be added while writing (GeoJSON properties)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, table: str, missing: Collection[str]) -> None:
        self.con = con
        self.table = table
        self.missing = frozenset(m.strip() for m in missing)
        self.kinds: list[set[str]] = []
        self.rows_written = 0
        self.rows_appended = 0
        self._rows: list[list[str | None]] = []
        self._created = 0  # columns that exist in the engine table
        self._table_exists = False

    @property
    def width(self) -> int:
        return len(self.kinds)

    def add_columns(self, n: int = 1) -> int:
        """Add `n` columns; returns the index of the first new one."""
        first = len(self.kinds)
        self.kinds.extend(set() for _ in range(n))
        return first

    def append(self, values: Sequence[Any]) -> None:
        if len(values) > len(self.kinds):
            raise ValueError("row wider than the staging table")
        row: list[str | None] = []
        for j, v in enumerate(values):
            text, kind = to_text(v, self.missing)
            if kind is not None:
                self.kinds[j].add(kind)
            row.append(text)
        self._rows.append(row)
        self.rows_appended += 1
        if len(self._rows) >= max(100, min(BATCH_ROWS, BATCH_CELLS // max(1, self.width))):
            self.flush()

    def _ensure_table(self) -> None:
        width = max(1, self.width)
        if not self._table_exists:
            cols = ", ".join(f"c{j} VARCHAR" for j in range(width))
            self.con.execute(f"CREATE OR REPLACE TABLE {self.table} ({cols})")
            self._table_exists = True
            self._created = width
        for j in range(self._created, width):
            self.con.execute(f"ALTER TABLE {self.table} ADD COLUMN c{j} VARCHAR")
        self._created = max(self._created, width)

    def flush(self) -> None:
        self._ensure_table()
        if not self._rows:
            return
        width = self._created
        arrays = [pa.array([r[j] if j < len(r) else None for r in self._rows], pa.string()) for j in range(width)]
        batch = pa.Table.from_arrays(arrays, names=[f"c{j}" for j in range(width)])
        self.con.register("__staging_batch", batch)
        try:
            self.con.execute(f"INSERT INTO {self.table} SELECT * FROM __staging_batch")
        finally:
            self.con.unregister("__staging_batch")
        self.rows_written += len(self._rows)
        self._rows = []

    def create_view(self, view: str, columns: Sequence[tuple[int, str, str | None]]) -> list[str]:
        """CREATE VIEW `view` with (column index, output name, forced raw type or None); return raw types."""
        self.flush()
        selects: list[str] = []
        raw_types: list[str] = []
        for j, name, forced in columns:
            ref = f"c{j}"
            raw = forced or engine_type(self.kinds[j])
            # missing markers ('-', 'k.A.') in an otherwise numeric/date column become NULL in the TRY_CAST
            expr = ref if raw in ("VARCHAR", "JSON", "GEOJSON") else f"TRY_CAST({ref} AS {raw})"
            selects.append(f"{expr} AS {quote_ident(name)}")
            raw_types.append(raw)
        self.con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT {', '.join(selects)} FROM {self.table}")
        return raw_types
