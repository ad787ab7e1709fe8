"""What the portal shows of sensors: the live sensor figures (start page) and the Things of one
catalog dataset with their Datastreams and latest values (dataset page). Visibility is the
SensorThings API's (sensors/access.py, decided by auth.policy through the catalog)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import guarded
from urbandata.catalog import service as catalog
from urbandata.db import tables as t
from urbandata.errors import NotFound
from urbandata.sensors.access import visible_clause
from urbandata.sensors.latest import latest_observations
from urbandata.sensors.model import ENTITY_SETS
from urbandata.sensors.values import parse_instant
from urbandata.stores import Stores

MAX_THINGS = 100  # Things listed on a dataset page; the rest are reachable through the API
FIGURES_TTL_SECONDS = 60.0  # how long the observation sums of the start page are reused
_FIGURES_CACHE = "sensor_overview_observations"


@dataclass(frozen=True)
class SensorFigures:
    """Visible Things and Datastreams, and their numeric observations (counted from the hourly rollups)."""

    things: int
    datastreams: int
    observations: int


@dataclass(frozen=True)
class StreamView:
    id: int
    name: str
    unit_symbol: str | None
    unit_name: str | None
    latest_time: dt.datetime | None
    latest_result: Any


@dataclass(frozen=True)
class ThingView:
    id: int
    name: str
    description: str
    location_name: str | None
    lon: float | None
    lat: float | None
    streams: list[StreamView] = field(default_factory=list)


@dataclass(frozen=True)
class DatasetSensors:
    """The dataset's Things (at most MAX_THINGS, `more` when there are further ones)."""

    things: list[ThingView]
    more: bool

    @property
    def streams(self) -> list[StreamView]:
        return [s for th in self.things for s in th.streams]

    def stream(self, stream_id: int) -> StreamView | None:
        return next((s for s in self.streams if s.id == stream_id), None)


def _conds(ctx: RequestContext, entity: str, tbl: sa.Table) -> list[sa.ColumnElement[bool]]:
    clause = visible_clause(ctx, ENTITY_SETS[entity], tbl)
    return [] if clause is None else [clause]


def _observations_per_stream(stores: Stores, conn: sa.Connection) -> dict[int, int]:
    """Numeric observations per Datastream, summed from the hourly rollups; cached for
    FIGURES_TTL_SECONDS per process (a live figure may lag that long behind)."""
    cached = stores.caches.get(_FIGURES_CACHE)
    now = time.monotonic()
    if cached is not None and now - cached[0] < FIGURES_TTL_SECONDS:
        per_stream: dict[int, int] = cached[1]
        return per_stream
    r = t.sta_rollups.c
    rows = conn.execute(sa.select(r.datastream_id, sa.func.sum(r.n)).group_by(r.datastream_id))
    per_stream = {int(stream): int(n or 0) for stream, n in rows}
    stores.caches[_FIGURES_CACHE] = (now, per_stream)
    return per_stream


@guarded("dataset.read")
def sensor_figures(ctx: RequestContext, stores: Stores) -> SensorFigures:
    """How many Things, Datastreams and (numeric) observations the actor may see (start page).

    Observations are not counted row by row: they are summed from the hourly rollups per Datastream
    (cached briefly, see _observations_per_stream) over the Datastreams the actor may see, so the
    start page stays fast on large histories (DESIGN rule 7)."""
    th, d = t.sta_things, t.sta_datastreams
    with stores.engine.connect() as conn:
        things = conn.execute(sa.select(sa.func.count()).select_from(th).where(*_conds(ctx, "Things", th))).scalar()
        visible = [int(i) for i in conn.execute(sa.select(d.c.id).where(*_conds(ctx, "Datastreams", d))).scalars()]
        per_stream = _observations_per_stream(stores, conn)
    return SensorFigures(
        things=int(things or 0),
        datastreams=len(visible),
        observations=sum(per_stream.get(i, 0) for i in visible),
    )


