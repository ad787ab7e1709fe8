"""Server-side aggregation per Datastream (urbandata extension of the SensorThings API):
min/max/avg/sum/count of numeric results per minute, hour, day, week or month over a time range.

Whole UTC hours are read from the hourly rollups (`sta_rollups`, maintained on every write), so a
month of hourly or daily values over a long history reads a few hundred rows. Hours that a bucket
boundary or the range edge cuts (a range starting at 10:20, a day boundary in a zone with a
half-hour offset) are computed exactly from the raw observations. `minute` reads raw observations,
grouped by the database, and is limited to MAX_BUCKETS buckets.

Bucket boundaries: minute and hour buckets are aligned to UTC (the same as local time in every zone
with whole-hour offsets, such as Europe/Berlin); day, week (ISO, starting Monday) and month buckets
start at local midnight in the requested time zone, so a day is 23 or 25 hours long on DST change
days. The first and last bucket are clipped to the requested range.
"""

from __future__ import annotations

import bisect
import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import guarded
from urbandata.db import tables as t
from urbandata.errors import InvalidInput, NotFound
from urbandata.sensors.access import visible_clause
from urbandata.sensors.model import ENTITY_SETS
from urbandata.sensors.serialize import self_link
from urbandata.sensors.values import format_instant, parse_instant
from urbandata.stores import Stores

INTERVALS = ("minute", "hour", "day", "week", "month")
FUNCTIONS = ("min", "max", "avg", "sum", "count")
PARAMETERS = {"interval", "from", "to", "functions", "tz"}
DEFAULT_TZ = "Europe/Berlin"
MAX_BUCKETS = 100_000
HOUR = dt.timedelta(hours=1)
# the shortest a bucket of each interval can be (a DST day has 23 hours), to refuse huge requests early
_SHORTEST = {
    "minute": dt.timedelta(minutes=1),
    "hour": HOUR,
    "day": dt.timedelta(hours=23),
    "week": dt.timedelta(days=7) - HOUR,
    "month": dt.timedelta(days=28) - HOUR,
}


@dataclass(frozen=True)
class AggregationRequest:
    interval: str
    start: dt.datetime  # UTC
    end: dt.datetime  # UTC, exclusive
    functions: tuple[str, ...]
    tz: zoneinfo.ZoneInfo


