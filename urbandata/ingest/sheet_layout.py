"""Where the table is in a spreadsheet: title rows above, stacked header rows, notes below.

The same rules as the CSV dialect detection (urbandata.ingest.detect) applied to cells instead of text
lines, as statistics-office exports (GENESIS) put the same layout into .xls/.xlsx files: title rows with
one filled cell, a header row (or several stacked ones, whose group labels are merged cells), data rows,
and footnotes with one text cell each below the table.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# (first row, end row, first column, end column), 0-based, ends exclusive (xlrd's convention)
Merge = tuple[int, int, int, int]

_NUMERIC_TEXT = re.compile(r"[+-]?[\d.,]+%?|\d{1,2}\.\d{1,2}\.\d{2,4}.*|\d{4}-\d{2}(-\d{2})?.*")


@dataclass
class Layout:
    header_start: int  # 0-based row index of the first header row
    data_start: int  # 0-based row index of the first data row
    first_col: int
    width: int
    headers: list[str | None]  # one name per column (None: no header)
    title_rows: list[str] = field(default_factory=list)
    header_rows: int = 1


def cell_text(value: Any) -> str | None:
    """A cell as header text (None when empty)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time(0, 0):
        return value.date().isoformat()
    text = str(value).strip()
    return text or None


def _filled(v: Any) -> bool:
    return v is not None and not (isinstance(v, str) and not v.strip())


def _numeric(v: Any) -> bool:
    if isinstance(v, str):
        return bool(_NUMERIC_TEXT.fullmatch(v.strip()))
    return v is not None


def is_note_row(cells: Sequence[Any], width: int) -> bool:
    """Empty rows and rows of one text cell (in a table wider than one column): notes, unless data follows."""
    filled = [v for v in cells if _filled(v)]
    if not filled:
        return True
    return width > 1 and len(filled) == 1 and isinstance(filled[0], str) and not _numeric(filled[0])


def _extent(rows: Sequence[Sequence[Any]]) -> tuple[int, int]:
    """(first, last) column index holding a value in any of `rows`; (0, -1) when all are empty."""
    first, last = None, -1
    for r in rows:
        for j, v in enumerate(r):
            if _filled(v):
                first = j if first is None else min(first, j)
                last = max(last, j)
    return (first or 0), last


def _fill_merges(rows: list[list[Any]], merges: Sequence[Merge], first: int, last: int) -> list[list[Any]]:
    """Copy each merged cell's value into the whole merged range, except banners spanning the full width."""
    out = [list(r) for r in rows]
    for r0, r1, c0, c1 in merges:
        if r0 >= len(out) or (c0 <= first and c1 - 1 >= last and r1 - r0 == 1):
            continue
        value = out[r0][c0] if c0 < len(out[r0]) else None
        if not _filled(value):
            continue
        for i in range(r0, min(r1, len(out))):
            if len(out[i]) < c1:
                out[i].extend([None] * (c1 - len(out[i])))
            for j in range(c0, c1):
                if not _filled(out[i][j]):
                    out[i][j] = value
    return out


def combine_headers(rows: Sequence[Sequence[str | None]], width: int) -> list[str | None]:
    """One name per column from stacked header rows, e.g. 'Verkehrsfläche / Straße'.

    A row that says the same thing over all its columns ('Flächennutzungsarten' over every value column)
    adds nothing; labels that span every header row of a column ('Stichtag') do not count as variety.
    """
    if not rows:
        return [None] * width
    if len(rows) == 1:
        return [rows[0][j] if j < len(rows[0]) else None for j in range(width)]

    def at(r: Sequence[str | None], j: int) -> str | None:
        return r[j] if j < len(r) else None

    spanning = {j for j in range(width) if at(rows[0], j) and all(at(r, j) == at(rows[0], j) for r in rows)}
    useful = [r for r in rows if len({at(r, j) for j in range(width) if at(r, j) and j not in spanning}) > 1]
    if not useful:
        useful = [rows[-1]]
    names: list[str | None] = []
    for j in range(width):
        parts: list[str] = []
        for r in useful:
            cell = at(r, j)
            if cell and cell not in parts:
                parts.append(cell)
        names.append(" / ".join(parts) or None)
    return names


def detect_layout(head: Sequence[Sequence[Any]], merges: Sequence[Merge] = ()) -> Layout:
    """Find title rows, header rows and the table's columns in the first rows of a sheet."""
    first, last = _extent(head)
    rows = _fill_merges([list(r) for r in head], merges, first, last)
    width_all = last - first + 1

    def filled(r: Sequence[Any]) -> int:
        return sum(1 for v in r[first : last + 1] if _filled(v))

    max_filled = max((filled(r) for r in rows), default=1)
    threshold = max(1, (max_filled + 1) // 2) if width_all > 1 else 1
    header_idx = next(
        (i for i, r in enumerate(rows) if filled(r) >= max(threshold, min(2, max_filled))),
        0,
    )
    # stacked header rows: text where the data below has numbers
    data_rows = [r for r in rows[header_idx + 1 : header_idx + 60] if filled(r) >= min(threshold, 2)]
    numeric_cols = {
        j for j in range(first, last + 1)
        if data_rows and sum(1 for r in data_rows if j < len(r) and _numeric(r[j])) >= len(data_rows) * 0.5
    }
    header_end = header_idx + 1
    while header_end < len(rows) and numeric_cols:
        r = rows[header_end]
        texty = [j for j in numeric_cols if j < len(r) and _filled(r[j]) and not _numeric(r[j])]
        if len(texty) >= max(1, len(numeric_cols) // 2):
            header_end += 1
        else:
            break
    # the table's own columns: header rows and data rows, not notes written beside or below it
    body = [r for r in rows[header_end:] if not is_note_row(r[first : last + 1], width_all)]
    first, last = _extent(rows[header_idx:header_end] + body)
    width = max(1, last - first + 1)
    header_rows = [[cell_text(r[j]) if j < len(r) else None for j in range(first, first + width)]
                   for r in rows[header_idx:header_end]]
    titles = []
    for title_row in head[:header_idx]:
        text = " ".join(t for t in (cell_text(v) for v in title_row) if t)
        if text:
            titles.append(text)
    return Layout(
        header_start=header_idx,
        data_start=header_end,
        first_col=first,
        width=width,
        headers=combine_headers(header_rows, width),
        title_rows=titles,
        header_rows=header_end - header_idx,
    )
