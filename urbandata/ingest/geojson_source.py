"""GeoJSON reader: a FeatureCollection (or a single Feature), streamed feature by feature with ijson.

Properties become columns (native types where a property holds one kind of value; objects and lists,
such as a second geometry in a property, as JSON text); the geometry is kept as GeoJSON text in the
column `geometry`, in WGS84 longitude/latitude: a legacy `crs` member naming another CRS (EPSG:25832,
urn:ogc:def:crs:EPSG::31467, ...) is transformed with pyproj. Features with invalid geometries are
rejected one by one with their feature number; if none is valid the load fails.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from pathlib import Path
from typing import Any

import duckdb
import ijson  # type: ignore[import-untyped]
from pyproj.exceptions import CRSError

from urbandata.errors import IngestError
from urbandata.ingest.detect import Fingerprint
from urbandata.ingest.geojson_geometry import (
    DEPTH,
    GeometryProblem,
    Reprojector,
    check_range,
    positions,
    source_crs,
    validate,
)
from urbandata.ingest.json_scan import locate_json_error, open_utf8
from urbandata.ingest.sources import RawColumn, RawSource, Reject, clean_names
from urbandata.ingest.staging import StagingWriter
from urbandata.ingest.tableschema import DEFAULT_MISSING

BATCH_FEATURES = 5000
BATCH_POSITIONS = 200_000
MAX_REJECTS_KEPT = 10_000  # rejected features described in the report; all are counted
_SCALAR_EVENTS = ("null", "boolean", "integer", "double", "number", "string")


def _probe(path: Path, encoding: str, name: str) -> tuple[str, Any, bool]:
    """('collection' or 'feature', crs member, whether the crs member was seen) from the top of the file."""
    top_type: Any = None
    crs: Any = None
    crs_seen = False
    builder: Any = None
    with open_utf8(path, encoding) as fh:
        for prefix, event, value in ijson.parse(fh, use_float=True):
            if prefix == "":
                if event not in ("start_map", "end_map", "map_key"):
                    raise IngestError("The file is not a GeoJSON object (expected a FeatureCollection).",
                                      code="not_geojson", file=name)
            elif prefix == "type":
                top_type = value
            elif prefix == "crs" or prefix.startswith("crs."):
                if builder is None:
                    builder = ijson.ObjectBuilder()
                builder.event(event, value)
                if prefix == "crs" and (event in ("end_map", "end_array") or event in _SCALAR_EVENTS):
                    crs, crs_seen, builder = builder.value, True, None
            elif prefix == "features":
                if event != "start_array":
                    raise IngestError("The member 'features' of the FeatureCollection is not a list.",
                                      code="not_geojson", file=name)
                return "collection", crs, crs_seen
    if top_type == "Feature":
        return "feature", crs, True
    if top_type in DEPTH or top_type == "GeometryCollection":
        raise IngestError(f"The file holds a bare {top_type} geometry, not a FeatureCollection with properties.",
                          code="not_geojson", file=name)
    raise IngestError("The file is not a GeoJSON FeatureCollection (no 'features' list).", code="not_geojson",
                      file=name)


def _broken(path: Path, encoding: str, name: str, exc: Exception, done: int) -> IngestError:
    problem = locate_json_error(path, encoding)
    if problem is not None:
        return IngestError(problem.message, code="broken_json", file=name, line=problem.line, column=problem.column)
    return IngestError(f"Broken JSON after feature {done}: {str(exc).splitlines()[0][:200]}", code="broken_json",
                       file=name)


class _Collector:
    """Feature -> staging row: columns for new properties as they appear, batched reprojection."""

    def __init__(self, con: duckdb.DuckDBPyConnection, reproj: Reprojector | None) -> None:
        self.writer = StagingWriter(con, "geo_raw", DEFAULT_MISSING)
        self.writer.add_columns(1)  # column 0: the geometry
        self.keys: dict[str, int] = {}
        self.fid_col: int | None = None
        self.reproj = reproj
        self.batch: list[tuple[int, dict[str, Any] | None, Any, dict[str, Any]]] = []
        self.batch_positions = 0
        self.rejects: list[Reject] = []
        self.rejected: list[int] = []  # 0-based feature indexes, ascending
        self.null_geometries = 0

    def reject(self, index: int, reason: str, value: Any = None, column: str | None = "geometry") -> None:
        self.rejected.append(index)
        if len(self.rejects) >= MAX_REJECTS_KEPT:
            return
        text = None if value is None else json.dumps(value, ensure_ascii=False, default=str)[:200]
        self.rejects.append(Reject(line=None, column=column, reason=f"feature {index + 1}: {reason}", value=text,
                                   location={"feature": index + 1}))

    def add(self, index: int, feature: Any) -> None:
        if not isinstance(feature, dict) or feature.get("type", "Feature") != "Feature":
            self.reject(index, "not a GeoJSON Feature object", feature, column=None)
            return
        props = feature.get("properties")
        if props is None:
            props = {}
        if not isinstance(props, dict):
            self.reject(index, "'properties' is not an object", props, column=None)
            return
        raw = feature.get("geometry")
        try:
            geom = validate(raw) if raw is not None else None
        except GeometryProblem as exc:
            self.reject(index, str(exc), raw)
            return
        self.batch.append((index, geom, feature.get("id"), props))
        if geom is not None:
            self.batch_positions += sum(1 for _ in positions(geom))
        if len(self.batch) >= BATCH_FEATURES or self.batch_positions >= BATCH_POSITIONS:
            self.flush()

    def flush(self) -> None:
        if self.reproj is not None:
            self.reproj.transform([g for _, g, _, _ in self.batch if g is not None])
        w = self.writer
        for index, geom, fid, props in self.batch:
            if geom is not None:
                try:
                    check_range(geom, projected_hint=self.reproj is None)
                except GeometryProblem as exc:
                    self.reject(index, str(exc), geom)
                    continue
            else:
                self.null_geometries += 1
            for k in props:
                if k not in self.keys:
                    self.keys[k] = w.add_columns(1)
            if fid is not None and self.fid_col is None:
                self.fid_col = w.add_columns(1)
            row: list[Any] = [None] * w.width
            row[0] = json.dumps(geom, separators=(",", ":")) if geom is not None else None
            for k, v in props.items():
                row[self.keys[k]] = v
            if fid is not None and self.fid_col is not None:
                row[self.fid_col] = fid
            w.append(row)
        self.batch = []
        self.batch_positions = 0


def read_geojson_source(
    path: Path, fp: Fingerprint, con: duckdb.DuckDBPyConnection, tmp_dir: Path, *, display_name: str
) -> RawSource:
    name = display_name
    try:
        kind, crs_member, crs_seen = _probe(path, fp.encoding, name)
        if not crs_seen:  # a crs member after the features: rare, found by a fast scan
            with open_utf8(path, fp.encoding) as fh:
                crs_member = next(iter(ijson.items(fh, "crs", use_float=True)), None)
    except ijson.JSONError as exc:
        raise _broken(path, fp.encoding, name, exc, 0) from exc
    try:
        crs, crs_name = source_crs(crs_member)
    except CRSError as exc:
        raise IngestError(f"The file's crs member names a coordinate reference system that is not known: {exc}",
                          code="unknown_crs", file=name) from exc
    collector = _Collector(con, Reprojector(crs) if crs is not None else None)
    done = 0
    try:
        with open_utf8(path, fp.encoding) as fh:
            for index, feature in enumerate(ijson.items(fh, "features.item" if kind == "collection" else "",
                                                        use_float=True)):
                collector.add(index, feature)
                done = index + 1
    except ijson.JSONError as exc:
        raise _broken(path, fp.encoding, name, exc, done) from exc
    collector.flush()
    w = collector.writer
    if w.rows_appended == 0:
        if collector.rejects:
            first = collector.rejects[0]
            raise IngestError(f"No feature could be loaded: every feature is invalid; first problem: {first.reason}",
                              code="invalid_geometry", file=name, feature=first.location.get("feature"))
        raise IngestError("The FeatureCollection has no features.", code="no_rows", file=name)

    prop_keys = list(collector.keys)
    fid_header = "feature_id" if any(k.strip().lower() == "id" for k in prop_keys) else "id"
    headers: list[str | None] = ["geometry", *( [fid_header] if collector.fid_col is not None else []), *prop_keys]
    names = clean_names(headers)
    order: list[tuple[int, str, str | None, str]] = []
    if collector.fid_col is not None:
        order.append((collector.fid_col, names[1], None, "id"))
    offset = 2 if collector.fid_col is not None else 1
    order += [(collector.keys[k], names[offset + i], None, k) for i, k in enumerate(prop_keys)]
    order.append((0, names[0], "GEOJSON", "geometry"))
    raw_types = w.create_view("geo_data", [(j, n, forced) for j, n, forced, _ in order])
    columns = [RawColumn(name=n, source_name=src, raw_type=t) for (_, n, _, src), t in zip(order, raw_types,
                                                                                           strict=True)]

    notes: list[str] = []
    extra: dict[str, Any] = {}
    if crs_name:
        extra["crs"] = crs_name
    if fp.encoding not in ("utf-8", "utf-8-sig"):
        notes.append(f"encoding {fp.encoding} converted to UTF-8")
    if crs is not None:
        notes.append(f"coordinates transformed from {crs_name} to WGS84 longitude/latitude (EPSG:4326)")
    nested = [c.name for c in columns if c.raw_type == "JSON"]
    if nested:
        notes.append("properties holding objects or lists (e.g. a second geometry) kept as JSON text: "
                     + ", ".join(nested[:20]))
    if collector.null_geometries:
        notes.append(f"{collector.null_geometries} feature(s) without geometry")
    rejected = collector.rejected

    def locate(i: int) -> dict[str, Any]:
        feature = i
        shift = 0
        while True:  # each rejected feature before this row shifts it by one
            n = bisect_right(rejected, feature + shift)
            if n == shift:
                break
            shift = n
        return {"feature": feature + shift + 1}

    def collect_rejects(limit: int) -> int:
        """The pipeline's hook: keep `limit` descriptions, return how many features were rejected."""
        del collector.rejects[limit:]
        return len(rejected)

    extra["collect_rejects"] = collect_rejects
    return RawSource(
        format="geojson",
        relation="geo_data",
        columns=columns,
        locale="en",
        locate=locate,
        structural_rejects=collector.rejects,
        notes=notes,
        missing_values=list(DEFAULT_MISSING),
        extra=extra,
    )