@dataclass
class Bucket:
    start: dt.datetime
    end: dt.datetime
    n: int = 0
    total: float = 0.0
    minimum: float | None = None
    maximum: float | None = None

    def add(self, n: int, total: float, minimum: float, maximum: float) -> None:
        if n <= 0:
            return
        self.n += n
        self.total += total
        self.minimum = minimum if self.minimum is None else min(self.minimum, minimum)
        self.maximum = maximum if self.maximum is None else max(self.maximum, maximum)

    def render(self, functions: Iterable[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"start": format_instant(self.start), "end": format_instant(self.end)}
        for fn in functions:
            if fn == "count":
                out["count"] = self.n
            elif fn == "sum":
                out["sum"] = self.total if self.n else None
            elif fn == "avg":
                out["avg"] = self.total / self.n if self.n else None
            elif fn == "min":
                out["min"] = self.minimum
            else:
                out["max"] = self.maximum
        return out


def parse_request(params: Mapping[str, str]) -> AggregationRequest:
    """Check the query parameters; every problem is a 400 naming the parameter."""
    unknown = sorted(set(params) - PARAMETERS)
    if unknown:
        raise InvalidInput(
            f"Unknown parameter {unknown[0]!r}; use {', '.join(sorted(PARAMETERS))}",
            code="unknown_parameter",
            parameter=unknown[0],
        )
    interval = params.get("interval")
    if not interval:
        raise InvalidInput(
            f"interval is required: one of {', '.join(INTERVALS)}", code="missing_parameter", parameter="interval"
        )
    if interval not in INTERVALS:
        raise InvalidInput(
            f"Unknown interval {interval!r}; use one of {', '.join(INTERVALS)}",
            code="invalid_interval",
            parameter="interval",
        )
    for name in ("from", "to"):
        if not params.get(name):
            raise InvalidInput(
                f"{name} is required (an ISO 8601 date-time, e.g. 2026-11-01T00:00:00+01:00)",
                code="missing_parameter",
                parameter=name,
            )
    start = parse_instant(params["from"], "from").astimezone(dt.UTC)
    end = parse_instant(params["to"], "to").astimezone(dt.UTC)
    if start >= end:
        raise InvalidInput("from must be before to", code="invalid_range", parameter="from")
    raw_functions = params.get("functions") or ",".join(FUNCTIONS)
    functions = tuple(f.strip() for f in raw_functions.split(",") if f.strip())
    bad = [f for f in functions if f not in FUNCTIONS]
    if bad or not functions:
        raise InvalidInput(
            f"Unknown function {bad[0] if bad else raw_functions!r}; use {', '.join(FUNCTIONS)}",
            code="invalid_function",
            parameter="functions",
        )
    tz_name = params.get("tz") or DEFAULT_TZ
    try:
        tz = zoneinfo.ZoneInfo(tz_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"Unknown time zone {tz_name!r} (use an IANA name such as Europe/Berlin or UTC)",
            code="invalid_time_zone",
            parameter="tz",
        ) from None
    if (end - start) / _SHORTEST[interval] > MAX_BUCKETS:
        raise InvalidInput(
            f"This range has more than {MAX_BUCKETS:,} {interval} buckets; choose a longer interval or a shorter range",
            code="too_many_buckets",
            parameter="interval",
        )
    return AggregationRequest(interval, start, end, tuple(dict.fromkeys(functions)), tz)


def _floor_utc(t_: dt.datetime, step: dt.timedelta) -> dt.datetime:
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return epoch + ((t_ - epoch) // step) * step


def _local_midnight(day: dt.date, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.UTC)


def bucket_starts(req: AggregationRequest) -> list[dt.datetime]:
    """The nominal start of every bucket that overlaps the range (the first may start before it)."""
    if req.interval in ("minute", "hour"):
        step = dt.timedelta(minutes=1) if req.interval == "minute" else HOUR
        first = _floor_utc(req.start, step)
        count = -((first - req.end) // step)  # ceil((end - first) / step)
        return [first + i * step for i in range(count)]
    day = req.start.astimezone(req.tz).date()
    if req.interval == "week":
        day -= dt.timedelta(days=day.weekday())
    elif req.interval == "month":
        day = day.replace(day=1)
    if _local_midnight(day, req.tz) > req.start:  # a zone whose midnight falls in a DST gap
        day -= dt.timedelta(days=1)
    starts: list[dt.datetime] = []
    while (b := _local_midnight(day, req.tz)) < req.end:
        starts.append(b)
        if req.interval == "day":
            day += dt.timedelta(days=1)
        elif req.interval == "week":
            day += dt.timedelta(days=7)
        else:
            day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return starts


def make_buckets(req: AggregationRequest) -> list[Bucket]:
    starts = bucket_starts(req)
    ends = [*starts[1:], req.end]
    return [Bucket(max(s, req.start), min(e, req.end)) for s, e in zip(starts, ends, strict=True)]


def _utc(value: Any) -> dt.datetime:
    if isinstance(value, str):  # SQLite's minute key
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class _Index:
    """Finds the bucket an instant belongs to."""

    def __init__(self, buckets: list[Bucket]) -> None:
        self.buckets = buckets
        self.starts = [b.start for b in buckets]

    def at(self, t_: dt.datetime) -> Bucket:
        return self.buckets[max(0, bisect.bisect_right(self.starts, t_) - 1)]


def _minute_key(conn: sa.Connection, col: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    if conn.dialect.name == "postgresql":
        return sa.func.date_trunc("minute", col)
    return sa.func.substr(col, 1, 16)  # SQLite stores UTC as 'YYYY-MM-DD HH:MM:SS.ffffff'


def _add_minutes(conn: sa.Connection, stream_id: int, req: AggregationRequest, index: _Index) -> None:
    """minute interval: raw observations, grouped per minute by the database."""
    o = t.sta_observations.c
    key = _minute_key(conn, o.phenomenon_time).label("k")
    stmt = (
        sa.select(
            key,
            sa.func.count(),
            sa.func.sum(o.result_number),
            sa.func.min(o.result_number),
            sa.func.max(o.result_number),
        )
        .where(
            o.datastream_id == stream_id,
            o.phenomenon_time >= req.start,
            o.phenomenon_time < req.end,
            o.result_number.is_not(None),
        )
        .group_by(key)
    )
    for k, n, total, low, high in conn.execute(stmt):
        index.at(_utc(k)).add(int(n), float(total), float(low), float(high))


def _raw_hours(req: AggregationRequest, buckets: list[Bucket]) -> list[dt.datetime]:
    """Hours cut by a bucket boundary or the range edge: these are computed from raw observations."""
    cuts = {b.start for b in buckets} | {req.end}
    hours = {_floor_utc(c, HOUR) for c in cuts if c != _floor_utc(c, HOUR)}
    return sorted(h for h in hours if h + HOUR > req.start and h < req.end)


def _add_hours(conn: sa.Connection, stream_id: int, req: AggregationRequest, index: _Index) -> None:
    """hour/day/week/month: rollups for whole hours, raw observations for cut hours."""
    raw = _raw_hours(req, index.buckets)
    o, r = t.sta_observations.c, t.sta_rollups.c
    first_whole = req.start if req.start == _floor_utc(req.start, HOUR) else _floor_utc(req.start, HOUR) + HOUR
    last_whole = _floor_utc(req.end, HOUR)
    if first_whole < last_whole:
        stmt = sa.select(r.hour, r.n, r.total, r.minimum, r.maximum).where(
            r.datastream_id == stream_id, r.hour >= first_whole, r.hour < last_whole
        )
        skip = set(raw)
        for hour, n, total, low, high in conn.execute(stmt):
            h = _utc(hour)
            if h not in skip:
                index.at(h).add(int(n), float(total), float(low), float(high))
    for chunk_start in range(0, len(raw), 500):
        chunk = raw[chunk_start : chunk_start + 500]
        stmt2 = sa.select(o.phenomenon_time, o.result_number).where(
            o.datastream_id == stream_id,
            o.phenomenon_time >= req.start,
            o.phenomenon_time < req.end,
            o.result_number.is_not(None),
            sa.or_(*[sa.and_(o.phenomenon_time >= h, o.phenomenon_time < h + HOUR) for h in chunk]),
        )
        for when, value in conn.execute(stmt2):
            v = float(value)
            index.at(_utc(when)).add(1, v, v, v)


@guarded("dataset.read")
def aggregate(
    ctx: RequestContext, stores: Stores, stream_id: int, params: Mapping[str, str], *, base_url: str
) -> dict[str, Any]:
    """`GET Datastreams({id})/Aggregations`: one entry per bucket, empty buckets included (count 0)."""
    entity = ENTITY_SETS["Datastreams"]
    tbl = entity.table
    vis = visible_clause(ctx, entity, tbl)
    req = parse_request(params)
    with stores.engine.connect() as conn:
        found = conn.execute(
            sa.select(tbl.c.id).where(tbl.c.id == stream_id, *([vis] if vis is not None else []))
        ).first()
        if found is None:  # an invisible Datastream answers exactly like a missing one
            raise NotFound(f"No Datastream({stream_id}) here", code="not_found")
        buckets = make_buckets(req)
        index = _Index(buckets)
        if req.interval == "minute":
            _add_minutes(conn, stream_id, req, index)
        else:
            _add_hours(conn, stream_id, req, index)
    return {
        "Datastream@iot.id": stream_id,
        "Datastream@iot.navigationLink": self_link(base_url, entity, stream_id),
        "interval": req.interval,
        "timeZone": req.tz.key,
        "from": format_instant(req.start),
        "to": format_instant(req.end),
        "functions": list(req.functions),
        "value": [b.render(req.functions) for b in buckets],
    }
