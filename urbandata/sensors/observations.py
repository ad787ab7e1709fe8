"""The one write path for Observations (HTTP, dataArray, MQTT, CSV import, connectors): checks,
automatic FeatureOfInterest, bulk insert, hourly rollups, Datastream time extents and latest value."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from urbandata.db import tables as t
from urbandata.errors import Conflict, InvalidInput, NotFound, UrbanDataError
from urbandata.sensors.values import (
    check_geojson,
    parse_instant,
    parse_interval,
    parse_time_object,
    split_result,
)

OM = "http://www.opengis.net/def/observationType/OGC-OM/2.0/"
ALLOWED_KEYS = {
    "phenomenonTime",
    "resultTime",
    "result",
    "resultQuality",
    "validTime",
    "parameters",
    "FeatureOfInterest",
    "Datastream",
    "MultiDatastream",
    "@iot.id",
    "id",
}


@dataclass
class Stream:
    id: int
    multi: bool
    thing_id: int
    dataset_id: int | None
    observation_type: str
    components: int  # MultiDatastream: length of the result array
    phenomenon_time_start: dt.datetime | None
    phenomenon_time_end: dt.datetime | None
    result_time_start: dt.datetime | None
    result_time_end: dt.datetime | None

    @property
    def path(self) -> str:
        return f"{'MultiDatastreams' if self.multi else 'Datastreams'}({self.id})"


@dataclass
class NewObservation:
    phenomenon_time: dt.datetime
    phenomenon_time_end: dt.datetime | None
    result: Any
    result_time: dt.datetime | None = None
    result_quality: Any = None
    valid_time_start: dt.datetime | None = None
    valid_time_end: dt.datetime | None = None
    parameters: Any = None
    feature_id: int | None = None
    feature: dict[str, Any] | None = None  # an inline new FeatureOfInterest


def _utc(t_: dt.datetime | None) -> dt.datetime | None:
    if t_ is None:
        return None
    return t_.replace(tzinfo=dt.UTC) if t_.tzinfo is None else t_.astimezone(dt.UTC)


def parse_observation(body: Any, now: dt.datetime) -> NewObservation:
    """An Observation from its JSON body (STA 1.1 clause 8.2.7 and 10.2)."""
    if not isinstance(body, dict):
        raise InvalidInput("An Observation must be a JSON object", code="invalid_body")
    unknown = sorted(set(body) - ALLOWED_KEYS)
    if unknown:
        raise InvalidInput(f"Observation has no property {unknown[0]!r}", code="unknown_property", parameter=unknown[0])
    if "result" not in body:
        raise InvalidInput("Observation needs a result", code="missing_property", parameter="result")
    if body.get("phenomenonTime") is None:
        start, end = now, None  # STA: the server sets the current time
    else:
        start, end = parse_time_object(body["phenomenonTime"], "phenomenonTime")
    valid = parse_interval(body.get("validTime"), "validTime")
    result_time = body.get("resultTime")
    obs = NewObservation(
        phenomenon_time=start,
        phenomenon_time_end=end,
        result=body["result"],
        result_time=parse_instant(result_time, "resultTime") if result_time is not None else None,
        result_quality=body.get("resultQuality"),
        valid_time_start=valid[0],
        valid_time_end=valid[1],
        parameters=body.get("parameters"),
    )
    foi = body.get("FeatureOfInterest")
    if foi is not None:
        if not isinstance(foi, dict):
            raise InvalidInput(
                "FeatureOfInterest must be an object", code="invalid_body", parameter="FeatureOfInterest"
            )
        if "@iot.id" in foi and len(foi) == 1:
            obs.feature_id = _int_id(foi["@iot.id"], "FeatureOfInterest")
        else:
            obs.feature = check_feature(foi)
    return obs


_ROW_FAST = {"phenomenonTime", "result", "resultTime"}


def row_parser(components: list[str]) -> Callable[[Any, dt.datetime], NewObservation]:
    """A parser for the rows of one CreateObservations `dataArray` with these `components`
    (checked by the caller). The usual components (phenomenonTime, result, resultTime) are read
    straight from the row; any other one goes through `parse_observation` as a body."""
    width = len(components)

    def check(row: Any) -> list[Any]:
        if not isinstance(row, list) or len(row) != width:
            raise InvalidInput(
                f"Each dataArray row must be an array of {width} values, one per component", code="invalid_body"
            )
        return row

    if not set(components) <= _ROW_FAST or len(set(components)) != width:

        def as_body(row: Any, now: dt.datetime) -> NewObservation:
            body: dict[str, Any] = {}
            for name, value in zip(components, check(row), strict=True):
                if name == "FeatureOfInterest/id":
                    body["FeatureOfInterest"] = {"@iot.id": value}
                else:
                    body[name] = value
            return parse_observation(body, now)

        return as_body
    at_time = components.index("phenomenonTime") if "phenomenonTime" in components else None
    at_result = components.index("result")
    at_result_time = components.index("resultTime") if "resultTime" in components else None

    def fast(row: Any, now: dt.datetime) -> NewObservation:
        check(row)
        when = row[at_time] if at_time is not None else None
        start, end = (now, None) if when is None else parse_time_object(when, "phenomenonTime")
        result_time = row[at_result_time] if at_result_time is not None else None
        return NewObservation(
            phenomenon_time=start,
            phenomenon_time_end=end,
            result=row[at_result],
            result_time=parse_instant(result_time, "resultTime") if result_time is not None else None,
        )

    return fast


def _int_id(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInput(f"{what}: @iot.id must be an integer", code="invalid_id", parameter=what)
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"{what}: @iot.id must be an integer", code="invalid_id", parameter=what) from None


def check_feature(body: dict[str, Any]) -> dict[str, Any]:
    for key in ("name", "encodingType", "feature"):
        if body.get(key) is None:
            raise InvalidInput(f"FeatureOfInterest needs {key}", code="missing_property", parameter=key)
    check_geojson(body["feature"], "FeatureOfInterest.feature")
    return body


def load_stream(conn: sa.Connection, stream_id: int, *, multi: bool = False) -> Stream:
    tbl = t.sta_multi_datastreams if multi else t.sta_datastreams
    row = conn.execute(sa.select(tbl).where(tbl.c.id == stream_id)).first()
    if row is None:
        kind = "MultiDatastream" if multi else "Datastream"
        raise NotFound(f"No {kind} {stream_id}", code="not_found", parameter=kind)
    return Stream(
        id=row.id,
        multi=multi,
        thing_id=row.thing_id,
        dataset_id=row.dataset_id,
        observation_type=row.observation_type,
        components=len(row.multi_observation_data_types) if multi else 1,
        phenomenon_time_start=_utc(row.phenomenon_time_start),
        phenomenon_time_end=_utc(row.phenomenon_time_end),
        result_time_start=_utc(row.result_time_start),
        result_time_end=_utc(row.result_time_end),
    )


def check_result(stream: Stream, result: Any) -> None:
    """The result must fit the stream's observationType."""
    kind = stream.observation_type.removeprefix(OM)
    ok = True
    if stream.multi:
        ok = isinstance(result, list) and len(result) == stream.components
        if not ok:
            raise InvalidInput(
                f"A MultiDatastream observation needs a result array of {stream.components} values",
                code="invalid_result",
                parameter="result",
            )
        return
    if kind == "OM_Measurement":
        ok = isinstance(result, int | float) and not isinstance(result, bool)
    elif kind == "OM_CountObservation":
        ok = isinstance(result, int) and not isinstance(result, bool)
    elif kind == "OM_TruthObservation":
        ok = isinstance(result, bool)
    elif kind == "OM_CategoryObservation":
        ok = isinstance(result, str)
    if not ok:
        raise InvalidInput(
            f"result {result!r} does not fit the Datastream's observationType {kind}",
            code="invalid_result",
            parameter="result",
        )


