"""MultiDatastreams, links ($ref), HistoricalLocations and Datastream extents."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.sensors.conftest import STA, bearer, create_station

COMPLEX = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_ComplexObservation"
M = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"


def _location(name: str, lon: float) -> dict:
    return {
        "name": name,
        "description": "d",
        "encodingType": "application/geo+json",
        "location": {"type": "Point", "coordinates": [lon, 49.44]},
    }


def test_multidatastream_observations_need_an_array_of_the_right_length(
    client: TestClient, sensor_world: dict[str, str]
) -> None:
    h = bearer(sensor_world["steward"])
    tid, _ = create_station(client, sensor_world["steward"])
    md = {
        "name": "Wetter",
        "description": "Temperatur und Feuchte",
        "observationType": COMPLEX,
        "unitOfMeasurements": [{"name": "Grad Celsius", "symbol": "°C"}, {"name": "Prozent", "symbol": "%"}],
        "multiObservationDataTypes": [M, M],
        "Thing": {"@iot.id": tid},
        "Sensor": {"name": "Wetterstation", "description": "d", "encodingType": "text/html", "metadata": "m"},
        "ObservedProperties": [
            {"name": "Temperatur", "definition": "https://example.org/t", "description": "d"},
            {"name": "Luftfeuchte", "definition": "https://example.org/h", "description": "d"},
        ],
    }
    r = client.post(f"{STA}/MultiDatastreams", json=md, headers=h)
    assert r.status_code == 201, r.text
    mid = r.json()["@iot.id"]
    props = client.get(f"{STA}/MultiDatastreams({mid})/ObservedProperties").json()["value"]
    assert [p["name"] for p in props] == ["Temperatur", "Luftfeuchte"]
    ok = client.post(f"{STA}/MultiDatastreams({mid})/Observations", json={"result": [4.5, 81]}, headers=h)
    assert ok.status_code == 201 and ok.json()["result"] == [4.5, 81]
    assert "MultiDatastream@iot.navigationLink" in ok.json() and "Datastream@iot.navigationLink" not in ok.json()
    bad = client.post(f"{STA}/MultiDatastreams({mid})/Observations", json={"result": [4.5]}, headers=h)
    assert bad.status_code == 400
    mismatch = {**md, "multiObservationDataTypes": [M]}
    assert client.post(f"{STA}/MultiDatastreams", json=mismatch, headers=h).status_code == 400


def test_new_location_makes_a_historical_location_and_ref_links_and_unlinks(
    client: TestClient, sensor_world: dict[str, str]
) -> None:
    h = bearer(sensor_world["steward"])
    tid, _ = create_station(client, sensor_world["steward"])
    assert len(client.get(f"{STA}/Things({tid})/HistoricalLocations").json()["value"]) == 1
    r = client.post(f"{STA}/Things({tid})/Locations", json=_location("Neuer Mast", 7.77), headers=h)
    assert r.status_code == 201
    assert len(client.get(f"{STA}/Things({tid})/HistoricalLocations").json()["value"]) == 2
    loose = client.post(f"{STA}/Locations", json=_location("Lager", 7.70), headers=h).json()["@iot.id"]
    assert client.post(f"{STA}/Things({tid})/Locations/$ref", json={"@iot.id": loose}, headers=h).status_code == 204
    names = {x["name"] for x in client.get(f"{STA}/Things({tid})/Locations").json()["value"]}
    assert "Lager" in names and len(names) == 3
    assert client.delete(f"{STA}/Things({tid})/Locations({loose})/$ref", headers=h).status_code == 204
    assert client.get(f"{STA}/Locations({loose})", headers=h).status_code == 200  # only the link went
    assert len(client.get(f"{STA}/Things({tid})/Locations").json()["value"]) == 2
    assert client.post(f"{STA}/Things({tid})/Locations/$ref", json={"@iot.id": 987654}, headers=h).status_code == 400


def test_datastream_extent_follows_out_of_order_and_deleted_observations(
    client: TestClient, sensor_world: dict[str, str]
) -> None:
    h = bearer(sensor_world["steward"])
    _, ds = create_station(client, sensor_world["steward"])
    ids = {}
    for t, v in (("2026-11-02T10:00:00Z", 3), ("2026-11-02T08:00:00Z", 1), ("2026-11-02T12:00:00Z", 5)):
        ids[t] = client.post(
            f"{STA}/Datastreams({ds})/Observations", json={"phenomenonTime": t, "result": v}, headers=h
        ).json()["@iot.id"]
    assert (
        client.get(f"{STA}/Datastreams({ds})").json()["phenomenonTime"] == "2026-11-02T08:00:00Z/2026-11-02T12:00:00Z"
    )
    assert client.delete(f"{STA}/Observations({ids['2026-11-02T12:00:00Z']})", headers=h).status_code == 204
    assert (
        client.get(f"{STA}/Datastreams({ds})").json()["phenomenonTime"] == "2026-11-02T08:00:00Z/2026-11-02T10:00:00Z"
    )
    # PATCH of an observation moves it; the extent follows
    oid = ids["2026-11-02T08:00:00Z"]
    r = client.patch(
        f"{STA}/Observations({oid})", json={"phenomenonTime": "2026-11-02T06:00:00Z", "result": 2}, headers=h
    )
    assert r.status_code == 200 and r.json()["result"] == 2
    assert client.get(f"{STA}/Datastreams({ds})/phenomenonTime").json() == {
        "phenomenonTime": "2026-11-02T06:00:00Z/2026-11-02T10:00:00Z"
    }


def test_new_observations_keep_a_sensor_dataset_fresh(client: TestClient, sensor_world: dict[str, str]) -> None:
    import datetime as dt

    h = bearer(sensor_world["steward"])
    assert client.patch("/api/v1/datasets/luft", json={"frequency": "DAILY"}, headers=h).status_code == 200
    _, ds = create_station(client, sensor_world["steward"])
    at = (dt.datetime.now(dt.UTC) - dt.timedelta(days=3)).replace(microsecond=0)
    t = at.isoformat().replace("+00:00", "Z")
    assert (
        client.post(
            f"{STA}/Datastreams({ds})/Observations", json={"phenomenonTime": t, "result": 1}, headers=h
        ).status_code
        == 201
    )
    quality = client.get("/api/v1/datasets/luft/quality").json()
    assert quality["freshness"] == "overdue" and quality["last_update"].startswith(at.isoformat()[:19])
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    assert (
        client.post(
            f"{STA}/Datastreams({ds})/Observations", json={"phenomenonTime": now, "result": 2}, headers=h
        ).status_code
        == 201
    )
    assert client.get("/api/v1/datasets/luft/quality").json()["freshness"] == "fresh"


def test_sensor_dataset_lists_its_services_in_the_catalog_and_dcat(
    client: TestClient, sensor_world: dict[str, str]
) -> None:
    h = bearer(sensor_world["steward"])
    tid, _ = create_station(client, sensor_world["steward"])
    r = client.patch(f"{STA}/Things({tid})", json={"properties": {"district": "Mitte"}}, headers=h)
    assert r.json()["properties"] == {"district": "Mitte", "dataset": "luft"}
    kinds = {s["kind"]: s for s in client.get("/api/v1/datasets/luft").json()["services"]}
    assert set(kinds) == {"sensorthings", "observations-csv", "observations-parquet"}
    listed = client.get(kinds["sensorthings"]["url"]).json()["value"]  # the service URL works as given
    assert [t["@iot.id"] for t in listed] == [tid] and "Datastreams" in listed[0]
    ttl = client.get("/api/v1/dcat/datasets/luft?format=ttl").text
    assert "sensorthings/1.1" in ttl and "observations?format=csv" in ttl
