"""One catalog: the observations of a dataset's Things as a streamed CSV/Parquet download per time
range, and as a versioned resource (`beobachtungen`) of the dataset, so that the data API (rows,
SQL, exports) works on them. Only Datastreams the actor may see are included; times are UTC."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import guarded
from urbandata.catalog import exports as catalog_exports
from urbandata.catalog import service as catalog
from urbandata.catalog.models import Version
from urbandata.db import tables as t
from urbandata.errors import InvalidInput, NotFound
from urbandata.ingest.tableschema import SchemaField
from urbandata.sensors.access import visible_clause
from urbandata.sensors.model import ENTITY_SETS
from urbandata.sensors.values import parse_instant
from urbandata.stores import Stores

RESOURCE = "beobachtungen"
LINEAGE_SOURCE = "SensorThings export"
BATCH_ROWS = 50_000
FORMATS = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}
FIELDS = [
    SchemaField(name="datastream_id", type="integer"),
    SchemaField(name="datastream", type="string"),
    SchemaField(name="thing_id", type="integer"),
    SchemaField(name="thing", type="string"),
    SchemaField(name="observed_property", type="string"),
    SchemaField(name="unit", type="string"),
    SchemaField(name="phenomenon_time_utc", type="datetime"),
    SchemaField(name="phenomenon_time_end_utc", type="datetime"),
    SchemaField(name="result_time_utc", type="datetime"),
    SchemaField(name="result", type="number"),
    SchemaField(name="result_text", type="string"),  # every non-numeric result (text, boolean, JSON)
]
SCHEMA = catalog_exports.arrow_schema(FIELDS)
_UTC_US = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Selection:
    """What one export reads: checked, visible, ready to stream."""

    dataset_id: int
    slug: str
    public: bool
    start: dt.datetime | None
    end: dt.datetime | None
    datastream: int | None
    visible: sa.ColumnElement[bool] | None


@dataclass
class ObservationExport:
    media_type: str
    filename: str
    public: bool
    chunks: Iterator[bytes]


def parse_range(start: str | None, end: str | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    s = parse_instant(start, "from").astimezone(dt.UTC) if start else None
    e = parse_instant(end, "to").astimezone(dt.UTC) if end else None
    if s is not None and e is not None and s >= e:
        raise InvalidInput("from must be before to", code="invalid_range", parameter="from")
    return s, e


def _select(
    ctx: RequestContext,
    stores: Stores,
    slug: str,
    start: dt.datetime | None,
    end: dt.datetime | None,
    datastream: int | None,
) -> Selection:
    ref = catalog.dataset_ref(ctx, stores, slug=slug)  # NotFound for a missing or invisible dataset
    d = t.sta_datastreams
    vis = visible_clause(ctx, ENTITY_SETS["Datastreams"], d)
    if datastream is not None:
        with stores.engine.connect() as conn:
            found = conn.execute(
                sa.select(d.c.id)
                .join(t.sta_things, t.sta_things.c.id == d.c.thing_id)
                .where(d.c.id == datastream, t.sta_things.c.dataset_id == ref.id, *([vis] if vis is not None else []))
            ).first()
        if found is None:
            raise NotFound(
                f"Dataset {slug!r} has no Datastream({datastream})", code="not_found", parameter="datastream"
            )
    return Selection(ref.id, ref.slug, ref.access_level == "public", start, end, datastream, vis)


def _statement(sel: Selection) -> sa.Select[Any]:
    o, d, th, op = t.sta_observations, t.sta_datastreams, t.sta_things, t.sta_observed_properties
    conds: list[sa.ColumnElement[bool]] = [th.c.dataset_id == sel.dataset_id]
    if sel.visible is not None:
        conds.append(sel.visible)
    if sel.datastream is not None:
        conds.append(d.c.id == sel.datastream)
    if sel.start is not None:
        conds.append(o.c.phenomenon_time >= sel.start)
    if sel.end is not None:
        conds.append(o.c.phenomenon_time < sel.end)
    return (
        sa.select(
            d.c.id,
            d.c.name,
            th.c.id,
            th.c.name,
            op.c.name,
            d.c.unit_of_measurement,
            o.c.phenomenon_time,
            o.c.phenomenon_time_end,
            o.c.result_time,
            o.c.result_number,
            o.c.result_json,
        )
        .select_from(
            o.join(d, d.c.id == o.c.datastream_id)
            .join(th, th.c.id == d.c.thing_id)
            .join(op, op.c.id == d.c.observed_property_id)
        )
        .where(*conds)
        .order_by(d.c.id, o.c.phenomenon_time)
    )


def _unit(value: Any) -> str | None:
    if isinstance(value, dict):
        symbol = value.get("symbol") or value.get("name")
        return str(symbol) if symbol is not None else None
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _times(values: tuple[Any, ...]) -> pa.Array:
    """UTC instants (aware from PostgreSQL, naive UTC from SQLite) as naive UTC microseconds."""
    return pa.array(values, type=_UTC_US).cast(pa.timestamp("us"))


def _batch(rows: list[Any]) -> pa.RecordBatch:
    cols = list(zip(*rows, strict=True))
    units: dict[int, str | None] = {}
    unit_col = []
    for ds_id, unit in zip(cols[0], cols[5], strict=True):
        if ds_id not in units:
            units[ds_id] = _unit(unit)
        unit_col.append(units[ds_id])
    arrays = [
        pa.array(cols[0], type=pa.int64()),
        pa.array(cols[1], type=pa.string()),
        pa.array(cols[2], type=pa.int64()),
        pa.array(cols[3], type=pa.string()),
        pa.array(cols[4], type=pa.string()),
        pa.array(unit_col, type=pa.string()),
        _times(cols[6]),
        _times(cols[7]),
        _times(cols[8]),
        pa.array(cols[9], type=pa.float64()),
        pa.array([_text(v) for v in cols[10]], type=pa.string()),
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)


def iter_batches(stores: Stores, sel: Selection) -> Iterator[pa.RecordBatch]:
    """Arrow batches of BATCH_ROWS rows, read with a streaming cursor (never the whole range at once)."""
    with stores.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, max_row_buffer=BATCH_ROWS).execute(_statement(sel))
        for part in result.partitions(BATCH_ROWS):
            yield _batch(list(part))


def _filename(sel: Selection, ext: str) -> str:
    span = "-".join(x.strftime("%Y%m%dT%H%M%SZ") if x else "" for x in (sel.start, sel.end)).strip("-")
    stream = f"-datastream{sel.datastream}" if sel.datastream is not None else ""
    return f"{sel.slug}-beobachtungen{stream}{'-' + span if span else ''}.{ext}"


@guarded("dataset.read")
def export_observations(
    ctx: RequestContext,
    stores: Stores,
    slug: str,
    *,
    fmt: str = "csv",
    start: str | None = None,
    end: str | None = None,
    datastream: int | None = None,
) -> ObservationExport:
    """The observations of a dataset's Things, streamed as CSV (formula-safe) or Parquet."""
    if fmt not in FORMATS:
        raise InvalidInput(f"Unknown format {fmt!r}; use csv or parquet", code="invalid_format", parameter="format")
    s, e = parse_range(start, end)
    sel = _select(ctx, stores, slug, s, e, datastream)
    batches = iter_batches(stores, sel)
    chunks = (
        catalog_exports._csv(FIELDS, batches, "standard") if fmt == "csv" else catalog_exports._parquet(FIELDS, batches)
    )
    return ObservationExport(FORMATS[fmt], _filename(sel, fmt), sel.public, chunks)