def _feature_from_location(conn: sa.Connection, thing_id: int, dataset_id: int | None) -> int:
    """STA 10.2: without a FeatureOfInterest the server uses (or creates once) one from the Thing's Location."""
    loc = conn.execute(
        sa.select(t.sta_locations)
        .join(t.sta_thing_locations, t.sta_thing_locations.c.location_id == t.sta_locations.c.id)
        .where(t.sta_thing_locations.c.thing_id == thing_id)
        .order_by(t.sta_locations.c.id.desc())
        .limit(1)
    ).first()
    if loc is None:
        raise InvalidInput(
            "The Observation has no FeatureOfInterest and its Thing has no Location to derive one from",
            code="feature_required",
            parameter="FeatureOfInterest",
        )
    found = conn.execute(sa.select(t.sta_features.c.id).where(t.sta_features.c.location_id == loc.id)).scalar()
    if found is not None:
        return int(found)
    res = conn.execute(
        t.sta_features.insert().values(
            dataset_id=dataset_id,
            name=loc.name,
            description=loc.description,
            encoding_type=loc.encoding_type,
            feature=loc.location,
            properties=loc.properties,
            location_id=loc.id,
        )
    )
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def create_feature(conn: sa.Connection, body: dict[str, Any], dataset_id: int | None) -> int:
    res = conn.execute(
        t.sta_features.insert().values(
            dataset_id=dataset_id,
            name=body["name"],
            description=body.get("description") or "",
            encoding_type=body["encodingType"],
            feature=body["feature"],
            properties=body.get("properties"),
        )
    )
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def _existing_times(conn: sa.Connection, stream: Stream, times: list[dt.datetime]) -> set[dt.datetime]:
    col = t.sta_observations.c.multi_datastream_id if stream.multi else t.sta_observations.c.datastream_id
    found = conn.execute(
        sa.select(t.sta_observations.c.phenomenon_time).where(
            col == stream.id,
            t.sta_observations.c.phenomenon_time >= min(times),
            t.sta_observations.c.phenomenon_time <= max(times),
        )
    ).scalars()
    return {x for x in (_utc(v) for v in found) if x is not None}


