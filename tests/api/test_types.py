"""Faithful JSON types on every read path: rows, exports (JSON, NDJSON, CSV), SQL and aggregations, both backends.

Integers are JSON integers, numbers JSON numbers, booleans JSON booleans, dates and datetimes ISO 8601
strings, nulls null (empty in CSV), whatever endpoint reads the resource.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import make_dataset, make_org, write_csv
from urbandata.auth.actor import RequestContext
from urbandata.catalog import service
from urbandata.stores import Stores

CSV = (
    "Nr;Name;Anzahl;Betrag;Aktiv;Datum;Zeitpunkt\n"
    "1;Äpfel;12;1,5;ja;01.02.2024;01.02.2024 08:15\n"
    "2;=Formel;;-3,25;nein;;02.02.2024 09:30\n"
    "3;;7;;;03.02.2024;\n"
    "4;0815;0;1000,0;ja;29.02.2024;29.02.2024 23:59\n"
)
TYPES = {
    "Nr": "integer",
    "Name": "string",
    "Anzahl": "integer",
    "Betrag": "number",
    "Aktiv": "boolean",
    "Datum": "date",
    "Zeitpunkt": "datetime",
}
EXPECTED = [
    {
        "Nr": 1,
        "Name": "Äpfel",
        "Anzahl": 12,
        "Betrag": 1.5,
        "Aktiv": True,
        "Datum": "2024-02-01",
        "Zeitpunkt": "2024-02-01T08:15:00",
    },
    {
        "Nr": 2,
        "Name": "=Formel",
        "Anzahl": None,
        "Betrag": -3.25,
        "Aktiv": False,
        "Datum": None,
        "Zeitpunkt": "2024-02-02T09:30:00",
    },
    {"Nr": 3, "Name": None, "Anzahl": 7, "Betrag": None, "Aktiv": None, "Datum": "2024-02-03", "Zeitpunkt": None},
    {
        "Nr": 4,
        "Name": "0815",
        "Anzahl": 0,
        "Betrag": 1000.0,
        "Aktiv": True,
        "Datum": "2024-02-29",
        "Zeitpunkt": "2024-02-29T23:59:00",
    },
]
BASE = "/api/v1/datasets/typen/resources/daten"


@pytest.fixture
def loaded(admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    make_org(admin, stores)
    make_dataset(admin, stores, "typen")
    service.ingest_file(admin, stores, "typen", write_csv(tmp_path / "typen.csv", CSV), resource="daten")


def fits(value: Any, ftype: str) -> bool:
    """Does a JSON value have the JSON type the Table Schema type asks for?"""
    if value is None:
        return True
    if ftype == "integer":
        return type(value) is int
    if ftype == "number":
        return type(value) in (int, float)
    if ftype == "boolean":
        return type(value) is bool
    if ftype == "date":
        return isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None
    if ftype == "datetime":
        return isinstance(value, str) and "T" in value and dt.datetime.fromisoformat(value) is not None
    return isinstance(value, str)


def strict(records: list[dict[str, Any]]) -> list[dict[str, tuple[str, Any]]]:
    """Records with each value's JSON type made explicit: 1, 1.0 and True compare unequal."""
    return [{k: (type(v).__name__, v) for k, v in r.items()} for r in records]


def assert_typed(records: list[dict[str, Any]], types: dict[str, str]) -> None:
    for record in records:
        for name, value in record.items():
            assert fits(value, types[name]), f"{name}={value!r} is not a JSON {types[name]}"


@pytest.mark.usefixtures("loaded")
def test_schema_is_inferred_as_expected(client: TestClient) -> None:
    fields = client.get(f"{BASE}/rows").json()["fields"]
    assert {f["name"]: f["type"] for f in fields} == TYPES


@pytest.mark.usefixtures("loaded")
def test_rows_and_json_exports(client: TestClient) -> None:
    rows = client.get(f"{BASE}/rows", params={"sort": "Nr"}).json()["rows"]
    assert_typed(rows, TYPES)
    assert strict(rows) == strict(EXPECTED)
    as_json = client.get(f"{BASE}/export", params={"format": "json"}).json()
    assert strict(as_json) == strict(EXPECTED)
    lines = client.get(f"{BASE}/export", params={"format": "ndjson"}).text.splitlines()
    assert strict([json.loads(line) for line in lines]) == strict(EXPECTED)
    picked = client.get(f"{BASE}/rows", params={"columns": "Datum,Betrag", "Aktiv": "true", "sort": "-Datum"}).json()
    want = [{"Datum": "2024-02-29", "Betrag": 1000.0}, {"Datum": "2024-02-01", "Betrag": 1.5}]
    assert strict(picked["rows"]) == strict(want)


