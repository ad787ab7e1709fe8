"""Geospatial `$filter` functions: `geo.distance geo.length geo.intersects` and the nine `st_*`.

Geometries are stored as GeoJSON in JSON columns (a GeoJSON Feature counts as its geometry).
PostgreSQL: PostGIS, with every function qualified by the schema the extension lives in (tests and
tenants run with their own `search_path`); no PostGIS means 501. SQLite: deterministic Python
functions backed by shapely, registered on each connection (`install_sqlite_functions`).
Distances and lengths are planar, in the units of the coordinates (degrees for WGS 84), as FROST does.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from urbandata.errors import ConfigError, NotImplementedFeature
from urbandata.sensors.query.ast import Geometry

# OData/STA predicate -> its base name (PostGIS ST_<Name>, SQLite sta_st_<name>)
PREDICATES: dict[str, str] = {
    "geo.intersects": "intersects",
    "st_equals": "equals",
    "st_disjoint": "disjoint",
    "st_touches": "touches",
    "st_within": "within",
    "st_overlaps": "overlaps",
    "st_crosses": "crosses",
    "st_intersects": "intersects",
    "st_contains": "contains",
}
_POSTGIS = {
    "intersects": "ST_Intersects",
    "equals": "ST_Equals",
    "disjoint": "ST_Disjoint",
    "touches": "ST_Touches",
    "within": "ST_Within",
    "overlaps": "ST_Overlaps",
    "crosses": "ST_Crosses",
    "contains": "ST_Contains",
}


# --- SQLite: shapely-backed SQL functions -----------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _shape(text: str) -> Any:
    from shapely.geometry import shape

    value = json.loads(text)
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    if not isinstance(value, dict):
        return None
    return shape(value)


def _safe(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A SQL function that answers NULL for NULL or broken input instead of failing the query."""

    def wrapper(*args: Any) -> Any:
        if any(a is None for a in args):
            return None
        try:
            return fn(*args)
        except Exception:  # a broken stored geometry must not fail the whole request
            return None

    return wrapper


def _predicate(name: str) -> Callable[[str, str], int | None]:
    def check(a: str, b: str) -> int | None:
        g1, g2 = _shape(a), _shape(b)
        if g1 is None or g2 is None:
            return None
        return int(bool(getattr(g1, name)(g2)))

    return check


def _relate(a: str, b: str, pattern: str) -> int | None:
    g1, g2 = _shape(a), _shape(b)
    return None if g1 is None or g2 is None else int(bool(g1.relate_pattern(g2, pattern)))


def _distance(a: str, b: str) -> float | None:
    g1, g2 = _shape(a), _shape(b)
    return None if g1 is None or g2 is None else float(g1.distance(g2))


def _length(a: str) -> float | None:
    g = _shape(a)
    return None if g is None else float(g.length)


def _lower(s: str) -> str:
    return str(s).lower()


def _upper(s: str) -> str:
    return str(s).upper()


SQLITE_FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    **{f"sta_st_{name}": (2, _safe(_predicate(name))) for name in _POSTGIS},
    "sta_st_relate": (3, _safe(_relate)),
    "sta_geo_distance": (2, _safe(_distance)),
    "sta_geo_length": (1, _safe(_length)),
    # SQLite's own lower()/upper() only know ASCII; German names need ä, ö, ü, ß
    "sta_lower": (1, _safe(_lower)),
    "sta_upper": (1, _safe(_upper)),
}


def register_sqlite_functions(dbapi_connection: Any) -> None:
    """Register the functions `compile` emits for SQLite on one DBAPI (sqlite3) connection."""
    for name, (n_args, fn) in SQLITE_FUNCTIONS.items():
        dbapi_connection.create_function(name, n_args, fn, deterministic=True)


def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    if not record.info.get("sta_functions"):
        register_sqlite_functions(dbapi_connection)
        record.info["sta_functions"] = True


def install_sqlite_functions(engine: sa.Engine) -> None:
    """Make every connection of a SQLite engine (also those already pooled) know the functions.
    Idempotent; does nothing for other databases."""
    if engine.dialect.name != "sqlite" or sa.event.contains(engine, "checkout", _on_checkout):
        return
    sa.event.listen(engine, "checkout", _on_checkout)


# --- PostgreSQL: PostGIS ----------------------------------------------------------------------


def postgis_schema(conn: sa.Connection) -> str | None:
    """The schema the PostGIS extension lives in, or None without PostGIS (or on SQLite)."""
    if conn.dialect.name != "postgresql":
        return None
    found = conn.execute(
        sa.text("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'postgis'")
    ).scalar()
    return str(found) if found is not None else None


class GeoSQL:
    """Builds geometry expressions and function calls for one dialect."""

    def __init__(self, dialect: str, schema: str | None) -> None:
        self.pg = dialect == "postgresql"
        if self.pg and schema is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", schema.strip('"')):
            raise ConfigError(f"Unusable PostGIS schema name {schema!r}", code="bad_postgis_schema")
        self.schema = schema.strip('"') if schema else None

    def _fn(self, name: str, *args: Any, type_: Any = None) -> sa.ColumnElement[Any]:
        if self.schema is None:
            raise NotImplementedFeature(
                "Geospatial filter functions need PostGIS in the PostgreSQL database",
                code="not_implemented",
                function=name,
            )
        return getattr(getattr(sa.func, self.schema), name)(*args, type_=type_)  # type: ignore[no-any-return]

    def literal(self, geometry: Geometry) -> sa.ColumnElement[Any]:
        if self.pg:
            return self._fn("ST_GeomFromText", sa.literal(geometry.wkt, sa.Text), sa.literal(4326))
        return sa.literal(geometry.geojson, sa.Text)

    def column(self, col: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        """A GeoJSON column (geometry or Feature) as a geometry."""
        if not self.pg:
            return col
        geometry_text = sa.case(
            (
                sa.func.json_extract_path_text(col, "type") == "Feature",
                sa.cast(sa.func.json_extract_path(col, "geometry"), sa.Text),
            ),
            else_=sa.cast(col, sa.Text),
        )
        return self._fn("ST_GeomFromGeoJSON", geometry_text)

    def predicate(self, name: str, a: sa.ColumnElement[Any], b: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
        base = PREDICATES[name]
        if self.pg:
            return self._fn(_POSTGIS[base], a, b, type_=sa.Boolean)
        return getattr(sa.func, f"sta_st_{base}")(a, b) == 1  # type: ignore[no-any-return]

    def relate(
        self, a: sa.ColumnElement[Any], b: sa.ColumnElement[Any], pattern: sa.ColumnElement[Any]
    ) -> sa.ColumnElement[bool]:
        if self.pg:
            return self._fn("ST_Relate", a, b, pattern, type_=sa.Boolean)
        return sa.func.sta_st_relate(a, b, pattern) == 1

    def distance(self, a: sa.ColumnElement[Any], b: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        if self.pg:
            return self._fn("ST_Distance", a, b, type_=sa.Float)
        return sa.func.sta_geo_distance(a, b, type_=sa.Float)

    def length(self, a: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        if self.pg:
            return self._fn("ST_Length", a, type_=sa.Float)
        return sa.func.sta_geo_length(a, type_=sa.Float)
