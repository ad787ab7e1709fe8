"""Streamed exports of a resource version without a row cap: CSV, JSON, NDJSON, GeoJSON, Parquet, XLSX.

Text cells that a spreadsheet would run as a formula (=, +, -, @, tab, CR at the start) are
prefixed with an apostrophe in CSV and written as plain strings in XLSX (DESIGN rule 6).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import xlsxwriter

from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import guarded
from urbandata.catalog.rows import RowQuery, iter_rows, json_value
from urbandata.errors import InvalidInput
from urbandata.ingest.tableschema import SchemaField
from urbandata.stores import Stores

FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "json": ("application/json", "json"),
    "ndjson": ("application/x-ndjson", "ndjson"),
    "geojson": ("application/geo+json", "geojson"),
    "parquet": ("application/vnd.apache.parquet", "parquet"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_ROWS = 1_048_575  # per sheet, below the header
LAT_NAMES = {"lat", "latitude", "breite", "breitengrad", "y_wgs84"}
LON_NAMES = {"lon", "lng", "long", "longitude", "länge", "laenge", "längengrad", "x_wgs84"}


@dataclass
class Export:
    media_type: str
    filename: str
    etag: str
    public: bool
    chunks: Iterator[bytes]


def safe_cell(value: str) -> str:
    """Neutralise spreadsheet formulas in a text cell."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _geo_columns(fields: list[SchemaField]) -> tuple[str | None, str | None, str | None]:
    geom = next((f.name for f in fields if f.type == "geojson"), None)
    lat = next((f.name for f in fields if f.name.lower() in LAT_NAMES and f.type == "number"), None)
    lon = next((f.name for f in fields if f.name.lower() in LON_NAMES and f.type == "number"), None)
    return geom, lat, lon


@guarded("dataset.read")
def export(
    ctx: RequestContext, stores: Stores, slug: str, resource: str, fmt: str, q: RowQuery, *, flavour: str = "standard"
) -> Export:
    if fmt not in FORMATS:
        raise InvalidInput(f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}", parameter="format")
    if flavour not in ("standard", "excel-de"):
        raise InvalidInput("flavour must be standard or excel-de", parameter="flavour")
    table, fields, batches = iter_rows(ctx, stores, slug, resource, q, purpose="export")
    if fmt == "geojson" and _geo_columns(fields) == (None, None, None):
        raise InvalidInput(
            "This resource has no geometry or latitude/longitude columns; GeoJSON is not available",
            code="no_geometry",
            parameter="format",
        )
    media, ext = FORMATS[fmt]
    fingerprint = json.dumps([table.table_ref, fmt, flavour, q.columns, q.filters, q.sort], default=str)
    etag = '"' + hashlib.sha256(fingerprint.encode()).hexdigest()[:32] + '"'
    writer = {
        "csv": _csv,
        "json": _json,
        "ndjson": _ndjson,
        "geojson": _geojson,
        "parquet": _parquet,
        "xlsx": _xlsx,
    }[fmt]
    return Export(
        media_type=media,
        filename=f"{slug}-{resource}-v{table.version}.{ext}",
        etag=etag,
        public=table.access_level == "public",
        chunks=writer(fields, batches, flavour),
    )


def _text(value: Any, f: SchemaField, flavour: str) -> str:
    if value is None:
        return ""
    v = json_value(value, "")
    if f.type == "geojson" and isinstance(value, str):
        return value
    if isinstance(v, bool):
        return ("ja" if v else "nein") if flavour == "excel-de" else ("true" if v else "false")
    if isinstance(v, float):
        return repr(v).replace(".", ",") if flavour == "excel-de" else repr(v)
    if isinstance(v, str):
        return safe_cell(v) if f.type in ("string", "yearmonth") else v
    return str(v)


def _csv(fields: list[SchemaField], batches: Iterator[list[tuple[Any, ...]]], flavour: str) -> Iterator[bytes]:
    buf = io.StringIO()
    delimiter, newline = (";", "\r\n") if flavour == "excel-de" else (",", "\r\n")
    w = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    w.writerow([safe_cell(f.name) for f in fields])
    prefix = "\ufeff" if flavour == "excel-de" else ""
    yield (prefix + buf.getvalue()).encode("utf-8")
    for batch in batches:
        buf.seek(0)
        buf.truncate()
        for row in batch:
            w.writerow([_text(v, f, flavour) for v, f in zip(row, fields, strict=True)])
        yield buf.getvalue().encode("utf-8")