def _checked_start(stream: Stream, obs: NewObservation, seen: set[dt.datetime]) -> dt.datetime:
    """The observation's phenomenonTime (start) in UTC, once its result fits the stream and the
    time is not taken (`seen`: stored or earlier in the same request)."""
    check_result(stream, obs.result)
    start = _utc(obs.phenomenon_time)
    assert start is not None
    if start in seen:
        raise Conflict(
            f"{stream.path} already has an observation at {start.isoformat()}",
            code="duplicate_observation",
            parameter="phenomenonTime",
        )
    return start


def insert_observations(
    conn: sa.Connection, stream: Stream, items: list[NewObservation], *, sink: list[dict[str, Any]] | None = None
) -> list[int | UrbanDataError]:
    """Insert `items` into `stream` in one statement; per item the new id or the error that
    rejected it (a duplicate phenomenonTime, a result of the wrong type, a missing FoI).
    With `sink`, the inserted rows (with their ids) are appended to it."""
    outcome: list[int | UrbanDataError] = []
    rows: list[dict[str, Any]] = []
    positions: list[int] = []
    seen = (
        _existing_times(conn, stream, [_utc(o.phenomenon_time) or o.phenomenon_time for o in items]) if items else set()
    )
    features: dict[str, int] = {}
    for obs in items:
        try:
            start = _checked_start(stream, obs, seen)
            feature_id = obs.feature_id
            if feature_id is not None:
                if (
                    conn.execute(sa.select(t.sta_features.c.id).where(t.sta_features.c.id == feature_id)).first()
                    is None
                ):
                    raise NotFound(
                        f"No FeatureOfInterest {feature_id}", code="not_found", parameter="FeatureOfInterest"
                    )
            elif obs.feature is not None:
                feature_id = create_feature(conn, obs.feature, stream.dataset_id)
            else:
                if "auto" not in features:
                    features["auto"] = _feature_from_location(conn, stream.thing_id, stream.dataset_id)
                feature_id = features["auto"]
        except UrbanDataError as exc:
            outcome.append(exc)
            continue
        seen.add(start)
        number, other = split_result(obs.result) if not stream.multi else (None, obs.result)
        rows.append(
            {  # times are UTC already (parse_instant)
                "datastream_id": None if stream.multi else stream.id,
                "multi_datastream_id": stream.id if stream.multi else None,
                "feature_id": feature_id,
                "phenomenon_time": start,
                "phenomenon_time_end": obs.phenomenon_time_end,
                "result_time": obs.result_time,
                "result_number": number,
                "result_json": other,
                "result_quality": obs.result_quality,
                "valid_time_start": obs.valid_time_start,
                "valid_time_end": obs.valid_time_end,
                "parameters": obs.parameters,
            }
        )
        positions.append(len(outcome))
        outcome.append(0)
    if not rows:
        return outcome
    try:
        ids = _bulk_insert(conn, rows)
    except sa.exc.IntegrityError:  # a concurrent writer stored the same phenomenonTime first: the request fails
        raise Conflict(
            f"{stream.path} already has an observation at one of these times", code="duplicate_observation"
        ) from None
    if ids is None:
        ids = _ids_by_time(conn, stream, [r["phenomenon_time"] for r in rows])
    for pos, new_id, row in zip(positions, ids, rows, strict=True):
        outcome[pos] = row["id"] = new_id
    if sink is not None:
        sink.extend(rows)
    _after_insert(conn, stream, rows, ids)
    return outcome


