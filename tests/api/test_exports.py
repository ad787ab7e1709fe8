"""Exports: every format, filters and columns, headers, formula-injection safety, both backends."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from tests.helpers import BTW, make_dataset, make_org, write_csv
from urbandata.auth.actor import RequestContext
from urbandata.catalog import service
from urbandata.stores import Stores

BASE = "/api/v1/datasets/btw/resources/ergebnis/export"


@pytest.fixture
def loaded(admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    make_org(admin, stores)
    make_dataset(admin, stores, "btw")
    service.ingest_file(admin, stores, "btw", BTW, resource="ergebnis")
    make_dataset(admin, stores, "evil")
    evil = write_csv(
        tmp_path / "evil.csv",
        'Name;Formel;Wert;Breite;Länge\nA;=1+1;1,5;49,44;7,76\nB;"@SUM(A1:A2)";-2;49,45;7,77\n'
        "C;+cmd|' /C calc'!A0;3;49,46;7,78\nD;-2+3;4;49,47;7,79\n",
    )
    service.ingest_file(admin, stores, "evil", evil, resource="daten")


@pytest.mark.usefixtures("loaded")
def test_every_format_streams_all_rows_with_headers(client: TestClient) -> None:
    expected = {
        "csv": "text/csv",
        "json": "application/json",
        "ndjson": "application/x-ndjson",
        "parquet": "application/vnd.apache.parquet",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    for fmt, media in expected.items():
        r = client.get(BASE, params={"format": fmt})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith(media)
        assert r.headers["content-disposition"] == f'attachment; filename="btw-ergebnis-v1.{fmt}"'
        assert r.headers["etag"] and r.headers["cache-control"].startswith("public")
        if fmt == "csv":
            rows = list(csv.DictReader(io.StringIO(r.text)))
            assert len(rows) == 86 and rows[0]["Wahlbeteiligung"] == "76.7"
        elif fmt == "json":
            assert len(r.json()) == 86 and r.json()[0]["Wahlbeteiligung"] == 76.7
        elif fmt == "ndjson":
            lines = r.text.splitlines()
            assert len(lines) == 86 and json.loads(lines[0])["Name"] == "Altstadt/Nord"
        elif fmt == "parquet":
            table = pq.read_table(io.BytesIO(r.content))
            assert table.num_rows == 86 and str(table.schema.field("CDU").type) == "int64"
        else:
            sheet = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True).active
            values = list(sheet.iter_rows(values_only=True))
            assert len(values) == 87 and values[1][6] == 76.7
    again = client.get(BASE, params={"format": "csv"}, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 200  # the ETag differs per format
    csv_tag = client.get(BASE).headers["etag"]
    assert client.get(BASE, headers={"If-None-Match": csv_tag}).status_code == 304


@pytest.mark.usefixtures("loaded")
def test_filters_columns_and_german_excel_flavour(client: TestClient) -> None:
    r = client.get(BASE, params={"columns": "Name,Wahlbeteiligung", "Name__prefix": "alt", "flavour": "excel-de"})
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert rows == [["Name", "Wahlbeteiligung"], ["Altstadt/Nord", "76,7"], ["Altstadt/Süd", "75,27"]]


@pytest.mark.usefixtures("loaded")
def test_formula_injection_is_neutralised(client: TestClient) -> None:
    url = "/api/v1/datasets/evil/resources/daten/export"
    rows = list(csv.DictReader(io.StringIO(client.get(url).text)))
    assert [r["Formel"] for r in rows] == ["'=1+1", "'@SUM(A1:A2)", "'+cmd|' /C calc'!A0", "'-2+3"]
    assert float(rows[1]["Wert"]) == -2.0  # numbers stay numbers
    xlsx = client.get(url, params={"format": "xlsx"}).content
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    cells = [c.value for c in book.active["B"]][1:]
    assert all(isinstance(v, str) and v.startswith("'") for v in cells)
    assert all(c.data_type == "s" for c in book.active["B"][1:])


@pytest.mark.usefixtures("loaded")
def test_geojson_from_lat_lon_and_refusal_without_geometry(client: TestClient) -> None:
    doc = client.get("/api/v1/datasets/evil/resources/daten/export", params={"format": "geojson"}).json()
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 4
    assert doc["features"][0]["geometry"] == {"type": "Point", "coordinates": [7.76, 49.44]}
    r = client.get(BASE, params={"format": "geojson"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "no_geometry"
    assert client.get(BASE, params={"format": "pdf"}).status_code == 400
    assert client.get(BASE, params={"nope": "1"}).status_code == 400
