"""Streaming row access to workbooks: .xlsx through openpyxl (read-only), legacy .xls through xlrd.

Both give sheet names, merged cell ranges and the rows of a sheet as lists of native Python values
(str, int/float, bool, datetime, time); Excel error cells (#DIV/0!, #N/A, ...) become None and are counted.
Failures of the underlying libraries become IngestErrors naming the file, sheet and row.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import openpyxl
import xlrd

from urbandata.errors import IngestError
from urbandata.ingest.sheet_layout import Merge

EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!"}
)
_MERGE_REF = re.compile(rb"<(?:\w+:)?mergeCell\s+ref=\"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?\"")


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n - 1


class Book(Protocol):
    errors: int  # error cells seen so far

    def sheet_names(self) -> list[str]: ...

    def rows(self, sheet: str) -> Iterator[list[Any]]: ...

    def merges(self, sheet: str) -> list[Merge]: ...

    def close(self) -> None: ...


def broken(name: str, exc: BaseException, *, sheet: str | None = None, row: int | None = None) -> IngestError:
    detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    where = f" (sheet {sheet!r}, row {row})" if sheet and row else ""
    return IngestError(
        f"The Excel file is damaged and cannot be read{where}: {detail}",
        code="broken_excel", file=name, sheet=sheet, line=row,
    )


class XlsxBook:
    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.name = name
        self.errors = 0
        # a file object, not the path: openpyxl judges paths by their extension
        self._fh = path.open("rb")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.wb = openpyxl.load_workbook(self._fh, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises KeyError, ValueError, XML parse errors, ...
            self._fh.close()
            raise broken(name, exc) from exc

    def sheet_names(self) -> list[str]:
        return [str(n) for n in self.wb.sheetnames]

    def rows(self, sheet: str) -> Iterator[list[Any]]:
        ws = self.wb[sheet]
        if not hasattr(ws, "iter_rows"):  # a chart sheet
            return
        # the stored dimension is often wrong (e.g. "A1"); read what the rows really hold
        ws.reset_dimensions()
        row_no = 0
        it = ws.iter_rows(min_row=1, min_col=1, values_only=True)
        while True:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    values = next(it)
            except StopIteration:
                return
            except Exception as exc:
                raise broken(self.name, exc, sheet=sheet, row=row_no + 1) from exc
            row_no += 1
            out = list(values)
            for j, v in enumerate(out):
                if isinstance(v, str) and v in EXCEL_ERRORS:
                    out[j] = None
                    self.errors += 1
            yield out

    def merges(self, sheet: str) -> list[Merge]:
        """Merged ranges from the sheet XML (read-only mode does not parse them); streamed in chunks."""
        ws = self.wb[sheet]
        part = getattr(ws, "_worksheet_path", None)
        if not part:
            return []
        found: list[Merge] = []
        tail = b""
        try:
            with zipfile.ZipFile(self.path) as zf, zf.open(part) as fh:
                while chunk := fh.read(1 << 20):
                    data = tail + chunk
                    last_end = 0
                    for m in _MERGE_REF.finditer(data):
                        c0, r0 = _col_index(m.group(1)), int(m.group(2)) - 1
                        c1 = _col_index(m.group(3)) if m.group(3) else c0
                        r1 = int(m.group(4)) - 1 if m.group(4) else r0
                        found.append((r0, r1 + 1, c0, c1 + 1))
                        last_end = m.end()
                    tail = data[max(last_end, len(data) - 200) :]
        except (KeyError, OSError, zipfile.BadZipFile) as exc:
            raise broken(self.name, exc, sheet=sheet) from exc
        return found

    def close(self) -> None:
        self.wb.close()
        self._fh.close()


class XlsBook:
    def __init__(self, path: Path, name: str) -> None:
        self.name = name
        self.errors = 0
        try:
            try:
                self.book = xlrd.open_workbook(str(path), formatting_info=True, on_demand=True)
            except NotImplementedError:
                self.book = xlrd.open_workbook(str(path), on_demand=True)
        except xlrd.XLRDError as exc:
            if "encrypt" in str(exc).lower():
                raise IngestError(
                    "The Excel file is password-protected (encrypted). Remove the password in Excel "
                    "(File > Info > Protect Workbook) and upload it again.",
                    code="encrypted_excel", file=name,
                ) from exc
            raise broken(name, exc) from exc
        except Exception as exc:  # xlrd raises struct.error, IndexError, AssertionError on damaged files
            raise broken(name, exc) from exc

    def sheet_names(self) -> list[str]:
        return [str(n) for n in self.book.sheet_names()]

    def _sheet(self, sheet: str) -> Any:
        try:
            return self.book.sheet_by_name(sheet)
        except Exception as exc:
            raise broken(self.name, exc, sheet=sheet) from exc

    def rows(self, sheet: str) -> Iterator[list[Any]]:
        sh = self._sheet(sheet)
        for r in range(sh.nrows):
            try:
                yield [self._value(c) for c in sh.row(r)]
            except Exception as exc:
                raise broken(self.name, exc, sheet=sheet, row=r + 1) from exc

    def _value(self, cell: Any) -> Any:
        t = cell.ctype
        if t in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
            return None
        if t == xlrd.XL_CELL_TEXT:
            return cell.value
        if t == xlrd.XL_CELL_NUMBER:
            return float(cell.value)
        if t == xlrd.XL_CELL_DATE:
            try:
                value: dt.datetime = xlrd.xldate.xldate_as_datetime(cell.value, self.book.datemode)
            except (xlrd.xldate.XLDateError, ValueError, OverflowError):
                return float(cell.value)
            return value.time() if value.date() == dt.date(1899, 12, 31) and cell.value < 1 else value
        if t == xlrd.XL_CELL_BOOLEAN:
            return bool(cell.value)
        self.errors += 1  # XL_CELL_ERROR
        return None

    def merges(self, sheet: str) -> list[Merge]:
        return [(int(a), int(b), int(c), int(d)) for a, b, c, d in getattr(self._sheet(sheet), "merged_cells", [])]

    def close(self) -> None:
        self.book.release_resources()
