"""Excel reader (.xlsx/.xlsm through openpyxl, legacy .xls through xlrd): one sheet -> a staging table.

The container is checked before a library opens it: password-protected workbooks (an OLE container with
an EncryptionInfo stream), ZIP bombs (declared unpacked size against the limit, absurd compression
ratios), damaged ZIPs and files that are no workbook at all (HTML tables or CSV with an .xls name) get a
clear error. Rows are streamed; the table is found below title rows and above notes as in CSV files from
statistics offices, and cells keep their native type where a column holds one kind of value.
"""

from __future__ import annotations

import itertools
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import olefile  # type: ignore[import-untyped]

from urbandata.errors import IngestError
from urbandata.ingest.detect import Fingerprint
from urbandata.ingest.excel_books import Book, XlsBook, XlsxBook
from urbandata.ingest.sheet_layout import Merge, cell_text, detect_layout, is_note_row
from urbandata.ingest.sources import RawColumn, RawSource, clean_names
from urbandata.ingest.staging import StagingWriter
from urbandata.ingest.tableschema import DEFAULT_MISSING

CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
HEAD_ROWS = 400  # rows read before deciding where the table is
MAX_PENDING = 1000  # note-like rows held back before they count as table rows after all
MAX_RATIO = 100  # unpacked/packed size of one ZIP entry; real sheets stay far below
RATIO_MIN_SIZE = 16 * 1024**2  # the ratio check applies to entries larger than this
_SPREADSHEET_TYPES = (b"spreadsheetml.sheet.main", b"sheet.macroEnabled.main", b"spreadsheetml.template.main",
                      b"template.macroEnabled.main")


def _encrypted(name: str) -> IngestError:
    return IngestError(
        "The Excel file is password-protected (encrypted). Remove the password in Excel "
        "(File > Info > Protect Workbook > Encrypt with Password) and upload it again.",
        code="encrypted_excel", file=name,
    )


def container_kind(path: Path, name: str) -> str:
    """'xlsx' or 'xls' from the file's content (not its name); IngestError for anything else."""
    with path.open("rb") as fh:
        head = fh.read(2048)
    if head.startswith(ZIP_MAGICS):
        return "xlsx"
    if head.startswith(CFB_MAGIC):
        try:
            with olefile.OleFileIO(str(path)) as ole:
                streams = {"/".join(s).lower() for s in ole.listdir()}
        except Exception as exc:  # olefile raises OSError and its own errors on damaged containers
            raise IngestError(f"The Excel file is damaged and cannot be read: {exc}", code="broken_excel",
                              file=name) from exc
        if "encryptioninfo" in streams or "encryptedpackage" in streams:
            raise _encrypted(name)
        if "workbook" in streams or "book" in streams:
            return "xls"
        raise IngestError("The file is an Office document but not an Excel workbook (perhaps Word or PowerPoint).",
                          code="not_excel", file=name)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<html", b"<!doctype", b"<table", b"<?xml", b"<meta")) or b"<table" in text:
        raise IngestError(
            "The file has an Excel name but is an HTML/XML document (some systems export web tables as .xls). "
            "Open it in Excel and save it as .xlsx, or export CSV.",
            code="not_excel", file=name,
        )
    if head and sum(1 for b in head if b < 9 or 13 < b < 32) == 0:
        raise IngestError(
            "The file has an Excel name but is plain text (probably CSV). Rename it to .csv and upload it again.",
            code="not_excel", file=name,
        )
    raise IngestError("The file is not an Excel workbook (.xlsx or .xls): its content is not recognised.",
                      code="not_excel", file=name)


