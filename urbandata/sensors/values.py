"""STA value conventions: ISO 8601 instants and intervals, results, GeoJSON."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from urbandata.errors import InvalidInput

GEOJSON_TYPES = {
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
    "Feature",
    "FeatureCollection",
}


def parse_instant(value: Any, field: str) -> dt.datetime:
    """An ISO 8601 instant in UTC; a value without a zone is taken as UTC (as FROST does)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{field} must be an ISO 8601 date-time text", code="invalid_time", parameter=field)
    try:
        t = dt.datetime.fromisoformat(value)  # Python 3.11 reads "Z" and offsets
    except ValueError:
        raise InvalidInput(
            f"{field}: {value!r} is not an ISO 8601 date-time (e.g. 2021-07-13T14:46:00Z)",
            code="invalid_time",
            parameter=field,
        ) from None
    # normalised to UTC, as stored
    return t.astimezone(dt.UTC) if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


def parse_time_object(value: Any, field: str) -> tuple[dt.datetime, dt.datetime | None]:
    """An instant or an interval `start/end` (TM_Object)."""
    if isinstance(value, str) and "/" in value:
        start_text, _, end_text = value.partition("/")
        start, end = parse_instant(start_text, field), parse_instant(end_text, field)
        if end < start:
            raise InvalidInput(f"{field}: the interval ends before it starts", code="invalid_time", parameter=field)
        return start, end
    return parse_instant(value, field), None


def parse_interval(value: Any, field: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    if value is None:
        return None, None
    start, end = parse_time_object(value, field)
    return start, end if end is not None else start


def format_instant(t: dt.datetime | None) -> str | None:
    if t is None:
        return None
    if t.tzinfo is None:  # SQLite hands timestamps back without a zone; we store UTC
        t = t.replace(tzinfo=dt.UTC)
    t = t.astimezone(dt.UTC)
    text = t.isoformat(timespec="milliseconds" if t.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def format_time_object(start: dt.datetime | None, end: dt.datetime | None) -> str | None:
    if start is None:
        return None
    if end is None:
        return format_instant(start)
    return f"{format_instant(start)}/{format_instant(end)}"


def format_interval(start: dt.datetime | None, end: dt.datetime | None) -> str | None:
    if start is None:
        return None
    return f"{format_instant(start)}/{format_instant(end or start)}"


def split_result(result: Any) -> tuple[float | None, Any]:
    """(result_number, result_json): numbers go to the numeric column, everything else to JSON."""
    if isinstance(result, bool) or result is None:
        return None, result
    if isinstance(result, int | float):
        if isinstance(result, float) and not math.isfinite(result):
            raise InvalidInput("result must be a finite number", code="invalid_result", parameter="result")
        return float(result), None
    return None, result


def join_result(number: float | None, other: Any) -> Any:
    if number is not None:
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    return other


def check_geojson(value: Any, field: str) -> dict[str, Any]:
    """A GeoJSON object with valid coordinates (checked with shapely)."""
    if not isinstance(value, dict) or value.get("type") not in GEOJSON_TYPES:
        raise InvalidInput(
            f"{field} must be a GeoJSON object (type Point, Polygon, ..., Feature)",
            code="invalid_geojson",
            parameter=field,
        )
    geometry = value.get("geometry") if value["type"] == "Feature" else value
    if value["type"] != "FeatureCollection" and geometry is not None:
        from shapely.geometry import shape

        try:
            geom = shape(geometry)
        except Exception as exc:  # shapely raises several types for broken coordinates
            raise InvalidInput(
                f"{field}: invalid GeoJSON geometry ({exc})", code="invalid_geojson", parameter=field
            ) from None
        if geom.is_empty:
            raise InvalidInput(f"{field}: the geometry is empty", code="invalid_geojson", parameter=field)
        minx, miny, maxx, maxy = geom.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise InvalidInput(
                f"{field}: coordinates must be WGS 84 longitude/latitude", code="invalid_geojson", parameter=field
            )
    return value
