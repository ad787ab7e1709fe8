"""CSV reader: detection in Python on samples, parsing at engine speed by DuckDB's `read_csv`.

Encodings DuckDB cannot read (Windows-1252, Latin-1, UTF-16) and old Mac line ends (CR only) are
transcoded to UTF-8 LF in one streaming pass; trailing footnotes are cut off the (copied) file.
Everything is read as text; typing happens in SQL. Nothing here holds the whole file in memory.
"""

from __future__ import annotations

import codecs
import csv
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

import duckdb

from urbandata.errors import IngestError
from urbandata.ingest.convert import lit
from urbandata.ingest.detect import CHUNK, SINGLE_COLUMN, Dialect, Fingerprint, detect_dialect, header_names
from urbandata.ingest.sources import RawColumn, RawSource, Reject, clean_names
from urbandata.ingest.tableschema import DEFAULT_MISSING

MAX_LINE_SIZE = 16 * 1024 * 1024
LOCATE_CAP = 100_000  # rejected records whose exact line is known when locating loaded rows
REASONS = {
    "MISSING COLUMNS": "too few fields",
    "TOO MANY COLUMNS": "too many fields",
    "UNQUOTED VALUE": "quote character inside an unquoted field",
    "INVALID ENCODING": "invalid characters",
    "INVALID UNICODE": "invalid characters",
    "LINE SIZE OVER MAXIMUM": "line too long",
}


def _transcode(path: Path, encoding: str, out: Path, name: str, cr_newlines: bool) -> int:
    """Write `path` as UTF-8 (LF line ends when the file uses CR only) to `out`; return its LF count."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    newlines = 0
    with path.open("rb") as src, out.open("w", encoding="utf-8", newline="") as dst:
        try:
            while True:
                chunk = src.read(CHUNK // 4)  # decoded text takes up to 4 bytes a character
                text = decoder.decode(chunk, final=not chunk)
                if cr_newlines:
                    text = text.replace("\r", "\n")
                newlines += text.count("\n")
                dst.write(text)
                if not chunk:
                    break
        except UnicodeDecodeError as exc:
            raise IngestError(
                f"The file is not valid {encoding} text from this line on; save it as UTF-8.",
                code="invalid_encoding",
                file=name,
                line=newlines + exc.object[: exc.start].count(b"\n") + 1,
            ) from exc
    return newlines


def _cut(readable: Path, original: Path, offset: int, tmp_dir: Path) -> Path:
    """The table without the notes below it: truncate our own copy, or copy the original's first bytes."""
    if readable != original:
        os.truncate(readable, offset)
        return readable
    out = tmp_dir / "source-utf8.csv"
    with original.open("rb") as src, out.open("wb") as dst:
        remaining = offset
        while remaining > 0:
            chunk = src.read(min(CHUNK, remaining))
            if not chunk:
                break
            dst.write(chunk)
            remaining -= len(chunk)
    return out


def _record_start(fh: BinaryIO, position: int) -> int:
    """DuckDB's rejects table points at (1-based) or just before a record (a CR/LF left over): skip those."""
    pos = max(0, position - 1)
    fh.seek(pos)
    while fh.read(1) in (b"\r", b"\n"):
        pos += 1
    return pos


def _lines_at(path: Path, offsets: list[int]) -> dict[int, int]:
    """1-based line numbers of sorted byte offsets, in one streaming pass."""
    out: dict[int, int] = {}
    if not offsets:
        return out
    line = 1
    pos = 0
    i = 0
    with path.open("rb") as fh:
        while i < len(offsets):
            chunk = fh.read(CHUNK)
            if not chunk:
                break
            while i < len(offsets) and offsets[i] < pos + len(chunk):
                out[offsets[i]] = line + chunk.count(b"\n", 0, offsets[i] - pos)
                i += 1
            line += chunk.count(b"\n")
            pos += len(chunk)
    for off in offsets[i:]:
        out[off] = line
    return out