def check_zip(path: Path, name: str, max_uncompressed: int) -> None:
    """Reject damaged ZIPs, ZIP bombs and ZIPs that hold no workbook, before anything is unpacked."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            types = b""
            ct = next((i for i in infos if i.filename == "[Content_Types].xml"), None)
            if ct is not None and ct.file_size < 1024**2:
                types = zf.read(ct)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, KeyError) as exc:
        raise IngestError(
            f"The Excel file is damaged: it is not a complete ZIP container (perhaps the transfer was cut off): {exc}",
            code="broken_excel", file=name,
        ) from exc
    total = sum(i.file_size for i in infos)
    if total > max_uncompressed:
        raise IngestError(
            f"The Excel file would unpack to {total:,} bytes, more than the limit of {max_uncompressed:,} bytes. "
            "Split the workbook or export the sheet as CSV.",
            code="excel_too_large", file=name, size=total,
        )
    for i in infos:
        if i.file_size > RATIO_MIN_SIZE and i.file_size > MAX_RATIO * max(1, i.compress_size):
            raise IngestError(
                f"The Excel file looks like a ZIP bomb: its part {i.filename!r} unpacks from "
                f"{i.compress_size:,} to {i.file_size:,} bytes.",
                code="zip_bomb", file=name,
            )
    if any(t in types for t in _SPREADSHEET_TYPES):
        return
    names = {i.filename for i in infos}
    if "xl/workbook.bin" in names:
        what = "a binary Excel workbook (.xlsb), which is not supported; save it as .xlsx"
    elif "word/document.xml" in names:
        what = "a Word document"
    elif "ppt/presentation.xml" in names:
        what = "a PowerPoint presentation"
    elif "content.xml" in names and "mimetype" in names:
        what = "an OpenDocument file (.ods); save it as .xlsx"
    else:
        what = "a ZIP archive without an Excel workbook inside"
    raise IngestError(f"The file is {what}.", code="not_excel", file=name)


def _filled_row(row: list[Any]) -> bool:
    return any(v is not None and not (isinstance(v, str) and not v.strip()) for v in row)


def _open_sheet(book: Book, sheet: str) -> tuple[int, list[list[Any]], Iterator[list[Any]]]:
    """(leading empty rows skipped, the first rows from the first filled one, the remaining rows)."""
    rows = book.rows(sheet)
    leading = 0
    for row in rows:
        if _filled_row(row):
            head = [row, *itertools.islice(rows, HEAD_ROWS - 1)]
            return leading, head, rows
        leading += 1
    return leading, [], iter(())


def _pick_sheet(book: Book, names: list[str], sheet: str | None, name: str) -> tuple[str, int, list[list[Any]],
                                                                                     Iterator[list[Any]]]:
    if sheet is not None:
        chosen = sheet if sheet in names else next((n for n in names if n.strip().lower() == sheet.strip().lower()),
                                                   None)
        if chosen is None:
            raise IngestError(
                f"The workbook has no sheet {sheet!r}. Its sheets are: {', '.join(repr(n) for n in names)}.",
                code="unknown_sheet", file=name, sheet=sheet, sheets=names,
            )
        leading, head, rest = _open_sheet(book, chosen)
        if not head:
            raise IngestError(f"The sheet {chosen!r} is empty.", code="empty_sheet", file=name, sheet=chosen)
        return chosen, leading, head, rest
    for candidate in names:
        leading, head, rest = _open_sheet(book, candidate)
        if head:
            return candidate, leading, head, rest
    raise IngestError(
        f"The workbook is empty: none of its sheets ({', '.join(repr(n) for n in names)}) holds a value.",
        code="empty_file", file=name,
    )


def read_excel_source(
    path: Path,
    fp: Fingerprint,
    con: duckdb.DuckDBPyConnection,
    tmp_dir: Path,
    *,
    display_name: str,
    sheet: str | None,
    max_uncompressed: int,
) -> RawSource:
    kind = container_kind(path, display_name)
    notes: list[str] = []
    declared = Path(display_name).suffix.lower()
    if kind == "xls" and declared in (".xlsx", ".xlsm"):
        notes.append("the file is a legacy .xls workbook despite its name; read as .xls")
    if kind == "xlsx" and declared == ".xls":
        notes.append("the file is an .xlsx workbook despite its .xls name; read as .xlsx")
    book: Book
    if kind == "xlsx":
        check_zip(path, display_name, max_uncompressed)
        book = XlsxBook(path, display_name)
    else:
        book = XlsBook(path, display_name)
    try:
        return _read(book, con, display_name, sheet, kind, notes)
    finally:
        book.close()


def _read(book: Book, con: duckdb.DuckDBPyConnection, name: str, sheet: str | None, kind: str,
          notes: list[str]) -> RawSource:
    names = book.sheet_names()
    if not names:
        raise IngestError("The workbook has no sheets.", code="empty_file", file=name)
    chosen, leading, head, rest = _pick_sheet(book, names, sheet, name)
    merges: list[Merge] = [(r0 - leading, r1 - leading, c0, c1) for r0, r1, c0, c1 in book.merges(chosen)
                           if r1 > leading]
    layout = detect_layout(head, merges)
    first, width = layout.first_col, layout.width
    writer = StagingWriter(con, "excel_raw", DEFAULT_MISSING)
    writer.add_columns(width)
    pending: list[tuple[list[Any], list[Any]]] = []  # note-like rows held back: notes unless data follows
    outside = 0  # table rows with values left or right of the table's columns
    for row in itertools.chain(head[layout.data_start :], rest):
        cells = row[first : first + width]
        if len(cells) < width:
            cells = cells + [None] * (width - len(cells))
        pending.append((cells, row))
        if is_note_row(cells, width) and len(pending) <= MAX_PENDING:
            continue
        for held, full in pending:
            writer.append(held)
            outside += _filled_row(full[:first]) or _filled_row(full[first + width :])
        pending = []
    footer = [" ".join(t for t in (cell_text(v) for v in full) if t) for _, full in pending if _filled_row(full)]
    if writer.rows_appended == 0:
        raise IngestError(f"The sheet {chosen!r} has a header but no data rows.", code="no_rows", file=name,
                          sheet=chosen)
    col_names = clean_names(layout.headers)
    raw_types = writer.create_view("excel_data", [(j, col_names[j], None) for j in range(width)])
    first_line = leading + layout.data_start + 1  # Excel row number of the first table row

    if len(names) > 1 and sheet is None:
        others = [n for n in names if n != chosen]
        notes.append(f"sheet {chosen!r} loaded; the workbook also has: {', '.join(repr(n) for n in others)}")
    if layout.title_rows:
        notes.append(f"{len(layout.title_rows)} title row(s) above the table skipped")
    if layout.header_rows > 1:
        notes.append(f"{layout.header_rows} stacked header rows combined into column names")
    if footer:
        notes.append(f"{len(footer)} note row(s) below the table skipped")
    if book.errors:
        notes.append(f"{book.errors} cell(s) with Excel error values (#DIV/0!, #N/A, ...) loaded as empty")
    if outside:
        notes.append(f"{outside} row(s) have values outside the table's columns; those cells were not loaded")

    def locate(i: int) -> dict[str, Any]:
        return {"line": first_line + i, "sheet": chosen}

    return RawSource(
        format=kind,
        relation="excel_data",
        columns=[RawColumn(name=n, source_name=h or "", raw_type=t)
                 for n, h, t in zip(col_names, layout.headers, raw_types, strict=True)],
        locate=locate,
        notes=notes,
        missing_values=list(DEFAULT_MISSING),
        extra={
            "sheet": chosen,
            "sheets": names,
            "header_line": leading + layout.header_start + 1,
            "title_lines": layout.title_rows,
            "footer_lines": footer,
        },
    )
