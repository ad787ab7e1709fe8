"""The load: file -> raw relation -> inferred (or given) Table Schema -> typed, checked staged table.

Bad input gets a clear error naming file, line and column and leaves nothing behind; the staged
DuckDB file is complete and checked before anyone installs it as a version.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from urbandata.datastore.base import Column, StagedTable
from urbandata.datastore.sql import quote_ident
from urbandata.datastore.types import duckdb_to_field_type
from urbandata.errors import IngestError, InvalidInput, PayloadTooLarge
from urbandata.ingest.convert import lit, native_conversion
from urbandata.ingest.csv_source import read_csv_source
from urbandata.ingest.detect import Fingerprint, fingerprint
from urbandata.ingest.infer import infer_field
from urbandata.ingest.sources import RawSource, Reject
from urbandata.ingest.tableschema import SchemaField, TableSchema

SAMPLE_ROWS = 20000
FORMATS = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv",
    ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls",
    ".json": "json", ".ndjson": "ndjson", ".jsonl": "ndjson",
    ".geojson": "geojson", ".parquet": "parquet",
}
TEXT_FORMATS = {"csv", "json", "ndjson", "geojson"}


@dataclass(frozen=True)
class IngestOptions:
    display_name: str
    format: str | None = None
    sheet: str | None = None
    schema: TableSchema | None = None
    max_bytes: int = 2 * 1024**3
    max_uncompressed_bytes: int = 512 * 1024**2
    memory_limit: str = "1GB"
    threads: int = 0
    max_rejects_reported: int = 1000


@dataclass
class StageResult:
    staged: StagedTable
    schema: TableSchema
    fingerprint: Fingerprint
    format: str
    report: dict[str, Any] = field(default_factory=dict)


def detect_format(path: Path, display_name: str, given: str | None) -> str:
    if given:
        if given not in set(FORMATS.values()):
            raise InvalidInput(f"Unknown format {given!r}", code="unknown_format", file=display_name)
        return given
    ext = Path(display_name).suffix.lower() or path.suffix.lower()
    fmt = FORMATS.get(ext)
    if fmt is None:
        raise InvalidInput(
            f"Cannot tell the file type of {display_name!r}; supported: {', '.join(sorted(FORMATS))}",
            code="unknown_format",
            file=display_name,
        )
    if fmt == "json":
        with path.open("rb") as fh:
            head = fh.read(4096)
        if b'"FeatureCollection"' in head or b'"Feature"' in head:
            return "geojson"
    return fmt


def _reader(fmt: str) -> Callable[..., RawSource]:
    if fmt == "csv":
        return read_csv_source
    if fmt in ("xlsx", "xls"):
        from urbandata.ingest.excel_source import read_excel_source

        return read_excel_source
    if fmt in ("json", "ndjson"):
        from urbandata.ingest.json_source import read_json_source

        return read_json_source
    if fmt == "geojson":
        from urbandata.ingest.geojson_source import read_geojson_source

        return read_geojson_source
    if fmt == "parquet":
        from urbandata.ingest.parquet_source import read_parquet_source

        return read_parquet_source
    raise InvalidInput(f"Unsupported format {fmt}", code="unknown_format")


def _schema_for(
    source: RawSource, con: duckdb.DuckDBPyConnection, given: TableSchema | None, file: str | None = None
) -> TableSchema:
    names = [c.name for c in source.columns]
    if given is not None:
        unknown = [f.name for f in given.fields if f.name not in names]
        if unknown:
            raise IngestError(
                f"The Table Schema names column(s) not in the file: {', '.join(unknown)}. "
                f"The file has: {', '.join(names[:30])}",
                code="schema_mismatch",
                file=file,
                column=unknown[0],
            )
    text_cols = [
        c for c in source.columns if c.raw_type.upper() == "VARCHAR" and (given is None or given.field(c.name) is None)
    ]
    missing = list(given.missing_values if given else source.missing_values or [])
    if text_cols:
        # The sample stays in the engine; Python gets one column's distinct present values at a time.
        cols = ", ".join(quote_ident(c.name) for c in text_cols)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE __sample AS SELECT {cols} FROM {source.relation} LIMIT {SAMPLE_ROWS}"
        )
    markers = ", ".join("'" + m.strip().replace("'", "''") + "'" for m in missing) or "NULL"
    fields: list[SchemaField] = []
    for c in source.columns:
        user = given.field(c.name) if given else None
        if user is not None:
            f = user.model_copy(update={"inferred": False})
        elif c.raw_type.upper() == "VARCHAR":
            ref = quote_ident(c.name)
            values = [r[0] for r in con.execute(
                f"SELECT DISTINCT trim({ref}) FROM __sample WHERE {ref} IS NOT NULL AND trim({ref}) NOT IN ({markers})"
            ).fetchall()]
            f = infer_field(c.name, values, source.locale)
        else:
            ftype = "geojson" if c.raw_type.upper() == "GEOJSON" else duckdb_to_field_type(c.raw_type)
            f = SchemaField(name=c.name, type=ftype, inferred=True)
        if c.source_name and c.source_name != c.name:
            f = f.model_copy(update={"source_name": c.source_name})
        fields.append(f)
    if text_cols:
        con.execute("DROP TABLE IF EXISTS __sample")
    schema = TableSchema(fields=fields)
    if given is not None:
        schema.missing_values = given.missing_values
        schema.primary_key = given.primary_key
    elif source.missing_values is not None:
        schema.missing_values = source.missing_values
    return schema


def _raw_expr(source: RawSource, name: str, missing: list[str]) -> str:
    ref = quote_ident(name)
    if source.raw_missing_applied or not missing:
        return ref
    col = next(c for c in source.columns if c.name == name)
    if col.raw_type.upper() != "VARCHAR":
        return ref
    markers = ", ".join("'" + m.replace("'", "''") + "'" for m in missing)
    return f"(CASE WHEN trim({ref}) IN ({markers}) THEN NULL ELSE {ref} END)"


@dataclass
class _Loaded:
    counts: dict[str, int]  # failure flag column -> number of rows whose value does not convert
    flags: list[str]  # all failure flag columns (the raw value where conversion failed, else NULL)
    rows: int  # rows in out.data, bad ones included
    empty_rows: int  # rows with every column NULL
    empty_columns: list[str]  # unnamed columns with no value at all (e.g. from a trailing delimiter)


def _load(con: duckdb.DuckDBPyConnection, source: RawSource, schema: TableSchema) -> _Loaded:
    """CREATE the typed table with one failure flag per converted column, then count in one scan."""
    con.execute("DROP TABLE IF EXISTS out.data")
    selects: list[str] = []
    flags: list[str] = []
    flag_names: list[str] = []
    raw_types = {c.name: c.raw_type for c in source.columns}
    for i, f in enumerate(schema.fields):
        raw = _raw_expr(source, f.name, schema.missing_values)
        typed, failed = native_conversion(f, raw, raw_types[f.name] if raw_types[f.name] != "GEOJSON" else "VARCHAR")
        selects.append(f"{typed} AS {quote_ident(f.name)}")
        if failed and schema.missing_values and raw_types[f.name].upper() == "VARCHAR":
            # a missing-value marker with spaces around it (" - ") is missing, not a bad value
            markers = ", ".join("'" + m.replace("'", "''") + "'" for m in schema.missing_values)
            failed = f"({failed}) AND trim({raw}) NOT IN ({markers})"
        if failed:
            flag = f"__bad_{i}"
            # the flag keeps the raw value of a failed conversion, so the report needs no second scan
            flags.append(f"CASE WHEN {failed} THEN CAST({raw} AS VARCHAR) END AS {flag}")
            flag_names.append(flag)
    con.execute(f"CREATE TABLE out.data AS SELECT {', '.join(selects + flags)} FROM {source.relation}")
    unnamed = [
        c.name for c in source.columns if source.format == "csv" and not c.source_name.strip()
    ]
    all_null = " AND ".join([f"{quote_ident(f.name)} IS NULL" for f in schema.fields] + [
        f"{f} IS NULL" for f in flag_names
    ]) or "false"
    aggs = [f"count({f})" for f in flag_names] + [f"count({quote_ident(c)})" for c in unnamed]
    aggs += [f"count(*) FILTER (WHERE {all_null})", "count(*)"]
    row = con.execute(f"SELECT {', '.join(aggs)} FROM out.data").fetchone() or (0,) * len(aggs)
    values = [int(v) for v in row]
    counts = {flag: n for flag, n in zip(flag_names, values, strict=False) if n}
    empty_columns = [c for c, n in zip(unnamed, values[len(flag_names):], strict=False) if n == 0]
    return _Loaded(counts, flag_names, rows=values[-1], empty_rows=values[-2], empty_columns=empty_columns)


def stage_file(path: Path, options: IngestOptions, work_dir: Path) -> StageResult:
    """Load `path` into a standalone DuckDB file under `work_dir` and check it. Raises on bad input."""
    started = time.perf_counter()
    name = options.display_name
    if not path.is_file():
        raise InvalidInput(f"No such file: {name}", code="file_not_found", file=name)
    size = path.stat().st_size
    if size > options.max_bytes:
        raise PayloadTooLarge(
            f"The file is {size:,} bytes; the limit is {options.max_bytes:,} bytes.", file=name, size=size
        )
    fmt = detect_format(path, name, options.format)
    fp = fingerprint(path, text=fmt in TEXT_FORMATS, name=name)
    if fp.size == 0:
        raise IngestError("The file is empty.", code="empty_file", file=name)
    work_dir.mkdir(parents=True, exist_ok=True)
    out_path = work_dir / "staged.duckdb"
    con = duckdb.connect(
        ":memory:",
        config={
            "memory_limit": options.memory_limit,
            "temp_directory": str(work_dir / "spill"),
            "preserve_insertion_order": "true",
            **({"threads": str(options.threads)} if options.threads else {}),
        },
    )
    try:
        con.execute("SET enable_progress_bar = false")  # no progress bars on stdout of a server
        con.execute(f"ATTACH {lit(str(out_path))} AS out")
        reader = _reader(fmt)
        kwargs: dict[str, Any] = {"display_name": name}
        if fmt in ("xlsx", "xls"):
            kwargs.update(sheet=options.sheet, max_uncompressed=options.max_uncompressed_bytes)
        if fmt == "csv":
            kwargs["missing_values"] = options.schema.missing_values if options.schema else None
            source = reader(path, fp, con, work_dir, **kwargs)
        else:
            source = reader(path, fp, con, work_dir, **kwargs)
        if not source.columns:
            raise IngestError("The file has no columns.", code="no_columns", file=name)
        schema = _schema_for(source, con, options.schema, name)
        demoted: list[str] = []
        try:
            loaded = _load(con, source, schema)
            while True:
                # an inferred type that a later row contradicts (the sample did not show it): keep as text
                bad_inferred = [
                    schema.fields[int(flag.removeprefix("__bad_"))]
                    for flag in loaded.counts
                    if schema.fields[int(flag.removeprefix("__bad_"))].inferred
                ]
                if not bad_inferred:
                    break
                for f in bad_inferred:
                    demoted.append(f"{f.name} ({f.type})")
                    idx = schema.fields.index(f)
                    schema.fields[idx] = SchemaField(name=f.name, type="string", inferred=True).model_copy(
                        update={"source_name": f.source_name}
                    )
                loaded = _load(con, source, schema)
        except duckdb.Error as exc:
            raise IngestError(f"The file could not be read: {str(exc).splitlines()[0][:300]}",
                              code="unreadable", file=name) from exc
        counts, flags = loaded.counts, loaded.flags
        collect = source.extra.get("collect_rejects")
        structural_count = 0
        if callable(collect):
            structural_count = int(collect(options.max_rejects_reported) or 0)
        rejects = list(source.structural_rejects)
        structural_count = max(structural_count, len({r.line for r in rejects}))
        bad_rows = 0
        if counts:
            rejects += _conversion_rejects(con, source, schema, counts, options.max_rejects_reported)
            where = " OR ".join(f"{flag} IS NOT NULL" for flag in counts)
            n_bad = con.execute(f"SELECT count(*) FROM out.data WHERE {where}").fetchone()
            bad_rows = int(n_bad[0]) if n_bad else 0
            con.execute(f"DELETE FROM out.data WHERE {where}")
        rejects.sort(key=lambda r: (r.line is None, r.line or 0, r.column or ""))
        rejected_count = structural_count + bad_rows
        for flag in flags:
            con.execute(f"ALTER TABLE out.data DROP COLUMN {flag}")
        empty_rows = loaded.empty_rows
        if empty_rows:
            all_null = " AND ".join(f"{quote_ident(f.name)} IS NULL" for f in schema.fields)
            con.execute(f"DELETE FROM out.data WHERE {all_null}")
        inferred_names = {fld.name for fld in schema.fields if fld.inferred}
        dropped = [c for c in loaded.empty_columns if c in inferred_names]
        if len(dropped) == len(schema.fields):
            dropped = []
        for col in dropped:
            con.execute(f"ALTER TABLE out.data DROP COLUMN {quote_ident(col)}")
        schema.fields = [f for f in schema.fields if f.name not in dropped]
        row_count = loaded.rows - bad_rows - empty_rows
        if row_count == 0:
            if rejects:
                first = rejects[0]
                raise IngestError(
                    f"No row could be loaded; first problem: {first.reason}",
                    code="no_rows", file=name, line=first.line, column=first.column,
                )
            raise IngestError("The file has a header but no data rows.", code="no_rows", file=name)
        con.execute("CHECKPOINT")
        con.execute("DETACH out")
    finally:
        con.close()
        for leftover in work_dir.glob("source-utf8.*"):  # a transcoded or cut copy, also after an error
            leftover.unlink(missing_ok=True)
    notes = list(source.notes)
    if demoted:
        notes.append("kept as text because some values do not fit the inferred type: " + ", ".join(demoted))
    if empty_rows:
        notes.append(f"{empty_rows} empty row(s) skipped")
    if dropped:
        notes.append("empty column(s) without a header dropped: " + ", ".join(dropped))
    report = {
        "file": name,
        "format": fmt,
        "encoding": fp.encoding if fmt in TEXT_FORMATS else None,
        "sha256": fp.sha256,
        "size": fp.size,
        "rows_loaded": row_count,
        "rows_rejected": rejected_count,
        "rejected": [r.to_dict() for r in rejects[: options.max_rejects_reported]],
        "notes": notes,
        "schema": schema.dump(),
        "duration_s": round(time.perf_counter() - started, 3),
        **{k: v for k, v in source.extra.items() if k in ("delimiter", "sheet", "sheets", "crs")},
    }
    staged = StagedTable(
        path=out_path,
        columns=tuple(Column(f.name, f.type) for f in schema.fields),
        row_count=row_count,
    )
    return StageResult(staged=staged, schema=schema, fingerprint=fp, format=fmt, report=report)


def _conversion_rejects(
    con: duckdb.DuckDBPyConnection, source: RawSource, schema: TableSchema, counts: dict[str, int], limit: int
) -> list[Reject]:
    """Rows whose value does not convert under a type the user gave: line, column and value."""
    found: list[tuple[int, SchemaField, str]] = []
    for flag in counts:
        f = schema.fields[int(flag.removeprefix("__bad_"))]
        rows = con.execute(
            f"SELECT rowid, {flag} FROM out.data WHERE {flag} IS NOT NULL ORDER BY rowid LIMIT {int(limit)}"
        ).fetchall()
        found += [(int(r[0]), f, str(r[1])) for r in rows]
    found.sort(key=lambda t: t[0])
    found = found[:limit]
    locate_many = source.extra.get("locate_many")
    if callable(locate_many):
        where_of: dict[int, dict[str, Any]] = locate_many([i for i, _, _ in found])
    else:
        where_of = {i: source.locate(i) for i, _, _ in found}
    out: list[Reject] = []
    for idx, f, value in found:
        where = where_of.get(idx) or {}
        out.append(
            Reject(
                line=where.get("line"),
                column=f.name,
                reason=f"value does not fit type {f.type}" + (f" (format {f.format})" if f.format else ""),
                value=value,
                location={k: v for k, v in where.items() if k != "line"},
            )
        )
    return out
