"""Parquet reader: DuckDB's `read_parquet`, native column types kept.

Numbers, booleans, dates, times and timestamps stay as they are (timestamps with time zone in UTC);
nested columns (structs, lists, maps) become JSON text of type string; binary columns become base64
text. Text columns go through the shared inference like every other text column.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb

from urbandata.datastore.sql import quote_ident
from urbandata.errors import IngestError
from urbandata.ingest.convert import lit
from urbandata.ingest.detect import Fingerprint
from urbandata.ingest.sources import RawColumn, RawSource, clean_names
from urbandata.ingest.tableschema import DEFAULT_MISSING

_NESTED = re.compile(r"^(STRUCT|MAP|UNION)\(|\[\d*\]$")


def _column(ref: str, duck_type: str) -> tuple[str, str]:
    """(select expression, raw type) for one Parquet column."""
    t = duck_type.upper()
    if _NESTED.search(t):
        return f"CAST(to_json({ref}) AS VARCHAR)", "JSON"
    if t in ("BLOB", "BYTEA"):
        return f"to_base64({ref})", "BLOB"
    if t.startswith("TIMESTAMP") and ("TIME ZONE" in t or t.startswith("TIMESTAMPTZ")):
        return f"timezone('UTC', CAST({ref} AS TIMESTAMPTZ))", "TIMESTAMP"
    if t.startswith("TIMESTAMP"):
        return f"CAST({ref} AS TIMESTAMP)", "TIMESTAMP"
    if t.startswith("TIME"):
        return f"CAST({ref} AS TIME)", "TIME"
    if t.startswith("ENUM") or t == "VARCHAR":
        return f"CAST({ref} AS VARCHAR)", "VARCHAR"
    if t in ("UUID", "INTERVAL", "BIT") or t.startswith("BIT"):
        return f"CAST({ref} AS VARCHAR)", t
    return ref, t


def read_parquet_source(
    path: Path, fp: Fingerprint, con: duckdb.DuckDBPyConnection, tmp_dir: Path, *, display_name: str
) -> RawSource:
    scan = f"read_parquet({lit(str(path))})"
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0][:300]
        raise IngestError(f"The file is not a readable Parquet file: {first}", code="broken_parquet",
                          file=display_name) from exc
    source_names = [str(d[0]) for d in described]
    names = clean_names(list(source_names))
    selects: list[str] = []
    raw_types: list[str] = []
    for src, name, d in zip(source_names, names, described, strict=True):
        expr, raw = _column(quote_ident(src), str(d[1]))
        selects.append(f"{expr} AS {quote_ident(name)}")
        raw_types.append(raw)
    con.execute(f"CREATE OR REPLACE VIEW parquet_data AS SELECT {', '.join(selects)} FROM {scan}")
    notes: list[str] = []
    nested = [n for n, t in zip(names, raw_types, strict=True) if t == "JSON"]
    if nested:
        notes.append("nested columns kept as JSON text: " + ", ".join(nested[:20]))
    binary = [n for n, t in zip(names, raw_types, strict=True) if t == "BLOB"]
    if binary:
        notes.append("binary columns kept as base64 text: " + ", ".join(binary[:20]))

    def locate(i: int) -> dict[str, Any]:
        return {"row": i + 1}

    return RawSource(
        format="parquet",
        relation="parquet_data",
        columns=[RawColumn(name=n, source_name=s, raw_type=t) for n, s, t in zip(names, source_names, raw_types,
                                                                                 strict=True)],
        locale="en",
        locate=locate,
        notes=notes,
        missing_values=list(DEFAULT_MISSING),
    )