@guarded("resource.load")
def export_to_resource(
    ctx: RequestContext, stores: Stores, slug: str, start: str | None = None, end: str | None = None
) -> Version:
    """Write the observations of the dataset's Things (in the range) as a new version of its resource
    `beobachtungen`, through the catalog's normal load path (versioned, atomic, checked)."""
    s, e = parse_range(start, end)
    sel = _select(ctx, stores, slug, s, e, None)
    work = stores.tmp_dir / f"sta-export-{uuid.uuid4().hex}"
    work.mkdir(parents=True)
    try:
        path = work / f"{RESOURCE}.parquet"
        rows = 0
        with pq.ParquetWriter(path, SCHEMA, compression="zstd") as writer:
            for batch in iter_batches(stores, sel):
                writer.write_batch(batch)
                rows += batch.num_rows
        if rows == 0:
            raise InvalidInput(
                f"Dataset {slug!r} has no observations in this range; nothing to load",
                code="no_observations",
                parameter="from",
            )
        lineage = {
            "source": LINEAGE_SOURCE,
            "sensorthings": {
                "from": s.isoformat() if s else None,
                "to": e.isoformat() if e else None,
                "observations": rows,
            },
        }
        return catalog.ingest_file(
            ctx, stores, slug, path, resource=RESOURCE, display_name=f"{RESOURCE}.parquet", lineage=lineage
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
