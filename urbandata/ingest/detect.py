"""File fingerprint, text encoding and CSV dialect detection.

One streaming pass computes the SHA-256 and checks UTF-8 validity; the dialect comes from a sample at
the head (delimiter, header row, title lines) and one at the tail (footnotes, copyright lines).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from urbandata.errors import IngestError

CHUNK = 1 << 20
DELIMITERS = [";", "\t", "|", ","]
SINGLE_COLUMN = "\x1f"  # the "delimiter" of a one-column file: the unit separator, which text never contains
# UTF-8 sequences for Latin letters with accents/umlauts, the euro sign and typographic quotes and dashes.
# Seen next to bytes that are not UTF-8, they mean the file mixes two encodings.
_UTF8_UMLAUT = re.compile(
    rb"[\xc3][\x80-\xbf]|\xc2[\xa0-\xbf]|\xe2\x82\xac|\xe2\x80[\x93\x94\x98\x99\x9a\x9c\x9d\x9e\xa6]"
)
# bytes that have no character in Windows-1252 (in Latin-1 they are C1 control codes, never used in text)
_NOT_CP1252 = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_NOT_CP1252_BYTES = b"\x81\x8d\x8f\x90\x9d"
_CP1252_ONLY_BYTES = bytes(range(0x80, 0xA0))  # euro sign, typographic quotes and dashes ... not in Latin-1


def _contains_any(chunk: bytes, chars: bytes) -> bool:
    """Whether `chunk` holds any of the bytes `chars` (at C speed: a regex class scan is much slower)."""
    return len(chunk.translate(None, chars)) != len(chunk)


def _has_utf8_letters(chunk: bytes) -> bool:
    """UTF-8 umlauts, accents, euro sign or typographic punctuation in `chunk` (which is not UTF-8 as a whole)."""
    for lead in (b"\xc3", b"\xc2", b"\xe2"):  # rare bytes in Windows-1252 text: find them first
        i = chunk.find(lead)
        while i >= 0:
            if _UTF8_UMLAUT.match(chunk, i):
                return True
            i = chunk.find(lead, i + 1)
    return False


@dataclass(frozen=True)
class Fingerprint:
    sha256: str
    size: int
    encoding: str  # utf-8, utf-8-sig, utf-16, cp1252, latin-1
    newline_count: int


def _line_of(path: Path, offset: int) -> int:
    """1-based line number of byte `offset`, counted in chunks (never the whole file in memory)."""
    return count_newlines(path, offset) + 1


def count_newlines(path: Path, end: int | None = None) -> int:
    """Number of b"\\n" bytes in the file before byte `end` (the whole file when None)."""
    n = 0
    pos = 0
    with path.open("rb") as fh:
        while end is None or pos < end:
            chunk = fh.read(CHUNK if end is None else min(CHUNK, end - pos))
            if not chunk:
                break
            n += chunk.count(b"\n")
            pos += len(chunk)
    return n


def fingerprint(path: Path, *, text: bool, name: str | None = None) -> Fingerprint:
    """Hash the file; for text formats also find its encoding (errors name file and line).

    `name` is the file name shown in errors (the user's name for an uploaded temporary file).
    """
    name = name or path.name
    sha = hashlib.sha256()
    size = 0
    newlines = 0
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8_ok = True
    bad_offset = -1
    head = b""
    saw_utf8_multibyte = False
    not_cp1252_offset = -1
    nul_offset = -1
    cp1252_only = False
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            if not head:
                head = chunk[:65536]
            sha.update(chunk)
            if text:
                newlines += chunk.count(b"\n")
                if nul_offset < 0 and (nul := chunk.find(b"\x00")) >= 0:
                    nul_offset = size + nul
                if utf8_ok:
                    try:
                        decoder.decode(chunk)
                        # valid UTF-8 that is not ASCII has multibyte characters
                        saw_utf8_multibyte = saw_utf8_multibyte or not chunk.isascii()
                    except UnicodeDecodeError as exc:
                        utf8_ok = False
                        bad_offset = size + exc.start
                        saw_utf8_multibyte = saw_utf8_multibyte or _has_utf8_letters(chunk[: max(0, exc.start)])
                if not utf8_ok:
                    # not UTF-8: Windows-1252 or Latin-1, unless it also holds UTF-8 text (mixed) or bytes
                    # that neither has (another encoding)
                    if not saw_utf8_multibyte and _has_utf8_letters(chunk):
                        saw_utf8_multibyte = True
                    if not_cp1252_offset < 0 and _contains_any(chunk, _NOT_CP1252_BYTES):
                        m = _NOT_CP1252.search(chunk)
                        not_cp1252_offset = size + (m.start() if m else 0)
                    cp1252_only = cp1252_only or _contains_any(chunk, _CP1252_ONLY_BYTES)
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
        raise IngestError("The file is empty.", code="empty_file", file=name)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif nul_offset >= 0:
        raise IngestError(
            "This is not a text file (it contains binary data); check the file type.",
            code="binary_file",
            file=name,
            line=_line_of(path, nul_offset),
        )
    elif _control_ratio(head) > 0.05:
        raise IngestError("This is not a text file (control characters); check the file type.",
                          code="binary_file", file=name)
    elif utf8_ok:
        encoding = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    elif saw_utf8_multibyte or head.startswith(codecs.BOM_UTF8):
        raise IngestError(
            "Mixed text encodings: the file contains UTF-8 text and also bytes that are not UTF-8 "
            "(probably Windows-1252) from this line on. Save the file with one encoding (UTF-8).",
            code="mixed_encoding",
            file=name,
            line=_line_of(path, bad_offset),
        )
    elif not_cp1252_offset >= 0:
        raise IngestError(
            "Unknown text encoding: the file is neither UTF-8 nor Windows-1252/Latin-1 (perhaps an old "
            "DOS or Mac encoding); the first unreadable character is on this line. Save the file as UTF-8.",
            code="unknown_encoding",
            file=name,
            line=_line_of(path, not_cp1252_offset),
        )
    else:
        # Latin-1 (ISO-8859-1) is Windows-1252 without the characters at 0x80-0x9F (euro sign,
        # typographic quotes and dashes); both decode with Windows-1252.
        encoding = "cp1252" if cp1252_only else "latin-1"
    return Fingerprint(digest, size, encoding, newlines)


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))


def _control_ratio(data: bytes) -> float:
    if not data:
        return 0.0
    return (len(data) - len(data.translate(None, _CONTROL_BYTES))) / len(data)


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
    footer_start_offset: int | None = None  # byte offset of footer_start_line
    skip: int = 0  # records (blank lines count, a quoted field may span lines) before the first data row


def _read_head(path: Path, encoding: str, limit: int = 512 * 1024) -> str:
    with path.open("rb") as fh:
        raw = fh.read(limit)
    text = raw.decode(encoding if encoding != "utf-8-sig" else "utf-8-sig", errors="replace")
    if len(raw) == limit and "\n" in text:
        text = text[: text.rindex("\n") + 1]
    return text


def _split_lines(text: str, limit: int = -1) -> list[str]:
    """The first `limit` physical lines as DuckDB sees them: split at LF only (str.splitlines also
    splits at \\x1c, \\x85, U+2028 ... which may occur inside fields), a trailing CR dropped."""
    sep = "\n" if "\n" in text or "\r" not in text else "\r"
    lines = text.split(sep, limit)
    if limit >= 0 and len(lines) > limit:
        lines.pop()  # the rest of the text
    elif lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def _read_tail(path: Path, limit: int = 64 * 1024) -> tuple[bytes, int]:
    """The file's last bytes, starting at a line boundary, and the byte offset where they start."""
    size = path.stat().st_size
    start = max(0, size - limit)
    with path.open("rb") as fh:
        fh.seek(start)
        raw = fh.read()
    if start:
        cut = raw.find(b"\n")
        if cut < 0:
            return b"", size
        raw = raw[cut + 1 :]
        start += cut + 1
    return raw, start


def _parse_rows(lines: list[str], delimiter: str) -> list[tuple[int, int, list[str]]]:
    """CSV records in `lines`: (0-based first line, 1-based last line, cells); a quoted field may span lines."""
    reader = csv.reader((ln + "\n" for ln in lines), delimiter=delimiter, quotechar='"')
    out: list[tuple[int, int, list[str]]] = []
    prev = 0
    try:
        for row in reader:
            out.append((prev, reader.line_num, row))
            prev = reader.line_num
    except csv.Error:
        pass  # a sample cut inside a quoted field, or a giant field: the records so far will do
    return out


def _parse(lines: list[str], delimiter: str) -> list[list[str]]:
    return [r for _, _, r in _parse_rows(lines, delimiter)]


def _filled(cells: list[str]) -> int:
    return sum(1 for c in cells if c.strip())


def _choose_delimiter(lines: list[str]) -> str:
    best: tuple[float, int, str] | None = None
    for rank, d in enumerate(DELIMITERS):
        rows = [r for r in _parse(lines, d) if _filled(r)]
        counts = Counter(len(r) for r in rows if len(r) > 1)
        if not counts:
            continue
        modal, n = counts.most_common(1)[0]
        score = n / max(1, len(rows))
        if score < 0.3:
            continue  # a few lines with a comma in the text do not make a comma-separated file
        # prefer ';', tab and '|' over ',' when they describe the table as well: German files
        # use ';' precisely because ',' is their decimal separator.
        key = (round(score, 2), -rank if d != "," else -len(DELIMITERS), d)
        if best is None or key[:2] > best[:2]:
            best = key
    if best is None:
        return SINGLE_COLUMN
    return best[2]


_LETTERS = re.compile(r"[^\W\d_]{2}")
_NOTE_START = re.compile(
    r"(?i)\s*(©|\(c\)|copyright|quelle|datenquelle|stand\b|hinweis|anmerkung|fu(ß|ss)note|erläuterung|lizenz|"
    r"source|note|\*|_{3,}|-{3,}|\d{1,2}\)|[¹²³])"
)
_MARKERS = {"k.A.", "k. A.", "n.v.", "n. v.", "n.a.", "x", "X"}


def _numeric(cell: str) -> bool:
    return bool(re.fullmatch(r"[+-]?[\d.,]+%?|\d{1,2}\.\d{1,2}\.\d{2,4}.*|\d{4}-\d{2}(-\d{2})?.*", cell.strip()))


def detect_dialect(
    path: Path, encoding: str, *, name: str | None = None, newline_count: int | None = None
) -> Dialect:
    """Delimiter, header row(s), title lines above and note lines below the table, from head/tail samples.

    `newline_count` (the file's number of LF bytes, if known) saves a pass to number the tail's lines.
    """
    head = _read_head(path, encoding).lstrip("\ufeff")
    lines = _split_lines(head, 400)
    if not any(ln.strip() for ln in lines):
        raise IngestError("The file has no content.", code="empty_file", file=name or path.name)
    delimiter = _choose_delimiter([ln for ln in lines if ln.strip()][:200])
    parsed = _parse_rows(lines, delimiter)
    rows = [r for _, _, r in parsed]
    width = Counter(len(r) for r in rows if len(r) > 1).most_common(1)
    field_count = width[0][0] if width else 1

    max_filled = max((_filled(r) for r in rows if len(r) == field_count), default=1)
    threshold = max(1, (max_filled + 1) // 2) if field_count > 1 else 1
    needed = max(threshold, min(2, max_filled))
    # The header is the first row with enough names: as wide as the data, or narrower without gaps
    # (data rows ending in an extra ';' that the header line lacks). Title lines have one cell.
    header_idx = next(
        (i for i, r in enumerate(rows) if _filled(r) >= needed and (len(r) >= field_count or _filled(r) == len(r))),
        next((i for i, r in enumerate(rows) if _filled(r)), 0),
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
        # a header row has words where the data has numbers, and no number there itself
        # (a first data row with a missing marker "-" or a unit "1,5 €" is not a header row)
        texty = [j for j in numeric_cols if _LETTERS.search(cells[j]) and cells[j].strip() not in _MARKERS]
        numbers = [j for j in numeric_cols if cells[j].strip() and _numeric(cells[j])]
        if not numbers and len(texty) >= max(1, len(numeric_cols) // 2):
            header_end += 1
        else:
            break
    header_first_line = parsed[header_idx][0] if parsed else 0
    data_start_line = (parsed[header_end - 1][1] if parsed else 0) + 1
    dialect = Dialect(
        delimiter=delimiter,
        quotechar='"',
        header_rows=rows[header_idx:header_end],
        data_start_line=data_start_line,
        title_lines=[ln for ln in lines[:header_first_line] if ln.strip(" ;,\t|")],
        field_count=field_count,
        skip=header_end,
    )
    _detect_footer(path, encoding, dialect, newline_count)
    return dialect


def _is_note(text: str, dialect: Dialect) -> bool | None:
    """True for a note line below a table, False for a table row, None for a blank line."""
    if not text.strip(" \t;,|"):
        return None
    if text.count(dialect.quotechar) % 2:
        return False  # the end of a quoted field that spans lines
    if dialect.field_count < 2:
        return False
    cells = next(iter(csv.reader([text], delimiter=dialect.delimiter, quotechar=dialect.quotechar)), [])
    filled = [c for c in cells if c.strip()]
    if len(filled) == 1:
        # a note is free text in one cell; a numeric cell alone is more likely a (short) table row
        return not _numeric(filled[0])
    # a note with the delimiter in it ("Quelle: ...; eigene Berechnung"), but not a short table row,
    # which is rejected with its line number instead
    return len(cells) < dialect.field_count and bool(_NOTE_START.match(text))


def _detect_footer(path: Path, encoding: str, dialect: Dialect, newline_count: int | None) -> None:
    raw, offset = _read_tail(path)
    pieces = raw.split(b"\n")
    if pieces and pieces[-1] == b"":
        pieces.pop()
    footer_from: int | None = None
    for i in range(len(pieces) - 1, -1, -1):
        kind = _is_note(pieces[i].decode(encoding, errors="replace").lstrip("\ufeff").rstrip("\r"), dialect)
        if kind is False:
            break
        footer_from = i
    if footer_from is None:
        return
    notes = [
        t for t in (p.decode(encoding, errors="replace").strip() for p in pieces[footer_from:]) if t.strip(" ;,\t|")
    ]
    if not notes:
        return  # only blank lines at the end: the reader skips them
    while not pieces[footer_from].decode(encoding, errors="replace").strip(" \t;,|\r\ufeff"):
        footer_from += 1  # the notes start at their first line of text
    before = newline_count - raw.count(b"\n") if newline_count is not None else count_newlines(path, offset)
    line_no = before + 1 + footer_from
    if line_no < dialect.data_start_line:
        return
    dialect.footer_start_line = line_no
    dialect.footer_start_offset = offset + sum(len(p) + 1 for p in pieces[:footer_from])
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