_COLUMNS = (
    "datastream_id",
    "multi_datastream_id",
    "feature_id",
    "phenomenon_time",
    "phenomenon_time_end",
    "result_time",
    "result_number",
    "result_json",
    "result_quality",
    "valid_time_start",
    "valid_time_end",
    "parameters",
)
_JSON_COLUMNS = {"result_json", "result_quality", "parameters"}


def _bulk_insert(conn: sa.Connection, rows: list[dict[str, Any]]) -> list[int] | None:
    """Many observations in one go, below SQLAlchemy's per-row parameter processing: COPY on
    PostgreSQL, executemany on SQLite (values converted as the column types would). Returns the new
    ids in the order of `rows`, or None when they have to be read back."""
    if conn.dialect.name == "postgresql":
        return _copy_rows(conn, rows)
    columns = ", ".join(_COLUMNS)
    marks = ", ".join("?" for _ in _COLUMNS)

    def text(v: dt.datetime | None) -> str | None:
        # SQLAlchemy's SQLite DATETIME text: "YYYY-MM-DD HH:MM:SS.ffffff" of the (UTC) wall time,
        # i.e. the ISO text without its offset
        return None if v is None else v.isoformat(" ", "microseconds")[:26]

    def js(v: Any) -> str | None:
        return None if v is None else json.dumps(v, ensure_ascii=False)

    conn.exec_driver_sql(
        f"INSERT INTO sta_observations ({columns}) VALUES ({marks})",
        [
            (
                r["datastream_id"],
                r["multi_datastream_id"],
                r["feature_id"],
                r["phenomenon_time"].isoformat(" ", "microseconds")[:26],
                text(r["phenomenon_time_end"]),
                text(r["result_time"]),
                r["result_number"],
                js(r["result_json"]),
                js(r["result_quality"]),
                text(r["valid_time_start"]),
                text(r["valid_time_end"]),
                js(r["parameters"]),
            )
            for r in rows
        ],
    )
    # SQLite gives each new row the largest rowid so far plus one, and this transaction is the only
    # writer: the rows hold the n ids up to the last one. Checked, else read back by time.
    last = int(conn.exec_driver_sql("SELECT last_insert_rowid()").scalar_one())
    first = last - len(rows) + 1
    stream_col = "datastream_id" if rows[0]["datastream_id"] is not None else "multi_datastream_id"
    stream_id = rows[0][stream_col]
    found = conn.exec_driver_sql(
        f"SELECT count(*) FROM sta_observations WHERE id BETWEEN ? AND ? AND {stream_col} = ?",
        (first, last, stream_id),
    ).scalar_one()
    return list(range(first, last + 1)) if found == len(rows) else None


def _draw_ids(conn: sa.Connection, n: int) -> list[int]:
    """PostgreSQL: n new observation ids from the table's sequence, ascending (one array, converted
    by the driver, rather than n result rows)."""
    drawn = conn.exec_driver_sql(
        "SELECT array_agg(nextval(pg_get_serial_sequence('sta_observations', 'id'))) FROM generate_series(1, %(n)s)",
        {"n": n},
    ).scalar_one()
    return sorted(int(i) for i in drawn)


