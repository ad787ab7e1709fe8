"""The map of the dataset page: which resources have a place, and their rows as GeoJSON features.

A resource gets a map when its Table Schema has a `geojson` column (GeoJSON, WGS84 after ingest), or a
pair of number columns named like latitude/longitude (`lat`/`lon`, `latitude`/`longitude`, `breite`/
`länge`, `y`/`x`, ...) whose values lie in WGS84 ranges (projected x/y such as UTM metres do not). The
rows are read through the catalog's rows service with the visitor's request context, so a masked
geometry column means no map, exactly as the API would hide it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from urbandata.auth.actor import RequestContext
from urbandata.catalog import rows as rows_service
from urbandata.catalog.exports import LAT_NAMES, LON_NAMES
from urbandata.ingest.tableschema import SchemaField
from urbandata.stores import Stores

MAP_LIMIT = 2000  # features drawn; the page says when there are more
LIST_COLUMNS = 4  # attributes shown beside each feature's name in the list alternative
POPUP_COLUMNS = 12
NAME_COLUMNS = ("name", "bezeichnung", "titel", "title", "label", "standort")
MAP_LAT = LAT_NAMES | {"y", "wgs84_lat", "geo_lat"}
MAP_LON = LON_NAMES | {"x", "wgs84_lon", "geo_lon"}
NUMBERS = ("number", "integer")

Point = tuple[float, float]


@dataclass(frozen=True)
class GeoColumns:
    geometry: str | None = None
    lat: str | None = None
    lon: str | None = None


@dataclass
class MapItem:
    label: str
    attributes: list[tuple[str, Any]]
    kind: str  # Point, LineString, Polygon, ... of the feature's geometry
    lat: float | None = None
    lon: float | None = None


@dataclass
class MapData:
    geo: GeoColumns
    collection: dict[str, Any]  # GeoJSON FeatureCollection for the interactive map
    items: list[MapItem]
    columns: list[str]  # attribute columns of the list alternative
    truncated: bool
    skipped: int  # rows without a usable place
    points: list[Point] = field(default_factory=list)
    lines: list[list[Point]] = field(default_factory=list)
    polygons: list[list[list[Point]]] = field(default_factory=list)


def detect(fields: Sequence[SchemaField]) -> GeoColumns | None:
    """Where a resource keeps its places, from its Table Schema; None when it has none."""
    geometry = next((f.name for f in fields if f.type == "geojson"), None)
    if geometry is not None:
        return GeoColumns(geometry=geometry)
    lat = next((f.name for f in fields if f.name.lower() in MAP_LAT and f.type in NUMBERS), None)
    lon = next((f.name for f in fields if f.name.lower() in MAP_LON and f.type in NUMBERS), None)
    if lat is not None and lon is not None:
        return GeoColumns(lat=lat, lon=lon)
    return None


def _wgs84(lon: Any, lat: Any) -> Point | None:
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lon, lat)):
        return None
    return (float(lon), float(lat)) if -180 <= lon <= 180 and -90 <= lat <= 90 else None


def _ring(coords: Any) -> list[Point] | None:
    if not isinstance(coords, list):
        return None
    ring = [p for p in (_position(c) for c in coords) if p is not None]
    return ring if len(ring) == len(coords) else None


def _position(c: Any) -> Point | None:
    return _wgs84(c[0], c[1]) if isinstance(c, list) and len(c) >= 2 else None


def _parts(geometry: Any) -> Iterator[tuple[str, Any]]:
    """(Point|LineString|Polygon, coordinates) of a GeoJSON geometry, multi-parts and collections flattened."""
    if not isinstance(geometry, dict):
        return
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind in ("Point", "LineString", "Polygon"):
        yield kind, coords
    elif kind in ("MultiPoint", "MultiLineString", "MultiPolygon") and isinstance(coords, list):
        for part in coords:
            yield kind[5:], part
    elif kind == "GeometryCollection":
        for g in geometry.get("geometries") or []:
            yield from _parts(g)


def _label_column(fields: Sequence[SchemaField]) -> str | None:
    """The column that names a place: a name-like text column, else the first text column."""
    names = {f.name.lower(): f.name for f in fields if f.type == "string"}
    named = next((names[c] for c in NAME_COLUMNS if c in names), None)
    return named or next((f.name for f in fields if f.type == "string"), None)


def load_map(
    ctx: RequestContext, stores: Stores, slug: str, resource: str, fields: Sequence[SchemaField], geo: GeoColumns
) -> MapData | None:
    """The resource's places (at most MAP_LIMIT rows) as GeoJSON features, list items and drawable parts.

    None when no row has a place in WGS84 ranges (e.g. columns named x/y that hold UTM metres).
    """
    page = rows_service.query_rows(ctx, stores, slug, resource, rows_service.RowQuery(limit=MAP_LIMIT))
    place_columns = {geo.geometry, geo.lat, geo.lon} - {None}
    attrs = [f for f in page.fields if f.name not in place_columns and f.type != "geojson"]
    label_column = _label_column(attrs)
    data = MapData(
        geo=geo,
        collection={"type": "FeatureCollection", "features": []},
        items=[],
        columns=[f.name for f in attrs if f.name != label_column][:LIST_COLUMNS],
        truncated=page.next_cursor is not None,
        skipped=0,
    )
    for n, row in enumerate(page.rows, start=1):
        if geo.geometry is not None:
            geometry = row.get(geo.geometry)
        elif geo.lat is not None and geo.lon is not None:
            point = _wgs84(row.get(geo.lon), row.get(geo.lat))
            geometry = {"type": "Point", "coordinates": list(point)} if point else None
        else:
            geometry = None
        kinds = [_add_part(data, kind, coords) for kind, coords in _parts(geometry)]
        drawn = [k for k in kinds if k is not None]
        if not drawn:
            data.skipped += 1
            continue
        label = str(row.get(label_column) or f"#{n}") if label_column else f"#{n}"
        properties = {f.name: row.get(f.name) for f in attrs[:POPUP_COLUMNS]}
        data.collection["features"].append(
            {"type": "Feature", "geometry": geometry, "properties": {"_label": label, **properties}}
        )
        item = MapItem(label, [(c, row.get(c)) for c in data.columns], drawn[0])
        if len(drawn) == 1 and drawn[0] == "Point" and data.points:
            item.lon, item.lat = data.points[-1]
        data.items.append(item)
    return data if data.items else None


def _add_part(data: MapData, kind: str, coords: Any) -> str | None:
    """Check one part's coordinates (WGS84) and keep it for drawing; its kind, or None if unusable."""
    if kind == "Point":
        point = _position(coords)
        if point is None:
            return None
        data.points.append(point)
        return kind
    if kind == "LineString":
        line = _ring(coords)
        if not line or len(line) < 2:
            return None
        data.lines.append(line)
        return kind
    if kind == "Polygon" and isinstance(coords, list):
        rings = [_ring(r) for r in coords]
        if not rings or any(r is None or len(r) < 3 for r in rings):
            return None
        data.polygons.append([r for r in rings if r is not None])
        return kind
    return None
