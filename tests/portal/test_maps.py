"""The dataset page's map on both backends: points, polygons, lat/lon columns, the list, base-map settings."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.helpers import DEMO_DATA, make_dataset, make_org, masked_internal_table, write_csv
from urbandata.app import create_app
from urbandata.auth.actor import RequestContext
from urbandata.catalog import service
from urbandata.config import Settings
from urbandata.ingest.tableschema import SchemaField
from urbandata.portal import maps
from urbandata.portal.routes import maps as map_routes
from urbandata.stores import Stores

PARKS = DEMO_DATA / "kaiserslautern_parkhaeuser.geojson"
DISTRICTS = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Innenstadt-West", "einwohner": 9120},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[7.74, 49.44], [7.76, 49.44], [7.76, 49.45], [7.74, 49.45], [7.74, 49.44]]],
            },
        },
        {
            "type": "Feature",
            "properties": {"name": "Betzenberg", "einwohner": 4380},
            "geometry": {
                "type": "MultiPolygon",
                "coordinates": [
                    [[[7.72, 49.43], [7.73, 49.43], [7.73, 49.44], [7.72, 49.43]]],
                    [[[7.70, 49.42], [7.71, 49.42], [7.71, 49.43], [7.70, 49.42]]],
                ],
            },
        },
    ],
}


def _embedded(page: str) -> dict[str, object]:
    m = re.search(r'<script type="application/json" id="karte-daten">(.*?)</script>', page, re.S)
    assert m, "no map data on the page"
    data: dict[str, object] = json.loads(m.group(1))
    return data


def _list(page: str) -> list[str]:
    section = page[page.index('id="karte-liste"') :]
    return [html.unescape(n) for n in re.findall(r'<th scope="row">([^<]*)</th>', section[: section.index("</table>")])]


@pytest.fixture
def places(admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    make_org(admin, stores, "mobil", "Mobilität")
    make_dataset(admin, stores, "parken", org="mobil", title="Parkhäuser")
    service.ingest_file(admin, stores, "parken", PARKS, resource="standorte")
    make_dataset(admin, stores, "bezirke", org="mobil", title="Stadtbezirke")
    districts = tmp_path / "bezirke.geojson"
    districts.write_text(json.dumps(DISTRICTS), encoding="utf-8")
    service.ingest_file(admin, stores, "bezirke", districts, resource="flaechen")
    make_dataset(admin, stores, "baeume", org="mobil", title="Bäume")
    trees = "Art;Breite;Länge\nLinde;49,4431;7,7712\nEiche;49,4402;7,7655\nBuche;149,1;7,7\n"
    service.ingest_file(admin, stores, "baeume", write_csv(tmp_path / "baeume.csv", trees), resource="baeume")
    make_dataset(admin, stores, "utm", org="mobil", title="UTM")
    utm = "Name;x;y\nA;412345,5;5479876,2\nB;412400,1;5479900,9\n"
    service.ingest_file(admin, stores, "utm", write_csv(tmp_path / "utm.csv", utm), resource="punkte")


def test_points_show_as_map_list_and_server_drawn_image(client: TestClient, places: None) -> None:
    page = client.get("/datasets/parken")
    assert page.status_code == 200 and 'id="karte"' in page.text
    data = _embedded(page.text)
    features = data["features"]
    assert isinstance(features, list) and len(features) == 12
    lutrina = next(f for f in features if f["properties"]["_label"] == "PH Lutrinastraße")
    assert lutrina["geometry"] == {"type": "Point", "coordinates": [7.772792279720306, 49.44166030571838]}
    assert lutrina["properties"]["address"] == "Badstraße 3" and lutrina["properties"]["total"] == 67
    names = _list(page.text)
    assert len(names) == 12 and "PH Lutrinastraße" in names and "PH Stiftsplatz" in names
    assert "49,44166, 7,77279" in page.text  # the place in the list, in German number format
    assert "12 Orte aus standorte." in page.text
    assert "Die Karte hat keinen Hintergrund" in page.text and 'data-tiles=""' in page.text
    svg = client.get("/datasets/parken/resources/standorte/map.svg")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert svg.text.count("<use ") == 12  # one marker per place
    png = client.get("/datasets/parken/resources/standorte/map.png?download=1")
    assert png.content[:4] == b"\x89PNG" and "karte.png" in png.headers["content-disposition"]


def test_polygons_and_multipolygons_are_drawn_and_listed_as_areas(client: TestClient, places: None) -> None:
    page = client.get("/datasets/bezirke")
    assert page.status_code == 200
    kinds = [f["geometry"]["type"] for f in _embedded(page.text)["features"]]  # type: ignore[attr-defined]
    assert kinds == ["Polygon", "MultiPolygon"]
    assert _list(page.text) == ["Innenstadt-West", "Betzenberg"]
    assert page.text.count("<td>Fläche</td>") == 2
    svg = client.get("/datasets/bezirke/resources/flaechen/map.svg").text
    assert svg.count("<path ") >= 3  # three rings (one polygon, a multipolygon of two)


def test_latitude_longitude_columns_make_a_map_projected_x_y_do_not(client: TestClient, places: None) -> None:
    page = client.get("/datasets/baeume")
    features = _embedded(page.text)["features"]
    assert [f["geometry"]["coordinates"] for f in features] == [[7.7712, 49.4431], [7.7655, 49.4402]]  # type: ignore[index]
    assert "1 Zeile ohne gültige Lage fehlt." in page.text
    utm = client.get("/datasets/utm")
    assert utm.status_code == 200 and 'id="karte"' not in utm.text
    assert client.get("/datasets/utm/resources/punkte/map.svg").status_code == 404


def test_operator_base_map_settings_reach_the_page(settings: Settings, stores: Stores, places: None) -> None:
    tiles = settings.model_copy(
        update={
            "map_tile_url": "https://karten.example.org/{z}/{x}/{y}.png",
            "map_attribution": "© Stadt Kaiserslautern",
        }
    )
    with TestClient(create_app(tiles, stores)) as c:
        page = html.unescape(c.get("/datasets/parken").text)
    assert 'data-tiles="https://karten.example.org/{z}/{x}/{y}.png"' in page
    assert 'data-attribution="© Stadt Kaiserslautern"' in page and "keinen Hintergrund" not in page
    wms = settings.model_copy(update={"map_wms_url": "https://wms.example.org/wms", "map_wms_layers": "stadtplan"})
    with TestClient(create_app(wms, stores)) as c:
        page = c.get("/datasets/parken").text
    assert 'data-wms="https://wms.example.org/wms"' in page and 'data-wms-layers="stadtplan"' in page


def test_leaflet_is_served_by_the_platform_and_nothing_else_from_node_modules(client: TestClient) -> None:
    if not map_routes.vendor_ready():
        pytest.skip("Leaflet is not installed (npm ci)")
    js = client.get("/static/vendor/leaflet/leaflet.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript") and "Leaflet" in js.text
    assert client.get("/static/vendor/leaflet.markercluster/leaflet.markercluster.js").status_code == 200
    assert client.get("/static/vendor/leaflet/images/marker-icon.png").content[:4] == b"\x89PNG"
    assert client.get("/static/vendor/leaflet/../../axe-core/axe.min.js").status_code == 404
    assert client.get("/static/vendor/leaflet/..%2F..%2Faxe-core%2Faxe.min.js").status_code == 404
    assert client.get("/static/vendor/axe-core/axe.min.js").status_code == 404
    assert client.get("/static/vendor/leaflet/leaflet.js.map").status_code == 404


def test_without_node_modules_the_page_keeps_image_and_list_but_loads_no_script(
    client: TestClient, places: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(map_routes, "NODE_MODULES", tmp_path / "missing")
    page = client.get("/datasets/parken").text
    assert "/static/vendor/" not in page and "/static/map.js" not in page
    assert 'src="/datasets/parken/resources/standorte/map.svg"' in page and len(_list(page)) == 12
    assert client.get("/static/vendor/leaflet/leaflet.js").status_code == 404


def test_a_masked_geometry_means_no_map_for_other_departments(
    client: TestClient, admin: RequestContext, stores: Stores
) -> None:
    member, foreign = masked_internal_table(admin, stores, PARKS, "orte", ["geometry"])
    assert 'id="karte"' in client.get("/datasets/intern", headers=member).text
    assert 'id="karte"' not in client.get("/datasets/intern", headers=foreign).text
    assert client.get("/datasets/intern/resources/orte/map.svg", headers=foreign).status_code == 404
    assert client.get("/datasets/intern/resources/orte/map.svg").status_code == 404  # anonymous
    member_svg = client.get("/datasets/intern/resources/orte/map.svg", headers=member)
    assert member_svg.status_code == 200 and member_svg.headers["cache-control"] == "private, no-store"


def test_detection_from_the_table_schema() -> None:
    def fields(*pairs: tuple[str, str]) -> list[SchemaField]:
        return [SchemaField(name=n, type=t) for n, t in pairs]  # type: ignore[arg-type]

    assert maps.detect(fields(("name", "string"), ("geometry", "geojson"))) == maps.GeoColumns(geometry="geometry")
    assert maps.detect(fields(("Latitude", "number"), ("Longitude", "number"))) == maps.GeoColumns(
        lat="Latitude", lon="Longitude"
    )
    assert maps.detect(fields(("x", "number"), ("y", "number"))) == maps.GeoColumns(lat="y", lon="x")
    assert maps.detect(fields(("lat", "string"), ("lon", "string"))) is None  # text is not a coordinate
    assert maps.detect(fields(("name", "string"), ("wert", "number"))) is None