def _record(row: tuple[Any, ...], fields: list[SchemaField]) -> dict[str, Any]:
    return {f.name: json_value(v, f.type) for v, f in zip(row, fields, strict=True)}


def _json(fields: list[SchemaField], batches: Iterator[list[tuple[Any, ...]]], _flavour: str) -> Iterator[bytes]:
    yield b"["
    first = True
    for batch in batches:
        parts = [json.dumps(_record(r, fields), ensure_ascii=False) for r in batch]
        if parts:
            yield (("" if first else ",") + ",".join(parts)).encode("utf-8")
            first = False
    yield b"]\n"


def _ndjson(fields: list[SchemaField], batches: Iterator[list[tuple[Any, ...]]], _flavour: str) -> Iterator[bytes]:
    for batch in batches:
        yield "".join(json.dumps(_record(r, fields), ensure_ascii=False) + "\n" for r in batch).encode("utf-8")


def _geojson(fields: list[SchemaField], batches: Iterator[list[tuple[Any, ...]]], _flavour: str) -> Iterator[bytes]:
    geom, lat, lon = _geo_columns(fields)
    yield b'{"type":"FeatureCollection","features":['
    first = True
    for batch in batches:
        parts = []
        for row in batch:
            rec = _record(row, fields)
            geometry: Any = None
            if geom:
                geometry = rec.pop(geom)
            elif lat and lon and rec.get(lat) is not None and rec.get(lon) is not None:
                geometry = {"type": "Point", "coordinates": [rec[lon], rec[lat]]}
            parts.append(json.dumps({"type": "Feature", "geometry": geometry, "properties": rec}, ensure_ascii=False))
        if parts:
            yield (("" if first else ",") + ",".join(parts)).encode("utf-8")
            first = False
    yield b"]}\n"


_ARROW = {
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us"),
    "time": pa.time64("us"),
    "year": pa.int32(),
}


class _Sink(io.RawIOBase):
    """A write-only file that hands out what was written so far, so Parquet can stream."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.pos = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        b = bytes(data)
        self.parts.append(b)
        self.pos += len(b)
        return len(b)

    def tell(self) -> int:
        return self.pos

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


def _parquet(fields: list[SchemaField], batches: Iterator[list[tuple[Any, ...]]], _flavour: str) -> Iterator[bytes]:
    schema = pa.schema([pa.field(f.name, _ARROW.get(f.type, pa.string())) for f in fields])
    sink = _Sink()
    with pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema, compression="zstd") as writer:
        for batch in batches:
            columns: list[Any] = list(zip(*batch, strict=True)) if batch else [[] for _ in fields]
            arrays = [pa.array(list(col), type=schema.field(i).type) for i, col in enumerate(columns)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            yield sink.take()
    yield sink.take()


def _xlsx(fields: list[SchemaField], batches: Iterator[list[tuple[Any, ...]]], flavour: str) -> Iterator[bytes]:
    fd, name = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        book = xlsxwriter.Workbook(
            name, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        )
        date_fmt = book.add_format({"num_format": "dd.mm.yyyy"})
        ts_fmt = book.add_format({"num_format": "dd.mm.yyyy hh:mm:ss"})
        sheet, row_no, sheet_no = None, XLSX_MAX_ROWS + 1, 0
        for batch in batches:
            for row in batch:
                if row_no > XLSX_MAX_ROWS:  # a new sheet every 1,048,575 rows: no row cap
                    sheet_no += 1
                    sheet = book.add_worksheet(f"Daten {sheet_no}" if sheet_no > 1 else "Daten")
                    for c, f in enumerate(fields):
                        sheet.write_string(0, c, f.name)
                    row_no = 1
                assert sheet is not None
                for c, (v, f) in enumerate(zip(row, fields, strict=True)):
                    if v is None:
                        continue
                    if f.type in ("integer", "number", "year") and not isinstance(v, bool):
                        sheet.write_number(row_no, c, float(v))
                    elif f.type == "boolean":
                        sheet.write_boolean(row_no, c, bool(v))
                    elif f.type == "date":
                        sheet.write_datetime(row_no, c, v, date_fmt)
                    elif f.type == "datetime":
                        sheet.write_datetime(row_no, c, v, ts_fmt)
                    else:
                        sheet.write_string(row_no, c, safe_cell(str(json_value(v, ""))))
                row_no += 1
        if sheet is None:
            sheet = book.add_worksheet("Daten")
            for c, f in enumerate(fields):
                sheet.write_string(0, c, f.name)
        book.close()
        with open(name, "rb") as fh:
            while chunk := fh.read(1 << 20):
                yield chunk
    finally:
        os.unlink(name)