def _csv_value(text: str, ftype: str) -> Any:
    """Read a CSV cell back by the Table Schema type; fail on text that does not have the type's form."""
    if text == "":
        return None
    if ftype == "integer":
        assert re.fullmatch(r"-?\d+", text), text
        return int(text)
    if ftype == "number":
        return float(text)
    if ftype == "boolean":
        assert text in ("true", "false"), text
        return text == "true"
    if ftype in ("date", "datetime"):
        assert fits(text, ftype), text
    return text


@pytest.mark.usefixtures("loaded")
def test_csv_export_writes_each_type_in_its_standard_form(client: TestClient) -> None:
    reader = csv.DictReader(io.StringIO(client.get(f"{BASE}/export", params={"format": "csv"}).text))
    assert reader.fieldnames == list(TYPES)
    got = [{k: _csv_value(v, TYPES[k]) for k, v in row.items()} for row in reader]
    want = [{**r, "Name": "'=Formel" if r["Name"] == "=Formel" else r["Name"]} for r in EXPECTED]  # formula-safe
    assert strict(got) == strict(want)


@pytest.mark.usefixtures("loaded")
def test_sql_answers_typed_values(client: TestClient) -> None:
    r = client.get("/api/v1/sql", params={"q": 'SELECT * FROM typen__daten ORDER BY "Nr"'})
    assert r.status_code == 200, r.text
    assert r.json()["columns"] == list(TYPES) and strict(r.json()["rows"]) == strict(EXPECTED)
    q = 'SELECT count(*) AS n, max("Datum") AS d, sum("Betrag") AS s, bool_or("Aktiv") AS b FROM typen__daten'
    row = client.get("/api/v1/sql", params={"q": q}).json()["rows"][0]
    assert strict([row]) == strict([{"n": 4, "d": "2024-02-29", "s": 998.25, "b": True}])


@pytest.mark.usefixtures("loaded")
def test_aggregates_carry_their_types(client: TestClient) -> None:
    metrics = ",".join(
        ["count", "sum:Anzahl", "sum:Betrag", "avg:Anzahl"]
        + [f"{f}:{c}" for c in TYPES for f in ("min", "max", "count_distinct")]
    )
    doc = client.get(f"{BASE}/aggregate", params={"metrics": metrics}).json()
    types = {f["name"]: f["type"] for f in doc["fields"]}
    assert types["sum_Anzahl"] == "integer" and types["avg_Anzahl"] == "number" and types["max_Zeitpunkt"] == "datetime"
    assert_typed(doc["rows"], types)
    (row,) = doc["rows"]
    assert strict([{k: row[k] for k in ("count", "sum_Anzahl", "sum_Betrag", "min_Aktiv", "max_Datum")}]) == strict(
        [{"count": 4, "sum_Anzahl": 19, "sum_Betrag": 998.25, "min_Aktiv": False, "max_Datum": "2024-02-29"}]
    )
    assert row["min_Zeitpunkt"] == "2024-02-01T08:15:00" and row["max_Name"] == "Äpfel"
    assert row["count_distinct_Nr"] == 4 and row["count_distinct_Aktiv"] == 2
    for column in ("Name", "Anzahl", "Aktiv", "Datum"):
        grouped = client.get(f"{BASE}/aggregate", params={"group_by": column, "metrics": "sum:Betrag"}).json()
        types = {f["name"]: f["type"] for f in grouped["fields"]}
        assert types[column] == TYPES[column]
        assert_typed(grouped["rows"], types)
        assert grouped["rows"][-1][column] is None  # the null group, last
    by_month = client.get(f"{BASE}/aggregate", params={"bucket": "month:Zeitpunkt"}).json()
    want = [{"bucket": "2024-02-01T00:00:00", "count": 3}, {"bucket": None, "count": 1}]
    assert strict(by_month["rows"]) == strict(want)
