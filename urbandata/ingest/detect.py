"""File fingerprint, text encoding and CSV dialect detection.

One streaming pass computes the SHA-256 and checks UTF-8 validity; the dialect comes from a sample at
the head (delimiter, header row, title lines) and one at the tail (footnotes, copyright lines).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from urbandata.errors import IngestError

CHUNK = 1 << 20
DELIMITERS = [";", "\t", "|", ","]
_UTF8_UMLAUT = re.compile(rb"\xc3[\x84\x96\x9c\xa4\xb6\xbc\x9f]|\xe2\x82\xac|\xe2\x80[\x93\x9e\x9c]")


@dataclass(frozen=True)
class Fingerprint:
    sha256: str
    size: int
    encoding: str  # utf-8, utf-8-sig, utf-16, cp1252, latin-1
    newline_count: int


def _line_of(path: Path, offset: int) -> int:
    with path.open("rb") as fh:
        return fh.read(offset).count(b"\n") + 1


def fingerprint(path: Path, *, text: bool) -> Fingerprint:
    """Hash the file; for text formats also find its encoding (errors name file and line)."""
    sha = hashlib.sha256()
    size = 0
    newlines = 0
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8_ok = True
    bad_offset = -1
    head = b""
    saw_utf8_multibyte = False
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            if not head:
                head = chunk[:65536]
            sha.update(chunk)
            if text:
                newlines += chunk.count(b"\n")
                if utf8_ok:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError as exc:
                        utf8_ok = False
                        bad_offset = size + exc.start
                if not saw_utf8_multibyte and _UTF8_UMLAUT.search(chunk):
                    saw_utf8_multibyte = True
            size += len(chunk)
    if text and utf8_ok:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
            bad_offset = size - 1
    digest = sha.hexdigest()
    if not text:
        return Fingerprint(digest, size, "binary", 0)
    if size == 0:
        raise IngestError("The file is empty.", code="empty_file", file=path.name)
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif b"\x00" in head:
        raise IngestError(
            "This is not a text file (it contains binary data); check the file type.",
            code="binary_file",
            file=path.name,
            line=_line_of(path, head.index(b"\x00")),
        )
    elif utf8_ok:
        encoding = "utf-8"
    elif saw_utf8_multibyte:
        raise IngestError(
            "Mixed text encodings: the file contains UTF-8 umlauts and also bytes that are not UTF-8 "
            "(probably Windows-1252). Save the file with one encoding.",
            code="mixed_encoding",
            file=path.name,
            line=_line_of(path, bad_offset),
        )
    else:
        encoding = "cp1252" if _decodes(path, "cp1252") else "latin-1"
    if encoding != "utf-16" and _control_ratio(head) > 0.05:
        raise IngestError("This is not a text file (control characters); check the file type.",
                          code="binary_file", file=path.name)
    return Fingerprint(digest, size, encoding, newlines)


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as fh:
        try:
            while chunk := fh.read(CHUNK):
                decoder.decode(chunk)
        except UnicodeDecodeError:
            return False
    return True


def _control_ratio(data: bytes) -> float:
    if not data:
        return 0.0
    bad = sum(1 for b in data if b < 32 and b not in (9, 10, 13))
    return bad / len(data)


@dataclass
class Dialect:
    delimiter: str
    quotechar: str
    header_rows: list[list[str]]  # stacked header rows (usually one)
    data_start_line: int  # 1-based physical line of the first data row
    title_lines: list[str] = field(default_factory=list)
    footer_start_line: int | None = None  # 1-based first line of trailing notes, if any
    footer_lines: list[str] = field(default_factory=list)
    field_count: int = 0


def _read_head(path: Path, encoding: str, limit: int = 512 * 1024) -> str:
    with path.open("rb") as fh:
        raw = fh.read(limit)
    text = raw.decode(encoding if encoding != "utf-8-sig" else "utf-8-sig", errors="replace")
    if len(raw) == limit and "\n" in text:
        text = text[: text.rindex("\n") + 1]
    return text


def _read_tail(path: Path, encoding: str, limit: int = 64 * 1024) -> tuple[str, int]:
    """The file's last bytes as text, starting at a line boundary, and the 1-based number of its first line."""
    size = path.stat().st_size
    start = max(0, size - limit)
    with path.open("rb") as fh:
        fh.seek(start)
        raw = fh.read()
        if start:
            cut = raw.find(b"\n")
            raw = raw[cut + 1 :] if cut >= 0 else b""
            start_line = _line_of(path, start + cut + 1) if cut >= 0 else 0
        else:
            start_line = 1
    return raw.decode(encoding, errors="replace").lstrip("\ufeff"), start_line


def _parse(lines: list[str], delimiter: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter, quotechar='"')
    try:
        return list(reader)
    except csv.Error:
        return [line.split(delimiter) for line in lines]