def _copy_rows(conn: sa.Connection, rows: list[dict[str, Any]]) -> list[int]:
    """PostgreSQL: ids drawn from the table's sequence up front, then one COPY with them."""
    ids = _draw_ids(conn, len(rows))
    columns = ", ".join(("id", *_COLUMNS))
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(f"COPY sta_observations ({columns}) FROM STDIN") as copy:
            for new_id, row in zip(ids, rows, strict=True):
                copy.write_row(
                    [new_id]
                    + [json.dumps(row[c]) if c in _JSON_COLUMNS and row[c] is not None else row[c] for c in _COLUMNS]
                )
    except Exception as exc:  # psycopg's unique violation: the same meaning as SQLAlchemy's
        if type(exc).__name__ == "UniqueViolation":
            raise sa.exc.IntegrityError("COPY sta_observations", None, exc) from exc
        raise
    finally:
        cursor.close()
    return ids


def _ids_by_time(conn: sa.Connection, stream: Stream, times: list[dt.datetime]) -> list[int]:
    """The ids of the rows just inserted, in the order of `times`: the phenomenon time is unique
    per stream, so one indexed range read finds them (cheaper than RETURNING row by row)."""
    o = t.sta_observations.c
    col = o.multi_datastream_id if stream.multi else o.datastream_id
    found = conn.execute(
        sa.select(o.phenomenon_time, o.id).where(
            col == stream.id, o.phenomenon_time >= min(times), o.phenomenon_time <= max(times)
        )
    ).all()
    by_time = {_utc(when): int(i) for when, i in found}
    return [by_time[when] for when in times]


# how the values of ("id", *_COLUMNS) are written into a text COPY; the server parses each field with
# its column's type, so JSON goes as text (already serialised) into the jsonb columns
_COPY_TEXT_TYPES = [
    "int8",
    "int4",
    "int4",
    "int4",
    "timestamptz",
    "timestamptz",
    "timestamptz",
    "float8",
    "text",
    "text",
    "timestamptz",
    "timestamptz",
    "text",
]


class _NotInOnePass(Exception):
    """An item the one-pass COPY does not handle (an explicit or inline FeatureOfInterest)."""


ONE_PASS_MIN = 500  # smaller requests gain nothing from overlapping parsing with the server's work


def copy_in_one_pass(
    conn: sa.Connection,
    stream: Stream,
    items: list[Any],
    parse: Callable[[Any, dt.datetime], NewObservation],
    now: dt.datetime,
    sink: list[dict[str, Any]],
) -> list[int | UrbanDataError] | None:
    """PostgreSQL, many items: parse, check and COPY each item in one pass, so that the server
    indexes and checks the rows already sent while the next ones are parsed. Per item the new id
    or the error that rejected it; None (with nothing written) when the two-step path must do the
    work: another backend, a small request, an item with its own FeatureOfInterest, or a
    phenomenonTime that is already stored (the two-step path tells which items collide)."""
    if conn.dialect.name != "postgresql" or len(items) < ONE_PASS_MIN or stream.multi:
        return None
    try:
        feature_id = _feature_from_location(conn, stream.thing_id, stream.dataset_id)
    except UrbanDataError:
        return None  # the two-step path reports it per item
    ids = _draw_ids(conn, len(items))
    outcome: list[int | UrbanDataError] = []
    rows: list[dict[str, Any]] = []
    seen: set[dt.datetime] = set()
    columns = ", ".join(("id", *_COLUMNS))
    try:
        with conn.begin_nested():  # a savepoint: a failed COPY leaves the transaction usable
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                with cursor.copy(f"COPY sta_observations ({columns}) FROM STDIN") as copy:
                    copy.set_types(_COPY_TEXT_TYPES)  # no type lookup per value
                    for item, new_id in zip(items, ids, strict=True):
                        try:
                            o = parse(item, now)
                            if o.feature_id is not None or o.feature is not None:
                                raise _NotInOnePass
                            start = _checked_start(stream, o, seen)
                        except UrbanDataError as exc:
                            outcome.append(exc)
                            continue
                        seen.add(start)
                        number, other = split_result(o.result)
                        copy.write_row(
                            (
                                new_id,
                                stream.id,
                                None,
                                feature_id,
                                start,
                                o.phenomenon_time_end,
                                o.result_time,
                                number,
                                None if other is None else json.dumps(other),
                                None if o.result_quality is None else json.dumps(o.result_quality),
                                o.valid_time_start,
                                o.valid_time_end,
                                None if o.parameters is None else json.dumps(o.parameters),
                            )
                        )
                        rows.append(
                            {
                                "id": new_id,
                                "datastream_id": stream.id,
                                "multi_datastream_id": None,
                                "feature_id": feature_id,
                                "phenomenon_time": start,
                                "phenomenon_time_end": o.phenomenon_time_end,
                                "result_time": o.result_time,
                                "result_number": number,
                                "result_json": other,
                                "result_quality": o.result_quality,
                                "valid_time_start": o.valid_time_start,
                                "valid_time_end": o.valid_time_end,
                                "parameters": o.parameters,
                            }
                        )
                        outcome.append(new_id)
            finally:
                cursor.close()
    except _NotInOnePass:
        return None
    except Exception as exc:
        if type(exc).__name__ == "UniqueViolation":  # a phenomenonTime already stored
            return None
        raise
    if rows:
        _after_insert(conn, stream, rows, [r["id"] for r in rows])
        sink.extend(rows)
    return outcome