def _point(location: Any) -> tuple[float | None, float | None]:
    """(lon, lat) of a GeoJSON Point (or a Feature with one); (None, None) for anything else."""
    if isinstance(location, dict) and location.get("type") == "Feature":
        location = location.get("geometry")
    if isinstance(location, dict) and location.get("type") == "Point":
        coords = location.get("coordinates")
        if isinstance(coords, list) and len(coords) >= 2 and all(isinstance(c, int | float) for c in coords[:2]):
            return float(coords[0]), float(coords[1])
    return None, None


def _instant(text: Any) -> dt.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    return parse_instant(text.split("/", 1)[0], "phenomenonTime")


def _stream(entry: dict[str, Any]) -> StreamView:
    unit = entry.get("unitOfMeasurement") or {}
    return StreamView(
        id=int(entry["Datastream@iot.id"]),
        name=str(entry.get("datastreamName") or ""),
        unit_symbol=unit.get("symbol") if isinstance(unit, dict) else None,
        unit_name=unit.get("name") if isinstance(unit, dict) else None,
        latest_time=_instant(entry.get("phenomenonTime")),
        latest_result=entry.get("result"),
    )


@guarded("dataset.read")
def dataset_sensors(ctx: RequestContext, stores: Stores, slug: str, *, base_url: str) -> DatasetSensors:
    """The visible Things of a catalog dataset with their first Location, Datastreams and latest values
    (an empty list when the dataset has no sensors; NotFound when the actor may not see the dataset)."""
    ref = catalog.dataset_ref(ctx, stores, slug=slug)
    th, d, tl, loc = t.sta_things, t.sta_datastreams, t.sta_thing_locations, t.sta_locations
    belongs = sa.or_(th.c.dataset_id == ref.id, th.c.id.in_(sa.select(d.c.thing_id).where(d.c.dataset_id == ref.id)))
    stmt = (
        sa.select(th.c.id, th.c.name, th.c.description)
        .where(belongs, *_conds(ctx, "Things", th))
        .order_by(th.c.id)
        .limit(MAX_THINGS + 1)
    )
    with stores.engine.connect() as conn:
        rows = conn.execute(stmt).all()
        ids = [r.id for r in rows[:MAX_THINGS]]
        locations: dict[int, Any] = {}
        if ids:
            loc_stmt = (
                sa.select(tl.c.thing_id, loc.c.name, loc.c.location)
                .select_from(tl.join(loc, loc.c.id == tl.c.location_id))
                .where(tl.c.thing_id.in_(ids))
                .order_by(tl.c.thing_id, loc.c.id)
            )
            for lr in conn.execute(loc_stmt):
                locations.setdefault(lr.thing_id, lr)
    if not ids:
        return DatasetSensors(things=[], more=False)
    latest = latest_observations(ctx, stores, things=ids, base_url=base_url)["value"]
    streams: dict[int, list[StreamView]] = {}
    for entry in latest:
        streams.setdefault(int(entry["Thing@iot.id"]), []).append(_stream(entry))
    things = []
    for r in rows[:MAX_THINGS]:
        where = locations.get(r.id)
        lon, lat = _point(where.location) if where is not None else (None, None)
        things.append(
            ThingView(
                id=r.id,
                name=r.name,
                description=r.description,
                location_name=where.name if where is not None else None,
                lon=lon,
                lat=lat,
                streams=streams.get(r.id, []),
            )
        )
    return DatasetSensors(things=things, more=len(rows) > MAX_THINGS)


@guarded("dataset.read")
def dataset_stream(ctx: RequestContext, stores: Stores, slug: str, stream_id: int, *, base_url: str) -> StreamView:
    """One visible Datastream of the dataset's Things (NotFound otherwise, as for a missing one)."""
    found = dataset_sensors(ctx, stores, slug, base_url=base_url).stream(stream_id)
    if found is None:
        raise NotFound(f"No Datastream({stream_id}) in dataset {slug!r}", code="not_found", parameter="datastream")
    return found
