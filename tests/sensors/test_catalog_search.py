"""One catalog: a sensor dataset is found by the names of its Things and Datastreams, on both
backends, and never by an anonymous visitor when it is internal."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.sensors.conftest import STA, bearer, create_station


def _found(client: TestClient, q: str, token: str | None = None) -> list[str]:
    headers = bearer(token) if token else {}
    r = client.get("/api/v1/datasets", params={"q": q}, headers=headers)
    assert r.status_code == 200, r.text
    return [d["slug"] for d in r.json()["results"]]


def test_things_and_datastreams_make_their_dataset_findable(client: TestClient, sensor_world: dict[str, str]) -> None:
    h = bearer(sensor_world["steward"])
    assert _found(client, "Stiftsplatz") == []
    thing, ds = create_station(client, sensor_world["steward"], name="Stiftsplatz")
    assert _found(client, "Stiftsplatz") == ["luft"]
    assert _found(client, "NO2 Stiftsplatz") == ["luft"]  # the Datastream's name

    client.patch(f"{STA}/Things({thing})", json={"name": "Pfaffplatz"}, headers=h)
    assert _found(client, "Pfaffplatz") == ["luft"]
    assert _found(client, "Stiftsplatz") == ["luft"]  # still the Datastream "NO2 Stiftsplatz"
    client.patch(f"{STA}/Datastreams({ds})", json={"name": "NO2 Pfaffplatz"}, headers=h)
    assert _found(client, "Stiftsplatz") == []

    assert client.delete(f"{STA}/Things({thing})", headers=h).status_code == 204
    assert _found(client, "Pfaffplatz") == []
    # the dataset's own metadata still finds it
    assert _found(client, "Luftqualität") == ["luft"]


def test_an_internal_station_is_found_by_members_only(client: TestClient, sensor_world: dict[str, str]) -> None:
    create_station(client, sensor_world["steward"], name="Geheimer Standort", dataset="luft-intern")
    assert _found(client, "Geheimer Standort") == []
    assert _found(client, "Geheimer Standort", sensor_world["reader"]) == ["luft-intern"]


def test_a_thing_moved_to_another_dataset_leaves_the_old_one(client: TestClient, sensor_world: dict[str, str]) -> None:
    thing, _ = create_station(client, sensor_world["steward"], name="Wanderstation")
    moved = {"properties": {"dataset": "luft-intern"}}
    r = client.patch(f"{STA}/Things({thing})", json=moved, headers=bearer(sensor_world["steward"]))
    assert r.status_code == 200, r.text
    assert _found(client, "Wanderstation", sensor_world["reader"]) == ["luft-intern"]


def test_a_renamed_observed_property_reaches_every_dataset_observing_it(
    client: TestClient, sensor_world: dict[str, str]
) -> None:
    h = bearer(sensor_world["steward"])
    _, ds = create_station(client, sensor_world["steward"], name="Beobachter")
    prop = client.get(f"{STA}/Datastreams({ds})/ObservedProperty", headers=h).json()["@iot.id"]
    assert _found(client, "Schwefeldioxidmessung") == []
    r = client.patch(f"{STA}/ObservedProperties({prop})", json={"name": "Schwefeldioxidmessung"}, headers=h)
    assert r.status_code == 200, r.text
    assert _found(client, "Schwefeldioxidmessung") == ["luft"]
