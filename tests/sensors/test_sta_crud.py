"""SensorThings API 1.1 conformance classes as the OGC/FROST test suites exercise them: sensing core,
create/update/delete (deep insert, links, cascades, status codes), on both backends."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.sensors.conftest import STA, M, basic, bearer, create_station, station


def test_service_root_lists_every_entity_set_with_absolute_urls(client: TestClient) -> None:
    body = client.get(STA).json()
    names = [v["name"] for v in body["value"]]
    assert names == [
        "Things",
        "Locations",
        "HistoricalLocations",
        "Datastreams",
        "MultiDatastreams",
        "Sensors",
        "ObservedProperties",
        "Observations",
        "FeaturesOfInterest",
    ]
    assert body["value"][0]["url"] == "http://testserver/sta/v1.1/Things"
    assert any("create-update-delete" in c for c in body["serverSettings"]["conformance"])


def test_deep_insert_creates_everything_with_201_location_and_historical_location(
    client: TestClient, sensor_world: dict[str, str]
) -> None:
    r = client.post(f"{STA}/Things", json=station(), headers=bearer(sensor_world["steward"]))
    assert r.status_code == 201, r.text
    thing = r.json()
    assert r.headers["Location"] == thing["@iot.selfLink"] == f"http://testserver{STA}/Things({thing['@iot.id']})"
    assert thing["Datastreams@iot.navigationLink"].endswith(f"Things({thing['@iot.id']})/Datastreams")
    tid = thing["@iot.id"]
    assert len(client.get(f"{STA}/Things({tid})/Locations").json()["value"]) == 1
    hist = client.get(f"{STA}/Things({tid})/HistoricalLocations?$expand=Locations").json()["value"]
    assert len(hist) == 1 and hist[0]["Locations"][0]["name"] == "Standort Messstation Stiftsplatz"
    ds = client.get(f"{STA}/Things({tid})/Datastreams?$expand=Sensor,ObservedProperty").json()["value"][0]
    assert ds["Sensor"]["name"] == "NO2-Sensor" and ds["ObservedProperty"]["name"] == "NO2"
    assert ds["unitOfMeasurement"]["symbol"] == "µg/m³"


def test_observation_without_feature_gets_one_from_the_location_and_reuses_it(
    client: TestClient, sensor_world: dict[str, str]
) -> None:
    _, ds = create_station(client, sensor_world["steward"])
    h = bearer(sensor_world["steward"])
    r1 = client.post(
        f"{STA}/Datastreams({ds})/Observations",
        json={"phenomenonTime": "2026-11-01T08:00:00Z", "result": 41.5},
        headers=h,
    )
    r2 = client.post(
        f"{STA}/Observations",
        json={"phenomenonTime": "2026-11-01T10:00:00+01:00", "result": 38, "Datastream": {"@iot.id": ds}},
        headers=h,
    )
    assert r1.status_code == r2.status_code == 201, r2.text
    assert r1.json()["resultTime"] is None
    foi1 = client.get(f"{STA}/Observations({r1.json()['@iot.id']})/FeatureOfInterest").json()
    foi2 = client.get(f"{STA}/Observations({r2.json()['@iot.id']})/FeatureOfInterest").json()
    assert foi1["@iot.id"] == foi2["@iot.id"] and foi1["feature"]["type"] == "Point"
    # times come back in UTC; the datastream's extent follows its observations
    assert client.get(f"{STA}/Observations({r2.json()['@iot.id']})").json()["phenomenonTime"] == "2026-11-01T09:00:00Z"
    # a duplicate phenomenonTime in the same datastream is refused
    dup = client.post(
        f"{STA}/Datastreams({ds})/Observations", json={"phenomenonTime": "2026-11-01T08:00:00Z", "result": 1}, headers=h
    )
    assert dup.status_code == 409


def test_reads_properties_value_and_ref(client: TestClient, sensor_world: dict[str, str]) -> None:
    tid, ds = create_station(client, sensor_world["steward"])
    assert client.get(f"{STA}/Things({tid})/name").json() == {"name": "Messstation Stiftsplatz"}
    value = client.get(f"{STA}/Things({tid})/name/$value")
    assert value.status_code == 200 and value.text == "Messstation Stiftsplatz"
    refs = client.get(f"{STA}/Things({tid})/Datastreams/$ref").json()["value"]
    assert refs == [{"@iot.selfLink": f"http://testserver{STA}/Datastreams({ds})"}]
    assert client.get(f"{STA}/Datastreams({ds})/Thing").json()["@iot.id"] == tid
    assert client.get(f"{STA}/Datastreams({ds})/phenomenonTime").status_code == 204  # no observations yet
    assert client.get(f"{STA}/Things(999999)").status_code == 404
    assert client.get(f"{STA}/Things({tid})/Nonsense").status_code == 404
    assert client.get(f"{STA}/Gadgets").status_code == 404


def test_invalid_bodies_are_400_and_create_nothing(client: TestClient, sensor_world: dict[str, str]) -> None:
    h = bearer(sensor_world["steward"])
    before = len(client.get(f"{STA}/Sensors").json()["value"])
    bad = station()
    del bad["Datastreams"][0]["ObservedProperty"]  # a Datastream must link its ObservedProperty
    assert client.post(f"{STA}/Things", json=bad, headers=h).status_code == 400
    assert len(client.get(f"{STA}/Sensors").json()["value"]) == before  # the deep insert was atomic
    assert client.get(f"{STA}/Things").json()["value"] == []
    cases = [
        ("Things", {"name": "x", "description": "y", "colour": "red"}),  # unknown property
        ("Things", {"description": "no name", "properties": {"dataset": "luft"}}),
        (
            "Locations",
            {
                "name": "l",
                "description": "d",
                "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [700, 95]},
            },
        ),  # not WGS 84
        (
            "Locations",
            {
                "name": "l",
                "description": "d",
                "encodingType": "application/geo+json",
                "location": {"type": "Polygon", "coordinates": "nope"},
            },
        ),
        ("Observations", {"result": 3}),  # no Datastream
        ("Observations", {"result": 3, "Datastream": {"@iot.id": 424242}}),
    ]
    for path, body in cases:
        r = client.post(f"{STA}/{path}", json=body, headers=h)
        assert r.status_code == 400, (path, body, r.text)
    assert (
        client.post(
            f"{STA}/Things", content=b"{not json", headers={**h, "Content-Type": "application/json"}
        ).status_code
        == 400
    )


def test_wrong_result_type_is_refused(client: TestClient, sensor_world: dict[str, str]) -> None:
    _, ds = create_station(client, sensor_world["steward"])
    r = client.post(
        f"{STA}/Datastreams({ds})/Observations", json={"result": "hoch"}, headers=bearer(sensor_world["steward"])
    )
    assert r.status_code == 400 and "OM_Measurement" in r.text


def test_patch_changes_only_the_given_properties_and_refuses_inline_entities(
    client: TestClient, sensor_world: dict[str, str]
) -> None:
    tid, ds = create_station(client, sensor_world["steward"])
    h = bearer(sensor_world["steward"])
    r = client.patch(f"{STA}/Things({tid})", json={"description": "neu"}, headers=h)
    assert r.status_code == 200 and r.json()["description"] == "neu" and r.json()["name"] == "Messstation Stiftsplatz"
    inline = {"Datastreams": [{"name": "n", "description": "d", "observationType": M, "unitOfMeasurement": {}}]}
    assert client.patch(f"{STA}/Things({tid})", json=inline, headers=h).status_code == 400
    assert client.put(f"{STA}/Things({tid})", json={"name": "x"}, headers=h).status_code == 501


def test_delete_cascades_thing_to_datastreams_and_observations(
    client: TestClient, sensor_world: dict[str, str]
) -> None:
    tid, ds = create_station(client, sensor_world["steward"])
    h = bearer(sensor_world["steward"])
    oid = client.post(f"{STA}/Datastreams({ds})/Observations", json={"result": 1.5}, headers=h).json()["@iot.id"]
    assert client.delete(f"{STA}/Things({tid})", headers=h).status_code == 204
    for path in (f"Things({tid})", f"Datastreams({ds})", f"Observations({oid})"):
        assert client.get(f"{STA}/{path}").status_code == 404
    assert client.delete(f"{STA}/Things({tid})", headers=h).status_code == 404


def test_writes_need_an_account_with_permission(client: TestClient, sensor_world: dict[str, str]) -> None:
    assert client.post(f"{STA}/Things", json=station()).status_code == 401
    assert client.post(f"{STA}/Things", json=station(), headers=bearer(sensor_world["reader"])).status_code == 403
    assert client.post(f"{STA}/Things", json=station(), headers=bearer(sensor_world["foreign"])).status_code in (
        403,
        404,
    )
    # HTTP Basic with user name and API token as password, as FROST clients and QGIS send it
    r = client.post(f"{STA}/Things", json=station(), headers=basic("sina", sensor_world["steward"]))
    assert r.status_code == 201, r.text


def test_internal_thing_is_invisible_to_anonymous_on_every_path(
    client: TestClient, sensor_world: dict[str, str]
) -> None:
    h = bearer(sensor_world["steward"])
    tid, ds = create_station(client, sensor_world["steward"], name="Intern", dataset="luft-intern")
    oid = client.post(f"{STA}/Datastreams({ds})/Observations", json={"result": 7}, headers=h).json()["@iot.id"]
    lid = client.get(f"{STA}/Things({tid})/Locations", headers=h).json()["value"][0]["@iot.id"]
    for path in (
        f"Things({tid})",
        f"Datastreams({ds})",
        f"Observations({oid})",
        f"Locations({lid})",
        f"Things({tid})/Datastreams",
        f"Datastreams({ds})/Observations",
    ):
        assert client.get(f"{STA}/{path}").status_code == 404, path
        assert client.get(f"{STA}/{path}", headers=h).status_code == 200, path
    for coll in ("Things", "Datastreams", "Observations", "Locations", "HistoricalLocations", "FeaturesOfInterest"):
        body = client.get(f"{STA}/{coll}?$count=true").json()
        assert body["value"] == [] and body["@iot.count"] == 0, coll
    assert client.get(f"{STA}/Things?$count=true", headers=h).json()["@iot.count"] == 1


def test_create_observations_data_array_reports_each_row(client: TestClient, sensor_world: dict[str, str]) -> None:
    _, ds = create_station(client, sensor_world["steward"])
    body = [
        {
            "Datastream": {"@iot.id": ds},
            "components": ["phenomenonTime", "result"],
            "dataArray": [
                ["2026-11-01T00:00:00Z", 20],
                ["2026-11-01T01:00:00Z", 21.5],
                ["2026-11-01T01:00:00Z", 22],
                ["kaputt", 1],
            ],
        }
    ]
    r = client.post(f"{STA}/CreateObservations", json=body, headers=bearer(sensor_world["steward"]))
    assert r.status_code == 201
    links = r.json()
    assert links[2:] == ["error", "error"] and all("Observations(" in x for x in links[:2])
    got = client.get(f"{STA}/Datastreams({ds})/Observations?$resultFormat=dataArray&$count=true").json()
    assert got["@iot.count"] == 2
    assert got["value"][0]["components"] == ["id", "phenomenonTime", "result"]
    assert [row[2] for row in got["value"][0]["dataArray"]] == [20, 21.5]


def _bulk(ds: int, rows: list[list[object]], components: list[str] | None = None) -> list[dict[str, object]]:
    comps = components or ["phenomenonTime", "result"]
    return [{"Datastream": {"@iot.id": ds}, "components": comps, "dataArray": rows}]


def _minute(i: int) -> str:
    return f"2026-10-{1 + i // 1440:02d}T{i // 60 % 24:02d}:{i % 60:02d}:00Z"


def test_a_large_data_array_is_stored_whole_and_reports_each_bad_row(
    client: TestClient, sensor_world: dict[str, str]
) -> None:
    """Large requests take the one-pass COPY on PostgreSQL; every outcome must equal the two-step path's."""
    h = bearer(sensor_world["steward"])
    _, ds = create_station(client, sensor_world["steward"])
    rows: list[list[object]] = [[_minute(i), i / 4] for i in range(3000)]
    rows[10] = [_minute(9), 1.0]  # the same phenomenonTime twice in one request
    rows[20] = [_minute(20), "zwanzig"]  # not a number for an OM_Measurement
    rows[30] = ["gestern", 1.0]  # not a time
    links = client.post(f"{STA}/CreateObservations", json=_bulk(ds, rows), headers=h).json()
    assert [i for i, x in enumerate(links) if x == "error"] == [10, 20, 30]
    stored = client.get(f"{STA}/Datastreams({ds})/Observations?$count=true&$top=1&$orderby=phenomenonTime desc").json()
    assert stored["@iot.count"] == 2997
    last = stored["value"][0]
    assert last["@iot.selfLink"] == links[-1] and last["result"] == 2999 / 4
    assert last["phenomenonTime"] == "2026-10-03T01:59:00Z"
    hours = client.get(
        f"{STA}/Datastreams({ds})/Aggregations?interval=hour&functions=count,sum"
        "&from=2026-10-01T00:00:00Z&to=2026-10-01T01:00:00Z"
    ).json()["value"]
    assert hours[0]["count"] == 57 and hours[0]["sum"] == sum(i / 4 for i in range(60) if i not in (10, 20, 30))
    stream = client.get(f"{STA}/Datastreams({ds})").json()
    assert stream["phenomenonTime"] == "2026-10-01T00:00:00Z/2026-10-03T01:59:00Z"

    # a second request that repeats one stored time: that row is refused, the others are stored
    again: list[list[object]] = [[_minute(i), 1.0] for i in range(3000, 3600)] + [[_minute(5), 1.0]]
    links = client.post(f"{STA}/CreateObservations", json=_bulk(ds, again), headers=h).json()
    assert links[-1] == "error" and "error" not in links[:-1]
    count = client.get(f"{STA}/Datastreams({ds})/Observations?$count=true&$top=1").json()["@iot.count"]
    assert count == 2997 + 600


