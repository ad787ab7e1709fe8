"""GeoJSON ingestion: properties as columns, geometry as GeoJSON in WGS84, legacy crs, invalid geometries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from urbandata.errors import IngestError
from urbandata.ingest.pipeline import IngestOptions, StageResult, stage_file

REAL = Path(__file__).parents[1] / "data" / "real"


def stage(path: Path, tmp_path: Path, **options: Any) -> StageResult:
    return stage_file(path, IngestOptions(display_name=path.name, **options), tmp_path / "work")


def rows(result: StageResult, columns: str = "*") -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(result.staged.path), read_only=True)
    try:
        return con.execute(f"SELECT {columns} FROM data ORDER BY rowid").fetchall()
    finally:
        con.close()


def types(result: StageResult) -> dict[str, str]:
    return {f["name"]: f["type"] for f in result.report["schema"]["fields"]}


def point(x: float, y: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [x, y]}


def feature(geometry: Any, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": props}


def collection(path: Path, features: list[Any], crs: str | None = None, indent: int | None = None) -> Path:
    doc: dict[str, Any] = {"type": "FeatureCollection"}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    doc["features"] = features
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=indent), encoding="utf-8")
    return path


def coords(text: str) -> Any:
    return json.loads(text)["coordinates"]


# --- real files --------------------------------------------------------------------------------------


def test_jena_car_parks_with_a_second_geometry_in_a_property(tmp_path: Path) -> None:
    result = stage(REAL / "jena_parken.geojson", tmp_path)
    report = result.report
    assert report["format"] == "geojson"
    assert report["rows_loaded"] == 103 and report["rows_rejected"] == 0
    assert types(result) == {"id": "integer", "gid": "integer", "art": "string", "name": "string",
                             "the_geom": "string", "geometry": "geojson"}
    # the crs member says EPSG:4326, which in GeoJSON means longitude/latitude as they are
    assert report["crs"] == "EPSG:4326"
    assert not any("transformed" in n for n in report["notes"])
    ident, _, art, name, the_geom, geometry = rows(result)[0]
    assert (ident, art, name) == (185, "Parkplatz", "Eichplatz")
    assert json.loads(geometry) == {"type": "Point", "coordinates": [11.585954366, 50.928491667]}
    second = json.loads(the_geom)  # kept as it is: JSON text of a point in EPSG:25832
    assert second["crs"]["properties"]["name"] == "EPSG:25832"
    assert second["coordinates"] == [681721.5236099467, 5645057.655347267]
    names = [r[0] for r in rows(result, "name")]
    assert "Wiesenstraße" in names


def test_kaiserslautern_car_parks_without_crs(tmp_path: Path) -> None:
    result = stage(REAL / "kaiserslautern_parkhaeuser.geojson", tmp_path)
    assert result.report["rows_loaded"] == 12
    assert "crs" not in result.report
    assert types(result) == {"name": "string", "type": "string", "url": "string", "source": "string",
                             "active_support": "boolean", "address": "string", "total": "integer",
                             "geometry": "geojson"}
    by_name = {r[0]: r for r in rows(result, "name, address, total, geometry")}
    name, address, total, geometry = by_name["PH Lutrinastraße"]
    assert (address, total) == ("Badstraße 3", 67)
    assert coords(geometry) == [7.772792279720306, 49.44166030571838]


# --- coordinate reference systems --------------------------------------------------------------------


@pytest.mark.parametrize("crs", ["urn:ogc:def:crs:EPSG::25832", "EPSG:25832",
                                 "http://www.opengis.net/def/crs/EPSG/0/25832"])
def test_projected_crs_is_transformed_to_wgs84(tmp_path: Path, crs: str) -> None:
    # the Jena file carries each car park twice: in WGS84 and (the_geom) in UTM 32N; transform the latter
    jena = json.loads((REAL / "jena_parken.geojson").read_text(encoding="utf-8"))["features"][:10]
    utm = [feature({k: v for k, v in f["properties"]["the_geom"].items() if k != "crs"}, name=f["properties"]["name"])
           for f in jena]
    result = stage(collection(tmp_path / "utm.geojson", utm, crs=crs), tmp_path)
    assert result.report["crs"] == "EPSG:25832"
    assert "coordinates transformed from EPSG:25832 to WGS84 longitude/latitude (EPSG:4326)" in result.report["notes"]
    loaded = rows(result, "name, geometry")
    for original, (name, geometry) in zip(jena, loaded, strict=True):
        assert name == original["properties"]["name"]
        lon, lat = coords(geometry)
        want_lon, want_lat = original["geometry"]["coordinates"]
        assert abs(lon - want_lon) < 1e-6 and abs(lat - want_lat) < 1e-6


def test_crs84_polygons_stay_as_they_are(tmp_path: Path) -> None:
    ring = [[6.95, 50.93], [6.97, 50.93], [6.97, 50.95], [6.95, 50.95], [6.95, 50.93]]
    features = [feature({"type": "Polygon", "coordinates": [ring]}, STB_NR=1, STB_NAME="Innenstadt"),
                feature({"type": "MultiPolygon", "coordinates": [[ring]]}, STB_NR=9, STB_NAME="Mülheim")]
    path = collection(tmp_path / "bezirke.geojson", features, crs="urn:ogc:def:crs:OGC:1.3:CRS84", indent=2)
    result = stage(path, tmp_path)
    assert result.report["crs"] == "OGC:CRS84"
    assert rows(result, "STB_NR, STB_NAME") == [(1, "Innenstadt"), (9, "Mülheim")]
    assert coords(rows(result, "geometry")[1][0]) == [[ring]]


def test_unknown_crs_is_an_error(tmp_path: Path) -> None:
    path = collection(tmp_path / "x.geojson", [feature(point(1, 2))], crs="EPSG:999999")
    with pytest.raises(IngestError) as err:
        stage(path, tmp_path)
    assert err.value.code == "unknown_crs"


# --- properties and feature members ------------------------------------------------------------------


def test_properties_appear_as_they_come_and_null_geometries_are_kept(tmp_path: Path) -> None:
    features = [
        {"type": "Feature", "id": "a1", "geometry": point(7.7, 49.4), "properties": {"Name": "Rathaus"}},
        {"type": "Feature", "id": "a2", "geometry": None, "properties": {"Name": "Ohne Ort", "Plätze": 40}},
        {"type": "Feature", "id": "a3", "geometry": point(7.8, 49.5),
         "properties": {"Name": "Bahnhof", "Plätze": 120, "Öffnungszeiten": {"Mo": "6-22"}}},
    ]
    result = stage(collection(tmp_path / "orte.geojson", features), tmp_path)
    assert types(result) == {"id": "string", "Name": "string", "Plätze": "integer", "Öffnungszeiten": "string",
                             "geometry": "geojson"}
    loaded = rows(result)
    assert loaded[1] == ("a2", "Ohne Ort", 40, None, None)
    assert json.loads(loaded[2][3]) == {"Mo": "6-22"}
    assert "1 feature(s) without geometry" in result.report["notes"]


def test_single_feature_file(tmp_path: Path) -> None:
    path = tmp_path / "ein.geojson"
    path.write_text(json.dumps(feature(point(7.7, 49.4), Name="Stiftsplatz")), encoding="utf-8")
    assert rows(stage(path, tmp_path), "Name") == [("Stiftsplatz",)]


# --- invalid geometries and broken files -------------------------------------------------------------


def test_invalid_geometries_are_rejected_feature_by_feature(tmp_path: Path) -> None:
    features = [
        feature(point(7.0, 50.0), n=1),
        feature({"type": "Polygon", "coordinates": [[[7, 50], [7.1, 50], [7.1, 50.1], [7, 50.2]]]}, n=2),
        feature({"type": "Circle", "coordinates": [7, 50]}, n=3),
        feature({"type": "Point", "coordinates": [[7, 50]]}, n=4),
        feature({"type": "LineString", "coordinates": [[7, 50]]}, n=5),
        feature(point(7.5, 95.0), n=6),
        feature({"type": "LineString", "coordinates": [[7, 50], [7.1, 50.1]]}, n=7),
    ]
    result = stage(collection(tmp_path / "gemischt.geojson", features), tmp_path)
    report = result.report
    assert report["rows_loaded"] == 2 and report["rows_rejected"] == 5
    assert rows(result, "n") == [(1,), (7,)]
    reasons = {r["feature"]: r["reason"] for r in report["rejected"]}
    assert set(reasons) == {2, 3, 4, 5, 6}
    assert "not closed" in reasons[2]
    assert "unknown geometry type 'Circle'" in reasons[3]
    assert "wrong coordinate nesting" in reasons[4]
    assert "at least 2 positions" in reasons[5]
    assert "out of range" in reasons[6]


def test_all_features_invalid_is_an_error(tmp_path: Path) -> None:
    # UTM coordinates without a crs member: nothing can be placed on a map
    features = [feature(point(681721.5, 5645057.6), n=1), feature(point(681793.0, 5645066.8), n=2)]
    with pytest.raises(IngestError) as err:
        stage(collection(tmp_path / "utm_ohne_crs.geojson", features), tmp_path)
    assert err.value.code == "invalid_geometry"
    assert "feature 1" in err.value.message and "projected" in err.value.message
    assert err.value.details["file"] == "utm_ohne_crs.geojson"


def test_broken_geojson_names_the_line(tmp_path: Path) -> None:
    path = collection(tmp_path / "kaputt.geojson", [feature(point(7, 50), n=i) for i in range(3)], indent=2)
    text = path.read_text(encoding="utf-8").replace('"n": 1', '"n": 1,,')
    path.write_text(text, encoding="utf-8")
    broken_line = next(i for i, line in enumerate(text.splitlines(), 1) if ",," in line)
    with pytest.raises(IngestError) as err:
        stage(path, tmp_path)
    assert err.value.code == "broken_json" and err.value.details["line"] == broken_line


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"type": "Polygon", "coordinates": [[[7, 50], [7.1, 50], [7.1, 50.1], [7, 50]]]}, "bare Polygon"),
        ({"type": "FeatureCollection", "features": {"a": 1}}, "not a list"),
        ({"type": "Topology", "objects": {}}, "no 'features' list"),
    ],
)
def test_geojson_that_is_no_feature_collection(tmp_path: Path, doc: dict[str, Any], message: str) -> None:
    path = tmp_path / "daten.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(IngestError) as err:
        stage(path, tmp_path)
    assert err.value.code == "not_geojson" and message in err.value.message


def test_empty_feature_collection(tmp_path: Path) -> None:
    with pytest.raises(IngestError) as err:
        stage(collection(tmp_path / "leer.geojson", []), tmp_path)
    assert err.value.code == "no_rows"


def test_feature_collection_named_json_is_read_as_geojson(tmp_path: Path) -> None:
    result = stage(collection(tmp_path / "punkte.json", [feature(point(7, 50), Name="A")]), tmp_path)
    assert result.report["format"] == "geojson"
    assert types(result) == {"Name": "string", "geometry": "geojson"}


def test_crs_member_after_the_features_is_honoured(tmp_path: Path) -> None:
    path = tmp_path / "spaet.geojson"
    doc = {"type": "FeatureCollection", "features": [feature(point(681721.5236099467, 5645057.655347267), n=1)],
           "crs": {"type": "name", "properties": {"name": "EPSG:25832"}}}
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = stage(path, tmp_path)
    lon, lat = coords(rows(result, "geometry")[0][0])
    assert abs(lon - 11.585954366) < 1e-6 and abs(lat - 50.928491667) < 1e-6


def test_latin1_geojson_is_converted(tmp_path: Path) -> None:
    doc = {"type": "FeatureCollection", "features": [feature(point(8.67, 50.58), Name="Gießen Süd")]}
    path = tmp_path / "alt.geojson"
    path.write_bytes(json.dumps(doc, ensure_ascii=False).encode("latin-1"))
    result = stage(path, tmp_path)
    assert rows(result, "Name") == [("Gießen Süd",)]
    assert "encoding latin-1 converted to UTF-8" in result.report["notes"]
