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
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import xlsxwriter

from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import guarded
from urbandata.catalog.rows import RowQuery, json_value, plan_read
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
    plan = plan_read(ctx, stores, slug, resource, q, purpose="export")
    table, fields = plan.table, plan.fields
    if fmt == "geojson" and _geo_columns(fields) == (None, None, None):
        raise InvalidInput(
            "This resource has no geometry or latitude/longitude columns; GeoJSON is not available",
            code="no_geometry",
            parameter="format",
        )
    media, ext = FORMATS[fmt]
    fingerprint = json.dumps([table.table_ref, fmt, flavour, q.columns, q.filters, q.sort], default=str)
    etag = '"' + hashlib.sha256(fingerprint.encode()).hexdigest()[:32] + '"'
    if fmt in ("csv", "parquet"):  # columnar: Arrow batches straight from the engine
        arrow = stores.datastore.iter_arrow(table.table_ref, plan.columns, arrow_schema(fields), plan.where, plan.order)
        chunks = _csv(fields, arrow, flavour) if fmt == "csv" else _parquet(fields, arrow)
    else:
        batches = stores.datastore.iter_batches(table.table_ref, plan.columns, plan.where, plan.order)
        writer = {"json": _json, "ndjson": _ndjson, "geojson": _geojson, "xlsx": _xlsx}[fmt]
        chunks = writer(fields, batches, flavour)
    return Export(
        media_type=media,
        filename=f"{slug}-{resource}-v{table.version}.{ext}",
        etag=etag,
        public=table.access_level == "public",
        chunks=chunks,
    )


_FORMULA_FIRST = pa.array(list(_FORMULA_START))


def _guard_formulas(col: pa.Array) -> pa.Array:
    """Vectorised safe_cell: prefix text that starts like a formula with an apostrophe."""
    risky = pc.is_in(pc.utf8_slice_codeunits(col, 0, 1), value_set=_FORMULA_FIRST)
    if not pc.any(risky).as_py():
        return col
    return pc.if_else(risky, pc.binary_join_element_wise("'", col, ""), col)


def _iso_datetimes(col: pa.Array) -> pa.Array:
    """ISO 8601 like the JSON outputs (`2024-02-01T08:15:00`), fractions only where there are any."""
    seconds = pc.cast(col, pa.timestamp("s"), safe=False)
    whole = pc.all(pc.equal(pc.cast(seconds, col.type), col)).as_py() in (True, None)
    text = pc.cast(seconds if whole else col, pa.string())
    return pc.replace_substring(text, " ", "T", max_replacements=1)


def _csv_column(col: pa.Array, f: SchemaField, flavour: str) -> pa.Array:
    if f.type in ("string", "yearmonth"):
        return _guard_formulas(col)
    if f.type == "datetime":
        return _iso_datetimes(col)
    if flavour == "excel-de":
        if f.type == "number":
            return pc.replace_substring(pc.cast(col, pa.string()), ".", ",")
        if f.type == "boolean":
            return pc.if_else(col, "ja", "nein")
    return col


def _csv(fields: list[SchemaField], batches: Iterator[pa.RecordBatch], flavour: str) -> Iterator[bytes]:
    """RFC 4180 CSV written by Arrow; `excel-de`: `;`, decimal comma, ja/nein, BOM."""
    delimiter = ";" if flavour == "excel-de" else ","
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerow([safe_cell(f.name) for f in fields])
    yield (("\ufeff" if flavour == "excel-de" else "") + buf.getvalue()).encode("utf-8")
    options = pacsv.WriteOptions(include_header=False, delimiter=delimiter, eol="\r\n", quoting_style="needed")
    names = [f.name for f in fields]
    for batch in batches:
        if batch.num_rows == 0:
            continue
        cols = [_csv_column(batch.column(i), f, flavour) for i, f in enumerate(fields)]
        sink = pa.BufferOutputStream()
        pacsv.write_csv(pa.RecordBatch.from_arrays(cols, names=names), sink, options)
        yield sink.getvalue().to_pybytes()


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


def arrow_schema(fields: list[SchemaField]) -> pa.Schema:
    return pa.schema([pa.field(f.name, _ARROW.get(f.type, pa.string())) for f in fields])


def _parquet(fields: list[SchemaField], batches: Iterator[pa.RecordBatch]) -> Iterator[bytes]:
    schema = arrow_schema(fields)
    sink = _Sink()
    with pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema, compression="zstd") as writer:
        for batch in batches:
            if batch.num_rows:
                writer.write_batch(batch)
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
