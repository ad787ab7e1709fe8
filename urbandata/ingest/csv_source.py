"""CSV reader: detection in Python on samples, parsing at engine speed by DuckDB's `read_csv`.

Encodings DuckDB cannot read (Windows-1252, Latin-1, UTF-16) are transcoded to UTF-8 in one streaming
pass; trailing footnotes are cut in the same pass. Everything is read as text; typing happens in SQL.
"""

from __future__ import annotations

import codecs
from bisect import bisect_right
from pathlib import Path
from typing import Any

import duckdb

from urbandata.errors import IngestError
from urbandata.ingest.convert import lit
from urbandata.ingest.detect import CHUNK, Fingerprint, detect_dialect, header_names
from urbandata.ingest.sources import RawColumn, RawSource, Reject, clean_names
from urbandata.ingest.tableschema import DEFAULT_MISSING


def _prepare(path: Path, fp: Fingerprint, footer_line: int | None, tmp_dir: Path) -> Path:
    """Return a UTF-8 file DuckDB can read: the original when possible, else a transcoded copy."""
    if fp.encoding in ("utf-8", "utf-8-sig") and footer_line is None:
        return path
    out = tmp_dir / "source-utf8.csv"
    decoder = codecs.getincrementaldecoder(fp.encoding)(errors="strict")
    line = 1
    with path.open("rb") as src, out.open("w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(CHUNK):
            text = decoder.decode(chunk)
            if footer_line is not None:
                remaining = footer_line - line
                n = text.count("\n")
                if n >= remaining:
                    idx = -1
                    for _ in range(remaining):
                        idx = text.index("\n", idx + 1)
                    dst.write(text[: idx + 1])
                    return out
                line += n
            dst.write(text)
        dst.write(decoder.decode(b"", final=True))
    return out


def read_csv_source(
    path: Path,
    fp: Fingerprint,
    con: duckdb.DuckDBPyConnection,
    tmp_dir: Path,
    missing_values: list[str] | None,
    display_name: str,
) -> RawSource:
    dialect = detect_dialect(path, fp.encoding)
    names = clean_names(header_names(dialect))
    readable = _prepare(path, fp, dialect.footer_start_line, tmp_dir)
    missing = missing_values if missing_values is not None else DEFAULT_MISSING
    columns = "{" + ", ".join(f"{lit(n)}: 'VARCHAR'" for n in names) + "}"
    nullstr = "[" + ", ".join(lit(m) for m in missing) + "]"
    skip = dialect.data_start_line - 1
    rejects_table = "csv_rejects"
    scan_table = "csv_reject_scans"
    relation = (
        f"read_csv({lit(str(readable))}, delim={lit(dialect.delimiter)}, quote='\"', escape='\"', header=false, "
        f"skip={skip}, columns={columns}, nullstr={nullstr}, auto_detect=false, store_rejects=true, "
        f"rejects_table={lit(rejects_table)}, rejects_scan={lit(scan_table)}, max_line_size=16777216, "
        f"null_padding=false, strict_mode=true, encoding='utf-8')"
    )
    notes: list[str] = []
    if fp.encoding not in ("utf-8", "utf-8-sig"):
        notes.append(f"encoding {fp.encoding} converted to UTF-8")
    if dialect.title_lines:
        notes.append(f"{len(dialect.title_lines)} title line(s) above the table skipped")
    if len(dialect.header_rows) > 1:
        notes.append(f"{len(dialect.header_rows)} stacked header rows combined into column names")
    if dialect.footer_lines:
        notes.append(f"{len(dialect.footer_lines)} note line(s) below the table skipped")
    source = RawSource(
        format="csv",
        relation=relation,
        columns=[RawColumn(name=n, source_name=(h or "")) for n, h in zip(names, header_names(dialect), strict=True)],
        locale="en" if dialect.delimiter == "," else "de",
        notes=notes,
        missing_values=missing,
        raw_missing_applied=True,
        extra={
            "delimiter": dialect.delimiter,
            "encoding": fp.encoding,
            "header_line": dialect.data_start_line - 1,
            "title_lines": dialect.title_lines,
            "footer_lines": dialect.footer_lines,
            "rejects_table": rejects_table,
            "scan_table": scan_table,
        },
    )
    first_data_line = dialect.data_start_line

    def collect_rejects() -> None:
        try:
            rows = con.execute(
                f"SELECT DISTINCT line, column_name, error_type, csv_line, error_message FROM {rejects_table} "
                "ORDER BY line"
            ).fetchall()
        except duckdb.CatalogException:
            rows = []
        structural = [r for r in rows if r[2] != "CAST"]
        seen: set[int] = set()
        for line, column, err_type, csv_line, message in structural:
            if line in seen:
                continue
            seen.add(line)
            # DuckDB counts lines from the first line it read (after `skip`)
            file_line = int(line) + skip if line is not None else None
            reason = {
                "MISSING COLUMNS": "too few fields",
                "TOO MANY COLUMNS": "too many fields",
                "UNQUOTED VALUE": "quote character inside an unquoted field",
                "INVALID ENCODING": "invalid characters",
                "LINE SIZE OVER MAXIMUM": "line too long",
            }.get(str(err_type), str(err_type).lower())
            source.structural_rejects.append(
                Reject(
                    line=file_line,
                    column=None,
                    reason=f"{reason} (expected {len(names)}): {message}"[:300],
                    value=csv_line,
                )
            )
        lines = sorted(r.line for r in source.structural_rejects if r.line is not None)

        def locate(index: int) -> dict[str, Any]:
            line = first_data_line + index
            # each rejected line before this row shifts it down by one
            shift = 0
            while True:
                n = bisect_right(lines, line + shift)
                if n == shift:
                    break
                shift = n
            return {"line": line + shift}

        source.locate = locate

    source.extra["collect_rejects"] = collect_rejects
    if dialect.data_start_line > 1 and fp.newline_count < dialect.data_start_line and not dialect.footer_lines:
        raise IngestError("The file has a header but no data rows.", code="no_rows", file=display_name)
    return source