def read_csv_source(
    path: Path,
    fp: Fingerprint,
    con: duckdb.DuckDBPyConnection,
    tmp_dir: Path,
    missing_values: list[str] | None,
    display_name: str,
) -> RawSource:
    with path.open("rb") as fh:
        head = fh.read(65536)
    cr_newlines = b"\n" not in head and b"\r" in head
    if fp.encoding in ("utf-8", "utf-8-sig") and not cr_newlines:
        readable, newline_count, encoding = path, fp.newline_count, fp.encoding
    else:
        tmp_dir.mkdir(parents=True, exist_ok=True)
        readable = tmp_dir / "source-utf8.csv"
        newline_count = _transcode(path, fp.encoding, readable, display_name, cr_newlines)
        encoding = "utf-8"
    dialect = detect_dialect(readable, encoding, name=display_name, newline_count=newline_count)
    if dialect.footer_start_offset is not None:
        readable = _cut(readable, path, dialect.footer_start_offset, tmp_dir)
    headers = header_names(dialect)
    names = clean_names(headers)
    missing = missing_values if missing_values is not None else DEFAULT_MISSING
    columns = "{" + ", ".join(f"{lit(n)}: 'VARCHAR'" for n in names) + "}"
    nullstr = "[" + ", ".join(lit(m) for m in missing) + "]"
    rejects_table = "csv_rejects"
    scan_table = "csv_reject_scans"
    relation = (
        f"read_csv({lit(str(readable))}, delim={lit(dialect.delimiter)}, quote='\"', escape='\"', header=false, "
        f"skip={dialect.skip}, columns={columns}, nullstr={nullstr}, auto_detect=false, store_rejects=true, "
        f"rejects_table={lit(rejects_table)}, rejects_scan={lit(scan_table)}, max_line_size={MAX_LINE_SIZE}, "
        f"null_padding=false, strict_mode=true, encoding='utf-8')"
    )
    notes: list[str] = []
    if fp.encoding not in ("utf-8", "utf-8-sig"):
        notes.append(f"encoding {fp.encoding} converted to UTF-8")
    if cr_newlines:
        notes.append("old Mac line ends (CR) converted")
    if dialect.title_lines:
        notes.append(f"{len(dialect.title_lines)} title line(s) above the table skipped")
    if len(dialect.header_rows) > 1:
        notes.append(f"{len(dialect.header_rows)} stacked header rows combined into column names")
    if dialect.footer_lines:
        notes.append(
            f"{len(dialect.footer_lines)} note line(s) below the table skipped (from line {dialect.footer_start_line})"
        )
    source = RawSource(
        format="csv",
        relation=relation,
        columns=[RawColumn(name=n, source_name=(h or "")) for n, h in zip(names, headers, strict=True)],
        locale="en" if dialect.delimiter == "," else "de",
        notes=notes,
        missing_values=missing,
        raw_missing_applied=True,
        extra={
            "delimiter": None if dialect.delimiter == SINGLE_COLUMN else dialect.delimiter,
            "encoding": fp.encoding,
            "header_line": dialect.data_start_line - 1,
            "title_lines": dialect.title_lines,
            "footer_lines": dialect.footer_lines,
            "rejects_table": rejects_table,
            "scan_table": scan_table,
        },
    )
    if newline_count < dialect.data_start_line - 1 or (
        newline_count == dialect.data_start_line - 1 and _ends_with_newline(readable)
    ):
        raise IngestError("The file has a header but no data rows.", code="no_rows", file=display_name)
    reader = _Rejects(con, source, readable, dialect, rejects_table, len(names))
    source.extra["collect_rejects"] = reader.collect
    source.extra["locate_many"] = reader.locate_many
    source.locate = lambda index: reader.locate_many([index])[index]
    return source


def _ends_with_newline(path: Path) -> bool:
    size = path.stat().st_size
    if size == 0:
        return True
    with path.open("rb") as fh:
        fh.seek(size - 1)
        return fh.read(1) == b"\n"


