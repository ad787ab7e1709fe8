"""LatestObservations (urbandata extension): the latest value of every visible Datastream of a set of
Things or of a catalog dataset in one request, on both backends."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from tests.sensors.conftest import STA, bearer, create_station
from tests.sensors.ext_support import UTC, add_observations
from urbandata.stores import Stores


def test_latest_value_per_datastream_follows_new_and_late_observations(
    client: TestClient, sensor_world: dict[str, str], stores: Stores
) -> None:
    t1, ds1 = create_station(client, sensor_world["steward"], name="Stiftsplatz")
    t2, ds2 = create_station(client, sensor_world["steward"], name="Pfaffplatz", lon=7.75)
    t3, _ = create_station(client, sensor_world["steward"], name="Volkspark", lon=7.77)
    base = dt.datetime(2026, 11, 2, 8, tzinfo=UTC)
    add_observations(stores, ds1, [(base, 10.0), (base + dt.timedelta(hours=1), 12.5)])
    add_observations(stores, ds1, [(base - dt.timedelta(hours=5), 99.0)])  # a late delivery is not the latest
    add_observations(stores, ds2, [(base + dt.timedelta(minutes=30), 7)])

    r = client.get(f"{STA}/LatestObservations?things={t1},{t2}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["@iot.count"] == 2
    first, second = body["value"]
    assert (first["Thing@iot.id"], first["thingName"], first["Datastream@iot.id"]) == (t1, "Stiftsplatz", ds1)
    assert first["datastreamName"] == "NO2 Stiftsplatz" and first["unitOfMeasurement"]["symbol"] == "µg/m³"
    assert (first["phenomenonTime"], first["result"]) == ("2026-11-02T09:00:00Z", 12.5)
    assert first["Datastream@iot.selfLink"] == f"http://testserver{STA}/Datastreams({ds1})"
    obs = client.get(first["Observation@iot.selfLink"].removeprefix("http://testserver")).json()
    assert obs["result"] == 12.5
    assert (second["Thing@iot.id"], second["result"], second["phenomenonTime"]) == (t2, 7, "2026-11-02T08:30:00Z")

    # a newer observation over the standard API moves the latest value
    h = bearer(sensor_world["steward"])
    client.post(
        f"{STA}/Datastreams({ds2})/Observations",
        json={"phenomenonTime": "2026-11-02T11:00:00Z", "result": 8.25},
        headers=h,
    )
    again = client.get(f"{STA}/LatestObservations?things={t2},{t3}").json()["value"]
    assert [(v["Thing@iot.id"], v["result"]) for v in again] == [(t2, 8.25), (t3, None)]  # t3: no data yet
    assert again[1]["phenomenonTime"] is None


def test_by_dataset_and_invisible_things_are_left_out(
    client: TestClient, sensor_world: dict[str, str], stores: Stores
) -> None:
    t1, ds1 = create_station(client, sensor_world["steward"], name="Öffentlich")
    t2, ds2 = create_station(client, sensor_world["steward"], name="Intern", dataset="luft-intern")
    now = dt.datetime(2026, 11, 2, 8, tzinfo=UTC)
    add_observations(stores, ds1, [(now, 1.0)])
    add_observations(stores, ds2, [(now, 2.0)])

    anon = client.get(f"{STA}/LatestObservations?things={t1},{t2}").json()["value"]
    assert [v["Thing@iot.id"] for v in anon] == [t1]
    staff = client.get(f"{STA}/LatestObservations?things={t1},{t2}", headers=bearer(sensor_world["reader"]))
    assert [v["Thing@iot.id"] for v in staff.json()["value"]] == [t1, t2]

    by_dataset = client.get(f"{STA}/LatestObservations?dataset=luft").json()["value"]
    assert [v["Datastream@iot.id"] for v in by_dataset] == [ds1]
    hidden = client.get(f"{STA}/LatestObservations?dataset=luft-intern")
    missing = client.get(f"{STA}/LatestObservations?dataset=gibt-es-nicht")
    assert hidden.status_code == missing.status_code == 404
    # both filters together narrow down
    both = client.get(f"{STA}/LatestObservations?dataset=luft&things={t2}", headers=bearer(sensor_world["reader"]))
    assert both.json()["value"] == []


def test_bad_input_is_400(client: TestClient) -> None:
    for query, parameter in [("", "things"), ("things=1,zwei", "things"), ("things=,", "things")]:
        r = client.get(f"{STA}/LatestObservations?{query}")
        assert r.status_code == 400, (query, r.text)
        assert r.json()["error"]["details"]["parameter"] == parameter
    many = ",".join(str(i) for i in range(6000))
    assert client.get(f"{STA}/LatestObservations?things={many}").status_code == 400


def test_two_writers_of_one_datastream_keep_the_latest_value_and_extent(
    client: TestClient, sensor_world: dict[str, str], stores: Stores
) -> None:
    """A writer that read the Datastream before another one committed newer data (an upload and an
    MQTT gateway at once) must not set the latest value or the extent back."""
    from urbandata.sensors import observations as obs

    thing, ds = create_station(client, sensor_world["steward"], name="Zwei Schreiber")
    base = dt.datetime(2026, 11, 2, 8, tzinfo=UTC)
    with stores.engine.connect() as conn:
        stale = obs.load_stream(conn, ds)  # read before the other writer commits
    add_observations(stores, ds, [(base + dt.timedelta(hours=2), 20.0)])  # the other writer: newer data
    with stores.engine.begin() as conn:  # now the first writer stores older data
        older = obs.NewObservation(phenomenon_time=base, phenomenon_time_end=None, result=10.0)
        (new_id,) = obs.insert_observations(conn, stale, [older])
        assert isinstance(new_id, int)

    latest = client.get(f"{STA}/LatestObservations?things={thing}").json()["value"][0]
    assert (latest["phenomenonTime"], latest["result"]) == ("2026-11-02T10:00:00Z", 20.0)
    stream = client.get(f"{STA}/Datastreams({ds})").json()
    assert stream["phenomenonTime"] == "2026-11-02T08:00:00Z/2026-11-02T10:00:00Z"
