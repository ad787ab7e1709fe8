"""GeoJSON geometries: structural validation, the legacy `crs` member, reprojection to WGS84 (lon/lat).

Validation is what a map client needs to draw a geometry: a known type, coordinates nested as the type
requires, positions of two or three finite numbers, lines of two or more positions, closed rings of four
or more, and longitude/latitude within range once in WGS84.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

# how deep positions are nested in `coordinates`, per geometry type
DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}
WGS84_NAMES = {"EPSG:4326", "OGC:CRS84", "OGC:CRS84H", "EPSG:4979"}
_PLACES = 7  # decimal places kept after reprojection (about 1 cm)


class GeometryProblem(Exception):
    pass


def _position(p: Any, gtype: str) -> None:
    if isinstance(p, list) and p and isinstance(p[0], list):
        raise GeometryProblem(f"wrong coordinate nesting for {gtype}: one list level too many in {_short(p)}")
    if not isinstance(p, list) or not 2 <= len(p) <= 4:
        raise GeometryProblem(f"a position must be 2 or 3 numbers, found {_short(p)}")
    for v in p:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise GeometryProblem(f"a position must be 2 or 3 numbers, found {_short(p)}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _nested(coords: Any, depth: int, gtype: str) -> None:
    if depth == 0:
        _position(coords, gtype)
        return
    if not isinstance(coords, list):
        raise GeometryProblem(f"wrong coordinate nesting for {gtype}: expected a list, found {_short(coords)}")
    for c in coords:
        _nested(c, depth - 1, gtype)


def _line(line: list[Any], what: str) -> None:
    if len(line) < 2:
        raise GeometryProblem(f"{what} needs at least 2 positions, has {len(line)}")


def _ring(ring: list[Any], n: int) -> None:
    if len(ring) < 4:
        raise GeometryProblem(f"ring {n} has {len(ring)} positions; a closed ring needs at least 4")
    if ring[0][:2] != ring[-1][:2]:
        raise GeometryProblem(f"ring {n} is not closed (its first and last positions differ)")


def validate(geom: Any) -> dict[str, Any] | None:
    """The geometry reduced to its members (type, coordinates/geometries), or None for an empty one."""
    if not isinstance(geom, dict):
        raise GeometryProblem(f"the geometry is not an object: {_short(geom)}")
    gtype = geom.get("type")
    if gtype == "GeometryCollection":
        parts = geom.get("geometries")
        if not isinstance(parts, list):
            raise GeometryProblem("a GeometryCollection needs a list of 'geometries'")
        valid = [g for g in (validate(p) for p in parts) if g is not None]
        return {"type": gtype, "geometries": valid}
    if gtype not in DEPTH:
        raise GeometryProblem(f"unknown geometry type {_short(gtype)}")
    coords = geom.get("coordinates")
    if coords is None or coords == []:
        return None  # RFC 7946: empty coordinates may be read as a null geometry
    _nested(coords, DEPTH[gtype], gtype)
    if gtype == "LineString":
        _line(coords, "a LineString")
    elif gtype == "MultiLineString":
        for i, line in enumerate(coords, 1):
            _line(line, f"line {i} of the MultiLineString")
    elif gtype == "Polygon":
        for i, ring in enumerate(coords, 1):
            _ring(ring, i)
    elif gtype == "MultiPolygon":
        for polygon in coords:
            for i, ring in enumerate(polygon, 1):
                _ring(ring, i)
    return {"type": gtype, "coordinates": coords}


def positions(geom: dict[str, Any]) -> Iterator[list[float]]:
    """Every position of a validated geometry (the lists themselves, so they can be changed in place)."""
    if geom["type"] == "GeometryCollection":
        for g in geom["geometries"]:
            yield from positions(g)
        return
    stack: list[tuple[Any, int]] = [(geom["coordinates"], DEPTH[geom["type"]])]
    while stack:
        coords, depth = stack.pop()
        if depth == 0:
            yield coords
        else:
            stack.extend((c, depth - 1) for c in reversed(coords))


def check_range(geom: dict[str, Any], projected_hint: bool) -> None:
    for p in positions(geom):
        if not (-180 <= p[0] <= 180 and -90 <= p[1] <= 90):
            hint = (
                "; the coordinates look projected (e.g. UTM, EPSG:25832) but the file declares no crs"
                if projected_hint and (abs(p[0]) > 1000 or abs(p[1]) > 1000) else ""
            )
            raise GeometryProblem(f"coordinates out of range for WGS84 longitude/latitude: {_short(p[:2])}{hint}")


def source_crs(member: Any) -> tuple[CRS | None, str | None]:
    """(CRS to transform from, or None for WGS84 lon/lat; a short name) from a legacy `crs` member."""
    if member is None:
        return None, None
    if not isinstance(member, dict):
        raise CRSError(f"the crs member is not an object: {_short(member)}")
    props = member.get("properties") or {}
    kind = str(member.get("type", "")).lower()
    if kind == "name" and isinstance(props, dict) and props.get("name"):
        text = str(props["name"])
    elif kind == "epsg" and isinstance(props, dict) and props.get("code"):
        text = f"EPSG:{props['code']}"
    else:
        raise CRSError(f"unsupported crs member {_short(member)} (only named CRS are supported)")
    crs = CRS.from_user_input(text)
    auth = crs.to_authority() or crs.to_authority(min_confidence=50)
    short = f"{auth[0]}:{auth[1]}" if auth else text
    # EPSG:4326 in a GeoJSON crs member means lon/lat in practice (as CRS84): no axis swap, no transformation
    if short.upper() in WGS84_NAMES or text.upper().endswith(("CRS84", "EPSG::4326", "EPSG:4326", "EPSG/0/4326")):
        return None, short
    return crs, short


class Reprojector:
    """Transforms positions in place to WGS84 longitude/latitude, many at once."""

    def __init__(self, crs: CRS) -> None:
        self.transformer = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    def transform(self, geoms: list[dict[str, Any]]) -> None:
        pts = [p for g in geoms for p in positions(g)]
        if not pts:
            return
        xs, ys = self.transformer.transform([p[0] for p in pts], [p[1] for p in pts], errcheck=False)
        for p, x, y in zip(pts, xs, ys, strict=True):
            p[0] = round(x, _PLACES) if math.isfinite(x) else math.inf
            p[1] = round(y, _PLACES) if math.isfinite(y) else math.inf