_ONE_HOUR = dt.timedelta(hours=1)


def _hour(t_: dt.datetime) -> dt.datetime:
    return t_.replace(minute=0, second=0, microsecond=0)


def _upsert_rollups(conn: sa.Connection, stream_id: int, buckets: dict[dt.datetime, list[float]]) -> None:
    values = [
        {"datastream_id": stream_id, "hour": h, "n": len(v), "total": sum(v), "minimum": min(v), "maximum": max(v)}
        for h, v in buckets.items()
    ]
    if conn.dialect.name == "postgresql":
        ins = postgresql.insert(t.sta_rollups)
        low, high = "least", "greatest"
    else:
        ins = sqlite.insert(t.sta_rollups)  # type: ignore[assignment]
        low, high = "min", "max"  # SQLite's scalar min/max of two arguments
    least, greatest = getattr(sa.func, low), getattr(sa.func, high)
    r = t.sta_rollups.c
    ex = ins.excluded
    stmt = ins.on_conflict_do_update(
        index_elements=[r.datastream_id, r.hour],
        set_={
            "n": r.n + ex.n,
            "total": r.total + ex.total,
            "minimum": least(r.minimum, ex.minimum),
            "maximum": greatest(r.maximum, ex.maximum),
        },
    )
    conn.execute(stmt, values)


def recompute_rollups(conn: sa.Connection, stream_id: int, hours: set[dt.datetime]) -> None:
    """After a result changed or an observation was deleted: rebuild the affected hours from raw data."""
    o = t.sta_observations.c
    for hour in hours:
        conn.execute(
            t.sta_rollups.delete().where(t.sta_rollups.c.datastream_id == stream_id, t.sta_rollups.c.hour == hour)
        )
        values = (
            conn.execute(
                sa.select(o.result_number).where(
                    o.datastream_id == stream_id,
                    o.phenomenon_time >= hour,
                    o.phenomenon_time < hour + dt.timedelta(hours=1),
                    o.result_number.is_not(None),
                )
            )
            .scalars()
            .all()
        )
        if values:
            _upsert_rollups(conn, stream_id, {hour: [float(v) for v in values]})


def _after_insert(conn: sa.Connection, stream: Stream, rows: list[dict[str, Any]], ids: list[int]) -> None:
    """Rollups, extents and the latest value; the catalog learns when the dataset got new data."""
    if not stream.multi:
        buckets: dict[dt.datetime, list[float]] = defaultdict(list)
        start = end = None
        bucket: list[float] = []
        for row in rows:
            value, when = row["result_number"], row["phenomenon_time"]
            if value is None:
                continue
            if start is None or end is None or not start <= when < end:  # rows mostly come in time order
                start = _hour(when)
                end = start + _ONE_HOUR
                bucket = buckets[start]
            bucket.append(value)
        if buckets:
            _upsert_rollups(conn, stream.id, buckets)
    refresh_extent(conn, stream, rows, ids)


