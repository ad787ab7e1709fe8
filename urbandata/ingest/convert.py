"""SQL (DuckDB) expressions that turn a raw text column into its typed value, and flag failures.

Each field gives (value expression, failure expression). The failure expression is true when the
raw value is present but does not convert; such rows are rejected with line and column, or, when
the type was only inferred, the column falls back to text and the load runs again.
"""

from __future__ import annotations

from urbandata.datastore.sql import quote_ident
from urbandata.datastore.types import DUCKDB_TYPES
from urbandata.ingest.tableschema import SchemaField


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _strptime(expr: str, fmt: str) -> str:
    formats = fmt.split("|")
    arg = lit(formats[0]) if len(formats) == 1 else "[" + ", ".join(lit(f) for f in formats) + "]"
    return f"try_strptime({expr}, {arg})"


def text_conversion(field: SchemaField, raw: str) -> tuple[str, str | None]:
    """(typed expression, failure condition or None) for a VARCHAR column reference `raw`."""
    t = field.type
    v = f"trim({raw})"
    if t == "string":
        return raw, None
    if t == "geojson":
        return raw, f"{raw} IS NOT NULL AND try(json({raw})) IS NULL"
    if t in ("integer", "number", "year"):
        if field.group_char:
            v = f"replace({v}, {lit(field.group_char)}, '')"
        if field.decimal_char and field.decimal_char != ".":
            v = f"replace({v}, {lit(field.decimal_char)}, '.')"
        typed = f"TRY_CAST({v} AS {DUCKDB_TYPES[t]})"
        if field.group_char:
            # a group separator is only valid between groups of three digits
            g = "\\." if field.group_char == "." else field.group_char
            d = "\\." if (field.decimal_char or ".") == "." else field.decimal_char or "."
            pattern = lit(f"^[+-]?(\\d{{1,3}}({g}\\d{{3}})*|\\d+)({d}\\d+)?$")
            typed = f"CASE WHEN regexp_matches(trim({raw}), {pattern}) THEN {typed} END"
        if field.inferred:
            # A leading zero in a column inferred as a number means it holds codes (a postal code
            # "01067" after 20,000 rows of "10115"): fail, so the column is kept as text.
            # (a plain string comparison is the cheapest test for "0 followed by a digit")
            lead = f"({raw} >= '00' AND {raw} < '0:')"
            return typed, f"{raw} IS NOT NULL AND ({typed} IS NULL OR {lead})"
    elif t == "boolean":
        trues = field.true_values or ["true", "ja", "j", "wahr", "yes", "x", "1"]
        falses = field.false_values or ["false", "nein", "n", "falsch", "no", "0"]
        tl = ", ".join(lit(x.lower()) for x in trues)
        fl = ", ".join(lit(x.lower()) for x in falses)
        typed = f"CASE WHEN lower({v}) IN ({tl}) THEN true WHEN lower({v}) IN ({fl}) THEN false END"
    elif t == "date":
        typed = (
            f"TRY_CAST({v} AS DATE)" if field.format in (None, "default", "any", "%Y-%m-%d")
            else f"CAST({_strptime(v, field.format)} AS DATE)"
        )
    elif t == "datetime":
        if field.format == "iso-tz":
            typed = f"CAST(timezone('UTC', TRY_CAST({v} AS TIMESTAMPTZ)) AS TIMESTAMP)"
        elif field.format in (None, "default", "any", "iso"):
            typed = f"TRY_CAST({v} AS TIMESTAMP)"
        else:
            typed = _strptime(f"replace({v}, ',', '')", field.format)
    elif t == "time":
        typed = f"TRY_CAST({v} AS TIME)"
    elif t == "yearmonth":
        return raw, f"{raw} IS NOT NULL AND NOT regexp_matches(trim({raw}), '^\\d{{4}}-(0[1-9]|1[0-2])$')"
    else:  # pragma: no cover - parse_schema rejects unknown types
        raise ValueError(t)
    return typed, f"{raw} IS NOT NULL AND {typed} IS NULL"


def native_conversion(field: SchemaField, raw: str, raw_type: str) -> tuple[str, str | None]:
    """Conversion for a column that already has an engine type (Excel, JSON, Parquet)."""
    if raw_type.upper() == "VARCHAR":
        return text_conversion(field, raw)
    target = DUCKDB_TYPES[field.type]
    if field.type == "string":
        return f"CAST({raw} AS VARCHAR)", None
    if field.type in ("yearmonth", "geojson"):
        return f"CAST({raw} AS VARCHAR)", None
    typed = f"TRY_CAST({raw} AS {target})"
    return typed, f"{raw} IS NOT NULL AND {typed} IS NULL"


def column_ref(name: str) -> str:
    return quote_ident(name)
