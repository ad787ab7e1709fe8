"""SensorThings query options over HTTP as the filtering conformance tests use them: $filter,
$expand (nested, with options), $select, $orderby, $top/$skip with nextLink, $count."""

from __future__ import annotations

import urllib.parse

import pytest
from fastapi.testclient import TestClient

from tests.sensors.conftest import STA, bearer, create_station


@pytest.fixture
def series(client: TestClient, sensor_world: dict[str, str]) -> dict[str, int]:
    """Two stations; the first has results 1..8 at hourly times, the second 100."""
    h = bearer(sensor_world["steward"])
    t1, d1 = create_station(client, sensor_world["steward"], name="Stiftsplatz", lon=7.7686)
    t2, d2 = create_station(client, sensor_world["steward"], name="Pfaffplatz", lon=7.7500)
    rows = [[f"2026-11-01T{h_:02d}:00:00Z", h_] for h_ in range(1, 9)]
    body = [
        {"Datastream": {"@iot.id": d1}, "components": ["phenomenonTime", "result"], "dataArray": rows},
        {
            "Datastream": {"@iot.id": d2},
            "components": ["phenomenonTime", "result"],
            "dataArray": [["2026-11-01T05:00:00Z", 100]],
        },
    ]
    assert "error" not in client.post(f"{STA}/CreateObservations", json=body, headers=h).json()
    return {"t1": t1, "d1": d1, "t2": t2, "d2": d2}


def _get(client: TestClient, path: str, **params: str) -> dict:
    r = client.get(f"{STA}/{path}", params=params)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_the_ogc_priority_test(client: TestClient, series: dict[str, int]) -> None:
    # ets-sta10 Capability3Tests: $filter, then $count, $orderby, $skip, $top
    body = _get(
        client,
        f"Datastreams({series['d1']})/Observations",
        **{"$count": "true", "$top": "1", "$skip": "2", "$orderby": "phenomenonTime asc", "$filter": "result gt '3'"},
    )
    assert body["@iot.count"] == 5
    assert [o["result"] for o in body["value"]] == [6]
    assert "@iot.nextLink" in body


def test_filters_on_properties_relations_functions_and_times(client: TestClient, series: dict[str, int]) -> None:
    def ids(path: str, flt: str) -> list[int]:
        return [v["@iot.id"] for v in _get(client, path, **{"$filter": flt})["value"]]

    assert ids("Things", "name eq 'Pfaffplatz'") == [series["t2"]]
    assert ids("Things", "startswith(name, 'Stift') and properties/district eq 'Innenstadt'") == [series["t1"]]
    assert ids("Things", "Datastreams/Observations/result gt 50") == [series["t2"]]  # to-many path = any
    assert ids("Observations", "Datastream/Thing/name eq 'Pfaffplatz'") != []
    assert len(ids("Observations", "phenomenonTime ge 2026-11-01T07:00:00Z and result mod 2 eq 0")) == 1
    assert len(ids("Observations", "hour(phenomenonTime) lt 3 and Datastream/@iot.id eq " + str(series["d1"]))) == 2
    assert len(ids("Observations", "(result add 1) mul 2 eq 10")) == 1
    assert ids("Things", "not (name eq 'Pfaffplatz')") == [series["t1"]]


def test_geospatial_filter_on_locations(client: TestClient, series: dict[str, int]) -> None:
    poly = "geography'POLYGON ((7.76 49.44, 7.78 49.44, 7.78 49.45, 7.76 49.45, 7.76 49.44))'"
    found = _get(client, "Locations", **{"$filter": f"st_within(location, {poly})"})["value"]
    assert [x["name"] for x in found] == ["Standort Stiftsplatz"]
    near = _get(
        client, "Things", **{"$filter": "geo.distance(Locations/location, geography'POINT (7.75 49.4447)') lt 0.001"}
    )
    assert [x["name"] for x in near["value"]] == ["Pfaffplatz"]


def test_expand_nested_with_options_and_select(client: TestClient, series: dict[str, int]) -> None:
    body = _get(
        client,
        f"Things({series['t1']})",
        **{
            "$select": "name",
            "$expand": "Datastreams($select=name;$expand=Observations($orderby=result desc;$top=2;$count=true)),"
            "Locations",
        },
    )
    assert set(body) == {"name", "Datastreams", "Locations"}
    obs = body["Datastreams"][0]["Observations"]
    assert [o["result"] for o in obs] == [8, 7]
    assert body["Datastreams"][0]["Observations@iot.count"] == 8
    assert "Observations@iot.nextLink" in body["Datastreams"][0]
    multi = _get(client, "Observations", **{"$top": "1", "$expand": "Datastream/Thing,FeatureOfInterest"})["value"][0]
    assert multi["Datastream"]["Thing"]["name"] in ("Stiftsplatz", "Pfaffplatz")
    assert multi["FeatureOfInterest"]["feature"]["type"] == "Point"


def test_paging_follows_absolute_next_links_to_the_end(client: TestClient, series: dict[str, int]) -> None:
    url = f"{STA}/Datastreams({series['d1']})/Observations?$top=3&$select=result"
    seen: list[int] = []
    while url:
        body = client.get(url).json()
        seen.extend(o["result"] for o in body["value"])
        nxt = body.get("@iot.nextLink")
        assert nxt is None or nxt.startswith("http://testserver/sta/v1.1/")
        url = urllib.parse.urlsplit(nxt)._replace(scheme="", netloc="").geturl() if nxt else ""
    assert seen == [1, 2, 3, 4, 5, 6, 7, 8]
    ordered = _get(client, "Observations", **{"$orderby": "result desc", "$top": "2", "$skip": "1"})
    assert [o["result"] for o in ordered["value"]] == [8, 7] and "$skip=3" in ordered["@iot.nextLink"]


def test_bad_query_options_are_400_naming_the_position_and_unknown_options_501(
    client: TestClient, series: dict[str, int]
) -> None:
    r = client.get(f"{STA}/Things", params={"$filter": "name eq 'x' and"})
    assert r.status_code == 400 and "position" in r.text.lower()
    assert client.get(f"{STA}/Things", params={"$filter": "colour eq 'red'"}).status_code == 400
    assert client.get(f"{STA}/Things", params={"$orderby": "nonsense"}).status_code == 400
    assert client.get(f"{STA}/Things", params={"$expand": "Observations"}).status_code == 400
    assert client.get(f"{STA}/Things", params={"$top": "-1"}).status_code == 400
    assert client.get(f"{STA}/Things", params={"$count": "maybe"}).status_code == 400
    assert client.get(f"{STA}/Things", params={"$apply": "groupby((name))"}).status_code == 501
    assert client.get(f"{STA}/Things", params={"$skiptoken": "garbage"}).status_code == 400
