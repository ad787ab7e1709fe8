"""One catalog: a dataset's observations as CSV/Parquet downloads per time range and as a versioned,
queryable resource (`beobachtungen`), on both backends; only visible data, formula-safe CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from tests.helpers import make_dataset, make_org
from tests.sensors.conftest import STA, bearer, create_station, station
from tests.sensors.ext_support import UTC, add_observations
from tests.test_cli import run
from urbandata.auth.actor import Actor, RequestContext
from urbandata.catalog import service as catalog
from urbandata.config import Settings
from urbandata.errors import Forbidden, InvalidInput, NotFound
from urbandata.sensors import export, service
from urbandata.stores import Stores

T0 = dt.datetime(2026, 11, 2, 8, tzinfo=UTC)
URL = "/api/v1/datasets/{slug}/observations"


@pytest.fixture
def stations(client: TestClient, sensor_world: dict[str, str], stores: Stores) -> dict[str, int]:
    t1, ds1 = create_station(client, sensor_world["steward"], name='=HYPERLINK("http://evil")')
    t2, ds2 = create_station(client, sensor_world["steward"], name="Pfaffplatz", lon=7.75)
    t3, ds3 = create_station(client, sensor_world["steward"], name="Geheim", dataset="luft-intern")
    add_observations(stores, ds1, [(T0 + dt.timedelta(hours=h), 10.0 + h) for h in range(5)])
    add_observations(stores, ds2, [(T0 + dt.timedelta(minutes=30), 3), (T0 + dt.timedelta(hours=3), 4.5)])
    add_observations(stores, ds3, [(T0, 99.0)])
    h = bearer(sensor_world["steward"])
    r = client.post(
        f"{STA}/Datastreams({ds2})/Observations",
        json={"phenomenonTime": "2026-11-02T09:15:00Z", "result": "-1+cmd|calc"},
        headers=h,
    )
    assert r.status_code == 400  # a text result does not fit OM_Measurement; nothing stored
    return {"t1": t1, "ds1": ds1, "t2": t2, "ds2": ds2, "ds3": ds3}


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_download_is_complete_ordered_and_formula_safe(client: TestClient, stations: dict[str, int]) -> None:
    r = client.get(URL.format(slug="luft"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="luft-beobachtungen.csv"' in r.headers["content-disposition"]
    assert r.headers["cache-control"].startswith("public")
    rows = _csv(r.text)
    assert list(rows[0]) == [f.name for f in export.FIELDS]
    assert len(rows) == 7  # 5 + 2; the internal station's observation is in another dataset
    first = rows[0]
    assert first["thing"] == '\'=HYPERLINK("http://evil")'  # neutralised for spreadsheets
    assert first["datastream_id"] == str(stations["ds1"]) and first["unit"] == "µg/m³"
    assert first["observed_property"] == "NO2" and first["phenomenon_time_utc"] == "2026-11-02T08:00:00"
    assert [float(x["result"]) for x in rows[:5]] == [10.0, 11.0, 12.0, 13.0, 14.0]
    assert [x["result"] for x in rows[5:]] == ["3", "4.5"]


def test_time_range_and_datastream_filters(client: TestClient, stations: dict[str, int]) -> None:
    url = URL.format(slug="luft")
    rows = _csv(client.get(url, params={"from": "2026-11-02T10:00:00+01:00", "to": "2026-11-02T11:00:00Z"}).text)
    # 09:00..10:59 UTC: ds1 at 09 and 10, ds2 has none there
    assert [(r["datastream_id"], r["phenomenon_time_utc"]) for r in rows] == [
        (str(stations["ds1"]), "2026-11-02T09:00:00"),
        (str(stations["ds1"]), "2026-11-02T10:00:00"),
    ]
    only = _csv(client.get(url, params={"datastream": stations["ds2"]}).text)
    assert {r["datastream_id"] for r in only} == {str(stations["ds2"])} and len(only) == 2
    # the internal station's Datastream is not part of this dataset
    assert client.get(url, params={"datastream": stations["ds3"]}).status_code == 404


def test_parquet_download_has_typed_columns(client: TestClient, stations: dict[str, int]) -> None:
    r = client.get(URL.format(slug="luft"), params={"format": "parquet", "to": "2026-11-02T10:00:00Z"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.apache.parquet")
    table = pq.read_table(io.BytesIO(r.content))
    assert table.num_rows == 3  # ds1 at 08 and 09, ds2 at 08:30
    assert str(table.schema.field("phenomenon_time_utc").type) == "timestamp[us]"
    assert table.column("result").to_pylist() == [10.0, 11.0, 3.0]
    assert table.column("phenomenon_time_utc").to_pylist()[2] == dt.datetime(2026, 11, 2, 8, 30)


def test_internal_dataset_is_invisible_to_anonymous(
    client: TestClient, sensor_world: dict[str, str], stations: dict[str, int]
) -> None:
    hidden = client.get(URL.format(slug="luft-intern"))
    missing = client.get(URL.format(slug="gibt-es-nicht"))
    assert hidden.status_code == missing.status_code == 404
    staff = client.get(URL.format(slug="luft-intern"), headers=bearer(sensor_world["reader"]))
    assert staff.status_code == 200 and [r["result"] for r in _csv(staff.text)] == ["99"]
    assert staff.headers["cache-control"] == "private, no-store"


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"format": "xlsx"}, "format"),
        ({"from": "gestern"}, "from"),
        ({"from": "2026-11-03T00:00:00Z", "to": "2026-11-02T00:00:00Z"}, "from"),
    ],
)
def test_bad_input_is_400(client: TestClient, stations: dict[str, int], params: dict[str, str], parameter: str) -> None:
    r = client.get(URL.format(slug="luft"), params=params)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["details"]["parameter"] == parameter


def test_export_to_resource_creates_a_queryable_version(
    client: TestClient, admin: RequestContext, stores: Stores, stations: dict[str, int]
) -> None:
    v1 = export.export_to_resource(admin, stores, "luft", "2026-11-02T00:00:00Z", "2026-11-02T10:00:00Z")
    assert v1.version == 1 and v1.row_count == 3 and v1.current
    assert v1.report["source"] == "SensorThings export"
    v2 = export.export_to_resource(admin, stores, "luft")
    assert v2.version == 2 and v2.row_count == 7
    rows = client.get(
        "/api/v1/datasets/luft/resources/beobachtungen/rows",
        params={"datastream_id": stations["ds2"], "sort": "phenomenon_time_utc"},
    ).json()["rows"]
    assert [r["result"] for r in rows] == [3, 4.5]
    table = client.get("/api/v1/datasets/luft").json()
    sql_table = next(r["sql_table"] for r in table["resources"] if r["name"] == "beobachtungen")
    q = f"SELECT thing_id, count(*) AS n, max(result) AS m FROM {sql_table} GROUP BY thing_id ORDER BY thing_id"
    answer = client.get("/api/v1/sql", params={"q": q})
    assert answer.status_code == 200, answer.text
    assert [(r["thing_id"], r["n"], r["m"]) for r in answer.json()["rows"]] == [
        (stations["t1"], 5, 14.0),
        (stations["t2"], 2, 4.5),
    ]
    # the earlier version stays queryable
    old = client.get("/api/v1/datasets/luft/resources/beobachtungen/rows", params={"version": 1, "count": "true"})
    assert old.json()["total"] == 3


def test_export_to_resource_refuses_an_empty_range_and_keeps_the_current_version(
    admin: RequestContext, anon: RequestContext, stores: Stores, stations: dict[str, int]
) -> None:
    export.export_to_resource(admin, stores, "luft")
    with pytest.raises(InvalidInput):
        export.export_to_resource(admin, stores, "luft", "2030-01-01T00:00:00Z", None)
    versions = catalog.list_versions(admin, stores, "luft", "beobachtungen")
    assert [(v.version, v.current, v.row_count) for v in versions] == [(1, True, 7)]
    with pytest.raises(NotFound):
        export.export_to_resource(anon, stores, "luft-intern")
    with pytest.raises(Forbidden):
        export.export_to_resource(anon, stores, "luft")


def test_cli_sensors_export_loads_a_new_version(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings(data_dir=data)
    stores = Stores.open(settings)
    try:
        admin = RequestContext(actor=Actor.system(), settings=settings)
        make_org(admin, stores, "umwelt", "Umweltreferat")
        make_dataset(admin, stores, "luft", org="umwelt")
        thing = service.post(admin, stores, "Things", station(), base_url="http://x/sta/v1.1")
        ds = service.get(admin, stores, f"Things({thing.id})/Datastreams", {}, base_url="http://x/sta/v1.1")
        add_observations(stores, ds["value"][0]["@iot.id"], [(T0, 1.5), (T0 + dt.timedelta(hours=1), 2.5)])
    finally:
        stores.close()
    code, out, err = run(data, "sensors", "export", "luft", "--from", "2026-11-02T08:30:00Z")
    assert code == 0, err
    assert "luft/beobachtungen: version 1 with 1 observations" in out
    code, _, err = run(data, "sensors", "export", "luft", "--from", "2030-01-01T00:00:00Z")
    assert code == 2 and "no observations" in err
    code, _, err = run(data, "sensors", "export", "gibt-es-nicht")
    assert code == 2 and "gibt-es-nicht" in err