def test_a_large_data_array_with_features_of_interest(client: TestClient, sensor_world: dict[str, str]) -> None:
    h = bearer(sensor_world["steward"])
    _, ds = create_station(client, sensor_world["steward"])
    links = client.post(f"{STA}/CreateObservations", json=_bulk(ds, [[_minute(0), 1.0]]), headers=h).json()
    feature = client.get(links[0].removeprefix("http://testserver") + "/FeatureOfInterest").json()["@iot.id"]
    rows: list[list[object]] = [[_minute(i), 2.0, feature] for i in range(1, 801)]
    rows[5][2] = 999999  # no such FeatureOfInterest
    comps = ["phenomenonTime", "result", "FeatureOfInterest/id"]
    links = client.post(f"{STA}/CreateObservations", json=_bulk(ds, rows, comps), headers=h).json()
    assert [i for i, x in enumerate(links) if x == "error"] == [5]
    count = client.get(f"{STA}/FeaturesOfInterest({feature})/Observations?$count=true&$top=1").json()["@iot.count"]
    assert count == 800


def test_json_batch_runs_an_atomicity_group_all_or_nothing(client: TestClient, sensor_world: dict[str, str]) -> None:
    h = bearer(sensor_world["steward"])
    tid, _ = create_station(client, sensor_world["steward"])
    sensor = {"name": "PM10", "description": "d", "encodingType": "text/html", "metadata": "m"}
    prop = {"name": "PM10", "definition": "https://example.org/pm10", "description": "Feinstaub"}
    ok = {
        "requests": [
            {"id": "s1", "atomicityGroup": "g", "method": "post", "url": "Sensors", "body": sensor},
            {"id": "p1", "atomicityGroup": "g", "method": "post", "url": "ObservedProperties", "body": prop},
            {
                "id": "d1",
                "atomicityGroup": "g",
                "method": "post",
                "url": f"Things({tid})/Datastreams",
                "body": {
                    "name": "PM10",
                    "description": "d",
                    "observationType": M,
                    "unitOfMeasurement": {"symbol": "µg/m³"},
                    "Sensor": {"@iot.id": "$s1"},
                    "ObservedProperty": {"@iot.id": "$p1"},
                },
            },
            {"id": "q", "method": "get", "url": f"Things({tid})/Datastreams?$count=true"},
        ]
    }
    r = client.post(f"{STA}/$batch", json=ok, headers=h).json()["responses"]
    assert [x["status"] for x in r] == [201, 201, 201, 200]
    assert r[3]["body"]["@iot.count"] == 2
    n_sensors = len(client.get(f"{STA}/Sensors").json()["value"])
    broken = {
        "requests": [
            {"id": "s2", "atomicityGroup": "h", "method": "post", "url": "Sensors", "body": sensor},
            {
                "id": "d2",
                "atomicityGroup": "h",
                "method": "post",
                "url": f"Things({tid})/Datastreams",
                "body": {
                    "name": "x",
                    "description": "d",
                    "observationType": M,
                    "unitOfMeasurement": {},
                    "Sensor": {"@iot.id": "$s2"},
                },
            },  # no ObservedProperty
        ]
    }
    r = client.post(f"{STA}/$batch", json=broken, headers=h).json()["responses"]
    assert [x["status"] for x in r] == [424, 400]
    assert len(client.get(f"{STA}/Sensors").json()["value"]) == n_sensors
