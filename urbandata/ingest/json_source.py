"""JSON reader: an array of records, or newline-delimited JSON (one record per line), read by DuckDB.

The format is decided by the content: '[' first means an array, objects line by line mean NDJSON.
DuckDB's `read_json` parses the file (streaming, bounded memory) with the types it detects over the
whole file: JSON numbers and booleans stay native, strings stay text for the shared inference (German
numbers and dates in strings), nested objects and arrays become JSON text (type string). When DuckDB
rejects the file, a Python scan finds the line of the first problem.
"""

from __future__ import annotations

import codecs
import json
import re
from array import array
from pathlib import Path
from typing import Any

import duckdb

from urbandata.datastore.sql import quote_ident
from urbandata.errors import IngestError
from urbandata.ingest.convert import lit
from urbandata.ingest.detect import CHUNK, Fingerprint
from urbandata.ingest.json_scan import JsonProblem, iter_array, iter_lines, kind_of, text_encoding
from urbandata.ingest.sources import RawColumn, RawSource, clean_names
from urbandata.ingest.tableschema import DEFAULT_MISSING

_NATIVE = {"BIGINT", "DOUBLE", "BOOLEAN", "HUGEINT", "UBIGINT", "INTEGER", "UINTEGER", "SMALLINT", "TINYINT"}
_NESTED = re.compile(r"^(STRUCT|MAP|UNION)\(|\[\d*\]$")


def _transcode(path: Path, encoding: str, tmp_dir: Path) -> Path:
    """A UTF-8 copy for encodings DuckDB cannot read (streamed)."""
    if encoding in ("utf-8", "utf-8-sig"):
        return path
    out = tmp_dir / "source-utf8.json"
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with path.open("rb") as src, out.open("w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(CHUNK):
            dst.write(decoder.decode(chunk))
        dst.write(decoder.decode(b"", final=True))
    return out


def _json_format(path: Path, encoding: str, name: str) -> str:
    """'array' or 'newline_delimited', from the first characters and the first line."""
    with path.open("r", encoding=text_encoding(encoding), errors="replace") as fh:
        head = fh.read(4096)
        stripped = head.lstrip()
        if stripped.startswith("["):
            return "array"
        if not stripped.startswith("{"):
            line = head[: len(head) - len(stripped)].count("\n") + 1
            raise IngestError(
                "The file is not a JSON array of records nor one JSON object per line (NDJSON).",
                code="not_records", file=name, line=line,
            )
        fh.seek(0)
        blank = 0
        for raw in fh:
            if raw.strip():
                break
            blank += 1
        try:
            first = json.loads(raw)
        except json.JSONDecodeError:
            first = None
        single = not any(line.strip() for line in fh)
    wrapper = single and isinstance(first, dict) and any(
        isinstance(v, list) and v and all(isinstance(x, dict) for x in v[:100]) for v in first.values()
    )
    if isinstance(first, dict) and not wrapper:
        return "newline_delimited"
    raise IngestError(
        "The file holds a single JSON object, not an array of records or one record per line (NDJSON)."
        + _records_hint(path, encoding),
        code="not_records", file=name, line=blank + 1,
    )


def _records_hint(path: Path, encoding: str) -> str:
    """For a wrapper object like {"data": [...]}: say which member holds the records (small files only)."""
    if path.stat().st_size > 64 * 1024**2:
        return ""
    try:
        doc = json.loads(path.read_text(encoding=text_encoding(encoding)))
    except (ValueError, RecursionError):
        return ""
    if not isinstance(doc, dict):
        return ""
    keys = [k for k, v in doc.items() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v[:100])]
    if keys:
        return f" The records seem to be in the member {keys[0]!r}: extract that array into its own file."
    return ""