def refresh_extent(conn: sa.Connection, stream: Stream, rows: list[dict[str, Any]], ids: list[int]) -> None:
    """Datastream phenomenonTime/resultTime extents and its latest observation (by phenomenonTime).

    The new values are merged in SQL with what the row holds when it is updated, not with what
    was read at the start: two writers of one Datastream (HTTP uploads, MQTT) commit in either
    order and the extents and the latest observation still come out right."""
    starts = [r["phenomenon_time"] for r in rows]
    ends = [r["phenomenon_time_end"] or r["phenomenon_time"] for r in rows]
    result_times = [r["result_time"] for r in rows if r["result_time"] is not None]
    latest_pos = max(range(len(rows)), key=lambda i: (starts[i], ids[i]))
    tbl = t.sta_multi_datastreams if stream.multi else t.sta_datastreams
    c = tbl.c
    pg = conn.dialect.name == "postgresql"
    least, greatest = (sa.func.least, sa.func.greatest) if pg else (sa.func.min, sa.func.max)

    def lower(col: sa.Column[Any], value: dt.datetime) -> Any:
        return least(sa.func.coalesce(col, value), value)

    def upper(col: sa.Column[Any], value: dt.datetime) -> Any:
        return greatest(sa.func.coalesce(col, value), value)

    latest_end = ends[latest_pos]
    values: dict[str, Any] = {
        # the SET expressions all see the row as it was before this UPDATE
        "latest_observation_id": sa.case(
            (sa.or_(c.phenomenon_time_end.is_(None), c.phenomenon_time_end <= latest_end), ids[latest_pos]),
            else_=c.latest_observation_id,
        ),
        "phenomenon_time_start": lower(c.phenomenon_time_start, min(starts)),
        "phenomenon_time_end": upper(c.phenomenon_time_end, max(ends)),
    }
    if result_times:
        values["result_time_start"] = lower(c.result_time_start, min(result_times))
        values["result_time_end"] = upper(c.result_time_end, max(result_times))
    conn.execute(tbl.update().where(c.id == stream.id).values(**values))
    # this writer's view, for further inserts into the same Stream object in this transaction
    if stream.phenomenon_time_start is None or min(starts) < stream.phenomenon_time_start:
        stream.phenomenon_time_start = min(starts)
    if stream.phenomenon_time_end is None or max(ends) > stream.phenomenon_time_end:
        stream.phenomenon_time_end = max(ends)
    if result_times:
        if stream.result_time_start is None or min(result_times) < stream.result_time_start:
            stream.result_time_start = min(result_times)
        if stream.result_time_end is None or max(result_times) > stream.result_time_end:
            stream.result_time_end = max(result_times)


def rebuild_extent(conn: sa.Connection, stream_id: int, *, multi: bool = False) -> None:
    """After deletes or time changes: recompute a stream's extents and latest observation from its data."""
    o = t.sta_observations.c
    col = o.multi_datastream_id if multi else o.datastream_id
    agg = conn.execute(
        sa.select(
            sa.func.min(o.phenomenon_time),
            sa.func.max(sa.func.coalesce(o.phenomenon_time_end, o.phenomenon_time)),
            sa.func.min(o.result_time),
            sa.func.max(o.result_time),
        ).where(col == stream_id)
    ).one()
    latest = conn.execute(
        sa.select(o.id).where(col == stream_id).order_by(o.phenomenon_time.desc(), o.id.desc()).limit(1)
    ).scalar()
    tbl = t.sta_multi_datastreams if multi else t.sta_datastreams
    conn.execute(
        tbl.update()
        .where(tbl.c.id == stream_id)
        .values(
            phenomenon_time_start=agg[0],
            phenomenon_time_end=agg[1],
            result_time_start=agg[2],
            result_time_end=agg[3],
            latest_observation_id=latest,
        )
    )
