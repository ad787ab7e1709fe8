"""Aggregations for charts: groups, time buckets, metrics, sort, filters, versions, clear 400s; both backends."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.test_api import assert_error
from tests.helpers import BTW, make_dataset, make_org, write_csv
from urbandata.auth.actor import RequestContext
from urbandata.catalog import service
from urbandata.demo.generated import write_waiting_times
from urbandata.stores import Stores

BEZIRKE = (
    "Bezirk;Datum;Zeitpunkt;Anzahl;Betrag;Aktiv\n"
    "Innenstadt;15.01.2024;15.01.2024 08:30;3;1,5;ja\n"
    "Innenstadt;20.01.2024;20.01.2024 09:10;;2,5;nein\n"
    "Nord;03.02.2024;03.02.2024 10:00;5;;ja\n"
    "Nord;04.02.2024;04.02.2024 10:45;7;4,0;ja\n"
    ";05.02.2024;05.02.2024 11:00;1;1,0;nein\n"
)
URL = "/api/v1/datasets/{}/resources/{}/aggregate"
BEZ = URL.format("bezirke", "daten")
WAIT = URL.format("wartezeiten", "wartezeiten")


@pytest.fixture
def loaded(admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    make_org(admin, stores)
    make_dataset(admin, stores, "bezirke")
    service.ingest_file(admin, stores, "bezirke", write_csv(tmp_path / "bezirke.csv", BEZIRKE), resource="daten")


@pytest.fixture
def waiting(loaded: None, admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    make_dataset(admin, stores, "wartezeiten")
    service.ingest_file(admin, stores, "wartezeiten", write_waiting_times(tmp_path / "w.csv"), resource="wartezeiten")


@pytest.fixture
def elections(loaded: None, admin: RequestContext, stores: Stores) -> None:
    make_dataset(admin, stores, "btw")
    service.ingest_file(admin, stores, "btw", BTW, resource="ergebnis")
    make_dataset(admin, stores, "intern", access_level="internal")
    service.ingest_file(admin, stores, "intern", BTW, resource="liste")


def agg(client: TestClient, url: str, **params: Any) -> dict[str, Any]:
    r = client.get(url, params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.mark.usefixtures("loaded")
def test_group_by_with_every_metric_and_faithful_types(client: TestClient) -> None:
    doc = agg(
        client,
        BEZ,
        group_by="Bezirk",
        metrics="count,count:Anzahl,sum:Anzahl,sum:Betrag,avg:Betrag,min:Datum,max:Zeitpunkt,"
        "count_distinct:Aktiv,min:Aktiv,max:Bezirk",
    )
    assert doc["groups"] == ["Bezirk"] and doc["version"] == 1 and doc["truncated"] is False
    assert doc["metrics"] == [
        "count",
        "count_Anzahl",
        "sum_Anzahl",
        "sum_Betrag",
        "avg_Betrag",
        "min_Datum",
        "max_Zeitpunkt",
        "count_distinct_Aktiv",
        "min_Aktiv",
        "max_Bezirk",
    ]
    types = {f["name"]: f["type"] for f in doc["fields"]}
    assert types["sum_Anzahl"] == "integer" and types["avg_Betrag"] == "number" and types["min_Datum"] == "date"
    innen, nord, none = doc["rows"]  # groups ascending, the empty district last
    assert innen == {
        "Bezirk": "Innenstadt",
        "count": 2,
        "count_Anzahl": 1,
        "sum_Anzahl": 3,
        "sum_Betrag": 4.0,
        "avg_Betrag": 2.0,
        "min_Datum": "2024-01-15",
        "max_Zeitpunkt": "2024-01-20T09:10:00",
        "count_distinct_Aktiv": 2,
        "min_Aktiv": False,
        "max_Bezirk": "Innenstadt",
    }
    assert nord["Bezirk"] == "Nord" and nord["sum_Anzahl"] == 12 and nord["avg_Betrag"] == 4.0
    assert nord["min_Aktiv"] is True and nord["count_distinct_Aktiv"] == 1
    assert none["Bezirk"] is None and none["count"] == 1 and none["max_Bezirk"] is None
    assert type(innen["sum_Anzahl"]) is int and type(innen["count"]) is int  # not 3.0 on PostgreSQL
    assert type(innen["sum_Betrag"]) is float


@pytest.mark.usefixtures("elections")
def test_totals_without_groups_and_sums_over_btw(client: TestClient) -> None:
    doc = agg(client, BEZ, metrics="count,sum:Anzahl")
    assert doc["groups"] == [] and doc["rows"] == [{"count": 5, "sum_Anzahl": 16}]
    assert agg(client, BEZ)["rows"] == [{"count": 5}]  # count is the default metric
    btw = agg(client, URL.format("btw", "ergebnis"), metrics="count,sum:CDU,max:Wahlbeteiligung")
    assert btw["rows"][0]["count"] == 86 and btw["rows"][0]["max_Wahlbeteiligung"] == 88.71
    rows = client.get("/api/v1/datasets/btw/resources/ergebnis/export", params={"format": "json"}).json()
    assert btw["rows"][0]["sum_CDU"] == sum(r["CDU"] for r in rows)


@pytest.mark.usefixtures("loaded")
def test_time_buckets_on_date_and_datetime_columns(client: TestClient) -> None:
    by_month = agg(client, BEZ, bucket="month:Datum", metrics="count,sum:Anzahl")
    assert by_month["groups"] == ["bucket"]
    assert by_month["rows"] == [
        {"bucket": "2024-01-01", "count": 2, "sum_Anzahl": 3},
        {"bucket": "2024-02-01", "count": 3, "sum_Anzahl": 13},
    ]
    assert {f["name"]: f["type"] for f in by_month["fields"]}["bucket"] == "date"
    per_district = agg(client, BEZ, group_by="Bezirk", bucket="month:Zeitpunkt", Bezirk__isnull="false")
    assert per_district["groups"] == ["Bezirk", "bucket"]
    assert per_district["rows"] == [
        {"Bezirk": "Innenstadt", "bucket": "2024-01-01T00:00:00", "count": 2},
        {"Bezirk": "Nord", "bucket": "2024-02-01T00:00:00", "count": 2},
    ]
    hours = agg(client, BEZ, bucket="hour:Zeitpunkt", Bezirk="Nord")
    assert [r["bucket"] for r in hours["rows"]] == ["2024-02-03T10:00:00", "2024-02-04T10:00:00"]
    assert agg(client, BEZ, bucket="year:Datum")["rows"] == [{"bucket": "2024-01-01", "count": 5}]
    days = agg(client, BEZ, bucket="day:Zeitpunkt", limit=1)
    assert days["rows"] == [{"bucket": "2024-01-15T00:00:00", "count": 1}] and days["truncated"] is True


@pytest.mark.usefixtures("waiting")
def test_buckets_over_generated_waiting_times(client: TestClient) -> None:
    total = client.get(
        "/api/v1/datasets/wartezeiten/resources/wartezeiten/rows", params={"count": "true", "limit": 1}
    ).json()["total"]
    months = agg(client, WAIT, bucket="month:Datum", metrics="count,sum:Wartende,avg:Wartezeit (min)")
    assert [r["bucket"] for r in months["rows"]] == [f"2024-{m:02d}-01" for m in range(1, 7)]
    assert sum(r["count"] for r in months["rows"]) == total
    assert all(isinstance(r["avg_Wartezeit (min)"], float) for r in months["rows"])
    weeks = agg(client, WAIT, bucket="week:Uhrzeit", limit=100)
    assert all(dt.datetime.fromisoformat(r["bucket"]).weekday() == 0 for r in weeks["rows"])  # weeks start Monday
    assert sum(r["count"] for r in weeks["rows"]) == total
    hours = agg(client, WAIT, bucket="hour:Uhrzeit", group_by="Terminbuchung", limit=10000)
    assert {dt.datetime.fromisoformat(r["bucket"]).hour for r in hours["rows"]} == {8, 10, 12, 14}
    assert {r["Terminbuchung"] for r in hours["rows"]} == {True, False}
    booked = agg(client, WAIT, bucket="month:Datum", Terminbuchung="ja", Datum__lt="2024-02-01")
    assert len(booked["rows"]) == 1 and 0 < booked["rows"][0]["count"] < months["rows"][0]["count"]


@pytest.mark.usefixtures("loaded")
def test_sort_by_metrics_and_groups_and_limit(client: TestClient) -> None:
    doc = agg(client, BEZ, group_by="Bezirk", metrics="count,sum:Anzahl", sort="-sum_Anzahl")
    assert [r["Bezirk"] for r in doc["rows"]] == ["Nord", "Innenstadt", None]
    doc = agg(client, BEZ, group_by="Bezirk", sort="-count,-Bezirk")
    assert [r["Bezirk"] for r in doc["rows"]] == ["Nord", "Innenstadt", None]  # ties by the next key, NULL last
    doc = agg(client, BEZ, group_by="Bezirk", sort="count", limit=2)
    assert [r["Bezirk"] for r in doc["rows"]] == [None, "Innenstadt"] and doc["truncated"] is True
    repeated = client.get(BEZ, params=[("group_by", "Bezirk"), ("metrics", "count"), ("metrics", "sum:Anzahl")])
    assert repeated.json()["metrics"] == ["count", "sum_Anzahl"]


@pytest.mark.usefixtures("loaded")
def test_older_versions_and_filters(client: TestClient, admin: RequestContext, stores: Stores, tmp_path: Path) -> None:
    newer = write_csv(tmp_path / "neu.csv", "Bezirk;Datum;Zeitpunkt;Anzahl;Betrag;Aktiv\nSüd;01.03.2024;;10;1,0;ja\n")
    service.ingest_file(admin, stores, "bezirke", newer, resource="daten")
    assert agg(client, BEZ, metrics="sum:Anzahl") == {
        "groups": [],
        "metrics": ["sum_Anzahl"],
        "fields": [{"name": "sum_Anzahl", "type": "integer"}],
        "rows": [{"sum_Anzahl": 10}],
        "truncated": False,
        "version": 2,
    }
    old = agg(client, BEZ, metrics="sum:Anzahl", version=1)
    assert old["rows"] == [{"sum_Anzahl": 16}] and old["version"] == 1
    filtered = agg(client, BEZ, version=1, group_by="Bezirk", Betrag__gte="2", Bezirk__in="Nord,Innenstadt")
    assert filtered["rows"] == [{"Bezirk": "Innenstadt", "count": 1}, {"Bezirk": "Nord", "count": 1}]
    assert agg(client, BEZ, version=1, Bezirk__contains="STADT")["rows"] == [{"count": 2}]
    assert agg(client, BEZ, version=1, Bezirk="Mitte")["rows"] == [{"count": 0}]
    assert agg(client, BEZ, version=1, Bezirk="Mitte", group_by="Bezirk")["rows"] == []


@pytest.mark.usefixtures("elections")
def test_internal_resources_are_invisible(client: TestClient) -> None:
    assert_error(client.get(URL.format("intern", "liste")), 404, "dataset_not_found")
    assert_error(client.get(URL.format("btw", "nope")), 404, "resource_not_found")
    assert_error(client.get(BEZ, params={"version": 9}), 404, "version_not_found")


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize(
    ("params", "code", "parameter"),
    [
        ({"group_by": "Stadtbezirk"}, "unknown_column", "group_by"),
        ({"group_by": "Bezirk,Bezirk"}, "invalid_group_by", "group_by"),
        ({"metrics": "sum:Bezirk"}, "invalid_metric", "metrics"),
        ({"metrics": "avg:Datum"}, "invalid_metric", "metrics"),
        ({"metrics": "sum:Aktiv"}, "invalid_metric", "metrics"),
        ({"metrics": "median:Anzahl"}, "invalid_metric", "metrics"),
        ({"metrics": "sum"}, "invalid_metric", "metrics"),
        ({"metrics": "sum:Nope"}, "unknown_column", "metrics"),
        ({"metrics": "count,count"}, "invalid_metric", "metrics"),
        ({"bucket": "month:Bezirk"}, "invalid_bucket", "bucket"),
        ({"bucket": "month:Anzahl"}, "invalid_bucket", "bucket"),
        ({"bucket": "hour:Datum"}, "invalid_bucket", "bucket"),
        ({"bucket": "quarter:Datum"}, "invalid_bucket", "bucket"),
        ({"bucket": "Datum"}, "invalid_bucket", "bucket"),
        ({"bucket": "month:Nope"}, "unknown_column", "bucket"),
        ({"sort": "-Betrag"}, "unknown_column", "sort"),
        ({"limit": 10001}, "invalid_limit", "limit"),
        ({"limit": 0}, "invalid_input", "limit"),
        ({"Nope": "1"}, "unknown_column", "Nope"),
        ({"Anzahl__gt": "viele"}, "invalid_filter_value", "Anzahl__gt"),
        ({"Datum": "31.12.2024"}, "invalid_filter_value", "Datum"),
        ({"version": "neu"}, "invalid_input", "version"),
    ],
)
def test_bad_input_is_a_clear_400(client: TestClient, params: dict[str, Any], code: str, parameter: str) -> None:
    body = assert_error(client.get(BEZ, params=params), 400, code)
    assert body["details"]["parameter"] == parameter  # type: ignore[index]