class _Rejects:
    """Rows DuckDB could not split into the header's fields, and the file line of any loaded row."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, source: RawSource, readable: Path, dialect: Dialect, table: str,
        width: int,
    ) -> None:
        self.con = con
        self.source = source
        self.readable = readable
        self.dialect = dialect
        self.table = table
        self.width = width
        self.lines: set[int] = set()  # physical lines of the rejected records that were collected

    def collect(self, limit: int = 1000) -> int:
        """Add up to `limit` structural rejects (exact file line, reason) to the source; return how many there were."""
        try:
            total_row = self.con.execute(
                f"SELECT count(DISTINCT line) FROM {self.table} WHERE error_type <> 'CAST' "
                f"AND scan_id = (SELECT max(scan_id) FROM {self.table})"
            ).fetchone()
        except duckdb.CatalogException:
            return 0
        total = int(total_row[0]) if total_row else 0
        if not total:
            return 0
        where = f"error_type <> 'CAST' AND scan_id = (SELECT max(scan_id) FROM {self.table})"
        rows = self.con.execute(
            f"SELECT min(line_byte_position), first(error_type ORDER BY column_idx), first(csv_line), "
            f"first(error_message) FROM {self.table} WHERE {where} GROUP BY line ORDER BY line LIMIT {int(limit)}"
        ).fetchall()
        positions = [int(r[0]) for r in rows]
        if total > len(rows):
            positions = [int(r[0]) for r in self.con.execute(
                f"SELECT min(line_byte_position) FROM {self.table} WHERE {where} GROUP BY line ORDER BY line "
                f"LIMIT {LOCATE_CAP}"
            ).fetchall()]
        with self.readable.open("rb") as fh:
            starts = [_record_start(fh, pos) for pos in positions]
        line_of = _lines_at(self.readable, sorted(set(starts)))
        self.lines = {line_of[s] for s in starts}
        for start, (_, err_type, csv_line, message) in zip(starts, rows, strict=False):
            line = line_of[start]
            value = str(csv_line).strip("\r\n") if csv_line is not None else None
            if "unterminated quote" in str(message):
                reason = "a quoted field is not closed (its quote runs on to the end of the file)"
            elif err_type in ("MISSING COLUMNS", "TOO MANY COLUMNS") and value is not None:
                found = next(csv.reader([value], delimiter=self.dialect.delimiter, quotechar='"'), [])
                reason = f"{REASONS[str(err_type)]} (found {len(found)}, expected {self.width})"
            elif str(err_type) in REASONS:
                reason = REASONS[str(err_type)]
            else:
                reason = f"{str(err_type).lower()}: {str(message).splitlines()[0] if message else ''}"
            self.source.structural_rejects.append(Reject(line=line, column=None, reason=reason[:300], value=value))
        self.source.structural_rejects.sort(key=lambda r: r.line or 0)
        return total

    def locate_many(self, indexes: Iterable[int]) -> dict[int, dict[str, Any]]:
        """File line of each loaded row (0-based index in load order), in one streaming pass up to the last.

        Runs only when rows were rejected. It counts records as DuckDB does: blank lines and
        structurally rejected records are not rows, a quoted field may span lines.
        """
        wanted = sorted(set(indexes))
        out: dict[int, dict[str, Any]] = {}
        if not wanted:
            return out
        csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_SIZE))
        d = self.dialect
        with self.readable.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
            reader = csv.reader(fh, delimiter=d.delimiter, quotechar=d.quotechar)
            first_line = 1
            index = -1
            k = 0
            try:
                for n, row in enumerate(reader):
                    start, first_line = first_line, reader.line_num + 1
                    if n < d.skip or not row:
                        continue
                    bad_width = len(row) != self.width and not (len(row) == self.width + 1 and not row[-1])
                    if start in self.lines or bad_width:
                        continue
                    index += 1
                    while k < len(wanted) and wanted[k] == index:
                        out[index] = {"line": start}
                        k += 1
                    if k == len(wanted):
                        break
            except csv.Error:
                pass
        for i in wanted[k:]:
            out[i] = {"line": None}
        return out
