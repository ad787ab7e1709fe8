"""Table Schema field types and their storage types in each engine."""

from __future__ import annotations

FIELD_TYPES = ("string", "integer", "number", "boolean", "date", "datetime", "time", "year", "yearmonth", "geojson")

DUCKDB_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "time": "TIME",
    "year": "INTEGER",
    "yearmonth": "VARCHAR",
    "geojson": "VARCHAR",
}

POSTGRES_TYPES = {
    "string": "text",
    "integer": "bigint",
    "number": "double precision",
    "boolean": "boolean",
    "date": "date",
    "datetime": "timestamp",
    "time": "time",
    "year": "integer",
    "yearmonth": "text",
    "geojson": "text",
}


def duckdb_to_field_type(duck_type: str) -> str:
    """Map a DuckDB column type (as DESCRIBE prints it) to a Table Schema field type."""
    t = duck_type.upper()
    if t in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT"):
        return "integer"
    if t in ("DOUBLE", "FLOAT", "REAL") or t.startswith("DECIMAL"):
        return "number"
    if t == "BOOLEAN":
        return "boolean"
    if t == "DATE":
        return "date"
    if t.startswith("TIMESTAMP"):
        return "datetime"
    if t.startswith("TIME"):
        return "time"
    return "string"