def _problem(path: Path, encoding: str, fmt: str) -> JsonProblem | None:
    """The first structural problem (broken JSON, a record that is not an object), found by scanning."""
    try:
        with path.open("r", encoding=text_encoding(encoding), newline="") as fh:
            records = iter_array(fh) if fmt == "array" else iter_lines(fh)
            n = 0
            for line, value in records:
                n += 1
                if not isinstance(value, dict):
                    return JsonProblem(f"Record {n} is {kind_of(value)}, not an object with named fields.", line)
            if n == 0:
                return JsonProblem("The JSON array is empty: there are no records.", 1)
    except JsonProblem as problem:
        return problem
    except UnicodeDecodeError as exc:
        return JsonProblem(f"The file is not valid {encoding} text: {exc.reason}.")
    return None


def _record_lines(path: Path, encoding: str, fmt: str) -> array[int]:
    lines: array[int] = array("q")
    with path.open("r", encoding=text_encoding(encoding), newline="") as fh:
        for line, _ in iter_array(fh) if fmt == "array" else iter_lines(fh):
            lines.append(line)
    return lines


def read_json_source(
    path: Path, fp: Fingerprint, con: duckdb.DuckDBPyConnection, tmp_dir: Path, *, display_name: str
) -> RawSource:
    fmt = _json_format(path, fp.encoding, display_name)
    readable = _transcode(path, fp.encoding, tmp_dir)
    scan = f"read_json({lit(str(readable))}, format={lit(fmt)}, records=true, maximum_depth=2, sample_size=-1"

    def fail(exc: duckdb.Error) -> IngestError:
        problem = _problem(path, fp.encoding, fmt)
        if problem is not None:
            return IngestError(problem.message, code="broken_json", file=display_name, line=problem.line,
                               column=problem.column)
        first = str(exc).splitlines()[0]
        return IngestError(f"The JSON file could not be read: {first[:300]}", code="broken_json",
                           file=display_name)

    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {scan})").fetchall()
    except duckdb.Error as exc:
        raise fail(exc) from exc
    source_names = [str(d[0]) for d in described]
    read_types: list[str] = []
    raw_types: list[str] = []
    for d in described:
        t = str(d[1]).upper()
        if t in _NATIVE:
            read_types.append(t)
            raw_types.append(t)
        elif _NESTED.search(t):
            read_types.append("VARCHAR")  # read as VARCHAR, DuckDB keeps the JSON text
            raw_types.append("JSON")
        else:  # strings (also those DuckDB would read as dates), mixed values (JSON), all-null columns
            read_types.append("VARCHAR")
            raw_types.append("VARCHAR")
    columns = "{" + ", ".join(f"{lit(n)}: {lit(t)}" for n, t in zip(source_names, read_types, strict=True)) + "}"
    try:
        con.execute(f"CREATE OR REPLACE TABLE json_raw AS SELECT * FROM {scan}, columns={columns})")
    except duckdb.Error as exc:
        raise fail(exc) from exc
    names = clean_names(list(source_names))
    selects = ", ".join(f"{quote_ident(s)} AS {quote_ident(n)}" for s, n in zip(source_names, names, strict=True))
    con.execute(f"CREATE OR REPLACE VIEW json_data AS SELECT {selects} FROM json_raw")

    cache: dict[str, array[int]] = {}

    def locate(i: int) -> dict[str, Any]:
        if "lines" not in cache:
            cache["lines"] = _record_lines(path, fp.encoding, fmt)
        lines = cache["lines"]
        return {"line": lines[i] if i < len(lines) else None, "record": i + 1}

    notes: list[str] = []
    if fp.encoding not in ("utf-8", "utf-8-sig"):
        notes.append(f"encoding {fp.encoding} converted to UTF-8")
    nested = [n for n, t in zip(names, raw_types, strict=True) if t == "JSON"]
    if nested:
        notes.append("nested values kept as JSON text: " + ", ".join(nested[:20]))
    return RawSource(
        format="json" if fmt == "array" else "ndjson",
        relation="json_data",
        columns=[RawColumn(name=n, source_name=s, raw_type=t) for n, s, t in zip(names, source_names, raw_types,
                                                                                 strict=True)],
        locale="en",
        locate=locate,
        notes=notes,
        missing_values=list(DEFAULT_MISSING),
        extra={"json_format": fmt},
    )