def _choose_delimiter(lines: list[str]) -> str:
    best: tuple[float, int, str] | None = None
    for rank, d in enumerate(DELIMITERS):
        rows = [r for r in _parse(lines, d) if r]
        counts = Counter(len(r) for r in rows if len(r) > 1)
        if not counts:
            continue
        modal, n = counts.most_common(1)[0]
        score = n / max(1, len(rows))
        # prefer ';', tab and '|' over ',' when they describe the table as well: German files
        # use ';' precisely because ',' is their decimal separator.
        key = (round(score, 2), -rank if d != "," else -len(DELIMITERS), d)
        if best is None or key[:2] > best[:2]:
            best = key
    if best is None:
        return ","  # a single-column file
    return best[2]


def _numeric(cell: str) -> bool:
    return bool(re.fullmatch(r"[+-]?[\d.,]+%?|\d{1,2}\.\d{1,2}\.\d{2,4}.*|\d{4}-\d{2}(-\d{2})?.*", cell.strip()))


def detect_dialect(path: Path, encoding: str) -> Dialect:
    head = _read_head(path, encoding).lstrip("\ufeff")
    lines = head.splitlines()
    sample = [ln for ln in lines[:400]]
    if not any(ln.strip() for ln in sample):
        raise IngestError("The file has no content.", code="empty_file", file=path.name)
    delimiter = _choose_delimiter([ln for ln in sample if ln.strip()][:200])
    rows = _parse(sample, delimiter)
    width = Counter(len(r) for r in rows if len(r) > 1).most_common(1)
    field_count = width[0][0] if width else 1

    def filled(r: list[str]) -> int:
        return sum(1 for c in r if c.strip())

    max_filled = max((filled(r) for r in rows if len(r) == field_count), default=1)
    threshold = max(1, (max_filled + 1) // 2) if field_count > 1 else 1
    header_idx = next(
        (i for i, r in enumerate(rows) if len(r) >= field_count and filled(r) >= max(threshold, min(2, max_filled))),
        0,
    )
    # Stacked header rows: rows below the first header row whose cells are text where the data has numbers.
    header_end = header_idx + 1
    data_rows = [r for r in rows[header_idx + 1 : header_idx + 60] if len(r) == field_count]
    numeric_cols = {
        j for j in range(field_count)
        if data_rows and sum(1 for r in data_rows if r[j].strip() and _numeric(r[j])) >= len(data_rows) * 0.5
    }
    while header_end < len(rows) and numeric_cols and len(rows[header_end]) == field_count:
        cells = rows[header_end]
        texty = [j for j in numeric_cols if cells[j].strip() and not _numeric(cells[j])]
        if len(texty) >= max(1, len(numeric_cols) // 2):
            header_end += 1
        else:
            break
    # physical line numbers (rows never span lines in the header area of real exports)
    dialect = Dialect(
        delimiter=delimiter,
        quotechar='"',
        header_rows=rows[header_idx:header_end],
        data_start_line=header_end + 1,
        title_lines=[ln for ln in lines[:header_idx] if ln.strip(" ;,\t|")],
        field_count=field_count,
    )
    _detect_footer(path, encoding, dialect, threshold)
    return dialect


def _detect_footer(path: Path, encoding: str, dialect: Dialect, threshold: int) -> None:
    tail, first_line = _read_tail(path, encoding)
    lines = tail.splitlines()
    if not lines:
        return
    footer_from: int | None = None
    for i in range(len(lines) - 1, -1, -1):
        row = _parse([lines[i]], dialect.delimiter)
        cells = row[0] if row else []
        filled = sum(1 for c in cells if c.strip())
        is_data = len(cells) == dialect.field_count and filled >= min(threshold, 2) or (
            dialect.field_count == 1 and filled == 1
        )
        if is_data:
            break
        footer_from = i
    if footer_from is None:
        return
    notes = [ln for ln in lines[footer_from:] if ln.strip(" ;,\t|")]
    line_no = first_line + footer_from
    if line_no < dialect.data_start_line:
        return
    dialect.footer_start_line = line_no
    dialect.footer_lines = notes


def header_names(dialect: Dialect) -> list[str | None]:
    """One name per column from one or more stacked header rows."""
    rows = dialect.header_rows
    if not rows:
        return [None] * dialect.field_count
    if len(rows) == 1:
        return [c.strip() or None for c in rows[0]] + [None] * (dialect.field_count - len(rows[0]))
    names: list[str | None] = []
    # a header row that says the same thing over every column adds nothing to a column's name
    useful = [r for r in rows if len({c.strip() for c in r if c.strip()}) > 1]
    for j in range(dialect.field_count):
        parts: list[str] = []
        for r in useful:
            cell = r[j].strip() if j < len(r) else ""
            if cell and cell not in parts:
                parts.append(cell)
        names.append(" / ".join(parts) or None)
    return names
