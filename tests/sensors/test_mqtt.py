"""MQTT in and out against the local Mosquitto and both backends (STA 1.1 clause 14).

Each test uses its own topic prefix, so tests never see each other's messages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy.exc as sa_exc
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion

from tests.conftest import make_settings
from tests.helpers import make_dataset, make_org
from tests.sensors.mqtt_support import HOST, MQTT_URL, PORT, Recorder, Sender, require_broker, unique_prefix, wait_until
from urbandata.accounts import service as accounts
from urbandata.app import create_app
from urbandata.auth.actor import RequestContext
from urbandata.config import Settings
from urbandata.errors import UrbanDataError
from urbandata.sensors import service
from urbandata.sensors.mqtt import MqttBridge, service_writers
from urbandata.sensors.mqtt_ingest import Backoff
from urbandata.sensors.mqtt_settings import MQTT_CREATE, MQTT_RECEIVE
from urbandata.stores import Stores

OM = "http://www.opengis.net/def/observationType/OGC-OM/2.0/"
BASE = "http://test/sta/v1.1"


@pytest.fixture
def prefix() -> str:
    require_broker()
    return unique_prefix()


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest, prefix: str) -> Settings:
    return make_settings(
        backend, tmp_path, request, mqtt_url=MQTT_URL, mqtt_topic_prefix=prefix, public_url="http://test"
    )


def _datastream(name: str, kind: str = "OM_Measurement") -> dict[str, Any]:
    return {
        "name": name,
        "description": f"{name} an der Station",
        "observationType": OM + kind,
        "unitOfMeasurement": {"name": "Mikrogramm je Kubikmeter", "symbol": "µg/m³", "definition": "ucum:ug/m3"},
        "Sensor": {"name": f"{name}-Sensor", "description": "Messgerät", "encodingType": "text/html", "metadata": "-"},
        "ObservedProperty": {"name": name, "definition": f"https://example.org/{name}", "description": name},
    }


def _thing(name: str, dataset: str) -> dict[str, Any]:
    return {
        "name": name,
        "description": "Luftmessstation",
        "properties": {"dataset": dataset},
        "Locations": [
            {
                "name": "Rathaus",
                "description": "Willy-Brandt-Platz",
                "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [7.7689, 49.4447]},
            }
        ],
        "Datastreams": [_datastream("NO2"), _datastream("Zähler", "OM_CountObservation")],
        "MultiDatastreams": [
            {
                "name": "Wind",
                "description": "Richtung und Geschwindigkeit",
                "observationType": OM + "OM_ComplexObservation",
                "multiObservationDataTypes": [OM + "OM_Measurement", OM + "OM_Measurement"],
                "unitOfMeasurements": [
                    {"name": "Grad", "symbol": "°", "definition": "ucum:deg"},
                    {"name": "Meter je Sekunde", "symbol": "m/s", "definition": "ucum:m/s"},
                ],
                "Sensor": {"name": "Anemometer", "description": "-", "encodingType": "text/html", "metadata": "-"},
                "ObservedProperties": [
                    {"name": "Windrichtung", "definition": "https://example.org/wd", "description": "-"},
                    {"name": "Windgeschwindigkeit", "definition": "https://example.org/ws", "description": "-"},
                ],
            }
        ],
    }


class Station:
    def __init__(self, ctx: RequestContext, stores: Stores, name: str, dataset: str) -> None:
        created = service.post(ctx, stores, "Things", _thing(name, dataset), base_url=BASE)
        self.thing = created.id
        streams = service.get(ctx, stores, f"Things({self.thing})/Datastreams", {}, base_url=BASE)["value"]
        by_name = {s["name"]: s["@iot.id"] for s in streams}
        self.no2, self.count = by_name["NO2"], by_name["Zähler"]
        multi = service.get(ctx, stores, f"Things({self.thing})/MultiDatastreams", {}, base_url=BASE)["value"]
        self.wind = multi[0]["@iot.id"]


@pytest.fixture
def world(admin: RequestContext, stores: Stores) -> dict[str, Station]:
    make_org(admin, stores, "umwelt", "Referat Umwelt")
    make_dataset(admin, stores, "luft", org="umwelt")
    make_dataset(admin, stores, "luft-intern", org="umwelt", access_level="internal")
    return {
        "public": Station(admin, stores, "Station Rathaus", "luft"),
        "internal": Station(admin, stores, "Station Betriebshof", "luft-intern"),
    }


@pytest.fixture
def bridge(settings: Settings, stores: Stores) -> Iterator[MqttBridge]:
    b = MqttBridge(settings, stores, reconnect_delay=(1, 2)).start()
    assert b.wait_connected(10)
    yield b
    b.stop()


@pytest.fixture
def sender() -> Iterator[Sender]:
    s = Sender()
    yield s
    s.close()


def settle(bridge: MqttBridge, received: int) -> None:
    """Wait until the bridge got `received` messages in all and has handled every one of them."""
    assert wait_until(lambda: bridge.metrics.sample("urbandata_mqtt_received_total") == received)
    assert bridge.wait_idle(10)


def _observations(ctx: RequestContext, stores: Stores, path: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = service.get(ctx, stores, path, {"$orderby": "phenomenonTime"}, base_url=BASE)["value"]
    return out


def test_create_via_each_topic_form(
    bridge: MqttBridge, sender: Sender, world: dict[str, Station], admin: RequestContext, stores: Stores, prefix: str
) -> None:
    st = world["public"]
    sender.send(
        f"{prefix}Datastreams({st.no2})/Observations", {"phenomenonTime": "2024-05-01T10:00:00Z", "result": 21.5}
    )
    sender.send(
        f"{prefix}Observations",
        {"phenomenonTime": "2024-05-01T11:00:00Z", "result": 23.0, "Datastream": {"@iot.id": st.no2}},
    )
    sender.send(
        f"{prefix}MultiDatastreams({st.wind})/Observations",
        {"phenomenonTime": "2024-05-01T10:00:00Z", "result": [270, 3.5]},
    )
    settle(bridge, 3)
    first = _observations(admin, stores, f"Datastreams({st.no2})/Observations")
    assert [o["result"] for o in first] == [21.5, 23.0]
    foi = service.get(admin, stores, f"Observations({first[0]['@iot.id']})/FeatureOfInterest", {}, base_url=BASE)
    # FeatureOfInterest topic, the Datastream linked in the body
    sender.send(
        f"{prefix}FeaturesOfInterest({foi['@iot.id']})/Observations",
        {"phenomenonTime": "2024-05-01T12:00:00Z", "result": 7, "Datastream": {"@iot.id": st.count}},
    )
    settle(bridge, 4)
    assert bridge.metrics.sample("urbandata_mqtt_created_total") == 4
    counted = _observations(admin, stores, f"FeaturesOfInterest({foi['@iot.id']})/Observations")
    # the Thing's one Location gave every observation of the station the same FeatureOfInterest
    assert sorted(str(o["result"]) for o in counted) == ["21.5", "23", "7", "[270, 3.5]"]
    wind = _observations(admin, stores, f"MultiDatastreams({st.wind})/Observations")
    assert [o["result"] for o in wind] == [[270, 3.5]]
    assert bridge.metrics.sample("urbandata_mqtt_rejected_total", reason="duplicate_observation") == 0


def test_bad_input_is_counted_and_the_subscriber_keeps_running(
    bridge: MqttBridge, sender: Sender, world: dict[str, Station], admin: RequestContext, stores: Stores, prefix: str
) -> None:
    st = world["public"]
    topic = f"{prefix}Datastreams({st.no2})/Observations"
    sender.send(topic, b"\xff kein JSON", raw=True)
    sender.send(f"{prefix}Datastreams(987654)/Observations", {"result": 1.0})
    sender.send(topic, {"phenomenonTime": "2024-05-01T10:00:00Z", "result": "viel"})  # not a number
    sender.send(topic, {"phenomenonTime": "2024-05-01T10:00:00Z", "result": 1.0})
    sender.send(topic, {"phenomenonTime": "2024-05-01T10:00:00Z", "result": 2.0})  # duplicate time
    sender.send(topic, {"phenomenonTime": "2024-05-01T10:00:00Z", "reslt": 2.0})  # unknown property
    sender.send(f"{prefix}Things({st.thing})/Observations", {"result": 1.0})  # no such create topic
    sender.send(topic, {"phenomenonTime": "2024-05-01T11:00:00Z", "result": 3.0})
    settle(bridge, 8)
    m = bridge.metrics
    assert m.sample("urbandata_mqtt_rejected_total", reason="invalid_json") == 1
    assert m.sample("urbandata_mqtt_rejected_total", reason="not_found") == 1
    assert m.sample("urbandata_mqtt_rejected_total", reason="invalid_result") == 1
    assert m.sample("urbandata_mqtt_rejected_total", reason="duplicate_observation") == 1
    assert m.sample("urbandata_mqtt_rejected_total", reason="unknown_property") == 1
    assert m.sample("urbandata_mqtt_rejected_total", reason="unsupported_topic") == 1
    assert m.sample("urbandata_mqtt_created_total") == 2
    stored = _observations(admin, stores, f"Datastreams({st.no2})/Observations")
    assert [(o["phenomenonTime"][:16], o["result"]) for o in stored] == [
        ("2024-05-01T10:00", 1.0),
        ("2024-05-01T11:00", 3.0),
    ]


def test_changes_are_published_and_internal_ones_are_not(
    bridge: MqttBridge, world: dict[str, Station], admin: RequestContext, stores: Stores, prefix: str
) -> None:
    dash = Recorder(f"{prefix}#")
    try:
        pub, internal = world["public"], world["internal"]
        secret = service.post(
            admin,
            stores,
            f"Datastreams({internal.no2})/Observations",
            {"phenomenonTime": "2024-05-01T09:00:00Z", "result": 99.9},
            base_url=BASE,
        )
        service.patch(admin, stores, f"Things({internal.thing})", {"description": "geheim"}, base_url=BASE)
        made = service.post(
            admin,
            stores,
            f"Datastreams({pub.no2})/Observations",
            {"phenomenonTime": "2024-05-01T10:00:00Z", "result": 42.0},
            base_url=BASE,
        )
        service.patch(admin, stores, f"Things({pub.thing})", {"description": "Neue Beschreibung"}, base_url=BASE)
        stream_topic = f"{prefix}Datastreams({pub.no2})/Observations"
        assert wait_until(lambda: dash.on(f"{prefix}Things({pub.thing})/description") != [])
        assert bridge.wait_idle(10)
        [note] = dash.on(stream_topic)
        assert note["@iot.id"] == made.id and note["result"] == 42.0
        assert note["@iot.selfLink"] == f"{BASE}/Observations({made.id})"
        assert dash.on(f"{prefix}Observations") == [note]
        foi = service.get(admin, stores, f"Observations({made.id})/FeatureOfInterest", {}, base_url=BASE)
        assert dash.on(f"{prefix}FeaturesOfInterest({foi['@iot.id']})/Observations") == [note]
        [thing] = dash.on(f"{prefix}Things({pub.thing})")
        assert thing["description"] == "Neue Beschreibung"
        assert dash.on(f"{prefix}Things({pub.thing})/description") == [{"description": "Neue Beschreibung"}]
        # the internal Thing, its Datastream and its observation appear on no topic at all
        everything = " ".join(str(p) for _, p in dash.messages)
        assert "geheim" not in everything and "99.9" not in everything
        assert not any(f"Observations({secret.id})" in t for t in dash.topics())
        assert not any(f"Datastreams({internal.no2})" in t or f"Things({internal.thing})" in t for t in dash.topics())
        # the platform does not take its own notifications for new observations
        assert bridge.metrics.sample("urbandata_mqtt_received_total") == 0
        assert len(_observations(admin, stores, f"Datastreams({pub.no2})/Observations")) == 1
    finally:
        dash.close()


def test_no_loss_while_the_database_is_unavailable(
    settings: Settings, stores: Stores, sender: Sender, world: dict[str, Station], admin: RequestContext, prefix: str
) -> None:
    create_many, post_one = service_writers(settings, stores)
    outage = {"calls": 0}

    def flaky(stream_id: int, multi: bool, bodies: list[Any]) -> list[str | UrbanDataError]:
        outage["calls"] += 1
        if outage["calls"] <= 4:  # the first attempts find the database gone
            raise sa_exc.OperationalError("INSERT INTO sta_observations", {}, Exception("connection refused"))
        return create_many(stream_id, multi, bodies)

    b = MqttBridge(settings, stores, create_many=flaky, post_one=post_one, write_backoff=Backoff(first=0.05)).start()
    try:
        assert b.wait_connected(10)
        st = world["public"]
        for minute in range(30):
            sender.send(
                f"{prefix}Datastreams({st.no2})/Observations",
                {"phenomenonTime": f"2024-05-01T10:{minute:02d}:00Z", "result": float(minute)},
                wait=False,
            )
        settle(b, 30)
        assert b.metrics.sample("urbandata_mqtt_write_retries_total") == 4
        assert b.metrics.sample("urbandata_mqtt_dropped_total") == 0
        stored = _observations(admin, stores, f"Datastreams({st.no2})/Observations")
        assert [o["result"] for o in stored] == [float(m) for m in range(30)]
    finally:
        b.stop()


def test_reconnects_after_the_connection_drops(
    bridge: MqttBridge, sender: Sender, world: dict[str, Station], admin: RequestContext, stores: Stores, prefix: str
) -> None:
    st = world["public"]
    topic = f"{prefix}Datastreams({st.no2})/Observations"
    # another client logs in with the bridge's client id: the broker ends the bridge's connection
    # (MQTT session takeover), and the bridge connects again
    impostor = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2, client_id=bridge.client_id, protocol=mqtt.MQTTv5
    )
    impostor.connect(HOST, int(PORT))
    impostor.loop(2.0)  # reads the broker's CONNACK: the takeover has happened
    impostor.disconnect()
    assert wait_until(lambda: bridge.metrics.sample("urbandata_mqtt_connects_total") == 2, timeout=15)
    assert bridge.metrics.sample("urbandata_mqtt_connected") == 1
    sender.send(topic, {"phenomenonTime": "2024-05-01T10:00:00Z", "result": 5.0})
    assert wait_until(lambda: bridge.metrics.sample("urbandata_mqtt_created_total") == 1)
    assert [o["result"] for o in _observations(admin, stores, f"Datastreams({st.no2})/Observations")] == [5.0]


def test_a_dead_link_process_is_restarted(
    bridge: MqttBridge, sender: Sender, world: dict[str, Station], admin: RequestContext, stores: Stores, prefix: str
) -> None:
    st = world["public"]
    link = bridge._proc
    assert link is not None and link.is_alive()
    link.kill()  # the broker connection's process dies (out of memory, a bug, an operator's kill)
    assert wait_until(lambda: bridge.metrics.sample("urbandata_mqtt_connects_total") == 2, timeout=15)
    assert bridge._proc is not link and bridge.wait_connected(10)
    body = {"phenomenonTime": "2024-05-01T11:00:00Z", "result": 7.0}
    sender.send(f"{prefix}Datastreams({st.no2})/Observations", body)
    assert wait_until(lambda: bridge.metrics.sample("urbandata_mqtt_created_total") == 1)
    assert [o["result"] for o in _observations(admin, stores, f"Datastreams({st.no2})/Observations")] == [7.0]


def test_the_configured_account_decides(
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    prefix: str,
    stores: Stores,
    admin: RequestContext,
    world: dict[str, Station],
    sender: Sender,
) -> None:
    accounts.add_user(admin, stores, "gateway")
    own = make_settings(backend, tmp_path, request, mqtt_url=MQTT_URL, mqtt_topic_prefix=prefix, mqtt_actor="gateway")
    st = world["public"]
    topic = f"{prefix}Datastreams({st.no2})/Observations"
    for role, minute in ((None, 0), ("steward", 1)):
        if role:
            accounts.set_member(admin, stores, "umwelt", "gateway", role)
        b = MqttBridge(own, stores).start()
        try:
            assert b.wait_connected(10)
            sender.send(topic, {"phenomenonTime": f"2024-05-01T10:0{minute}:00Z", "result": 1.0})
            settle(b, 1)
            if role is None:  # an account without rights on the Datastream's dataset
                assert b.metrics.sample("urbandata_mqtt_rejected_total", reason="forbidden") == 1
                assert _observations(admin, stores, f"Datastreams({st.no2})/Observations") == []
            else:
                assert b.metrics.sample("urbandata_mqtt_created_total") == 1
                assert len(_observations(admin, stores, f"Datastreams({st.no2})/Observations")) == 1
        finally:
            b.stop()


def test_app_advertises_mqtt_and_exposes_metrics(settings: Settings, stores: Stores) -> None:
    with TestClient(create_app(settings, stores)) as client:
        root = client.get("/sta/v1.1").json()["serverSettings"]
        assert MQTT_CREATE in root["conformance"] and MQTT_RECEIVE in root["conformance"]
        assert root[MQTT_CREATE]["endpoints"] == ["mqtt://127.0.0.1:1883"]
        bridge = client.app.state.mqtt_bridge  # type: ignore[attr-defined]
        assert bridge.wait_connected(10)
        text = client.get("/metrics").text
        assert "urbandata_mqtt_connected 1.0" in text
        assert "urbandata_mqtt_received_total" in text


def test_two_platform_processes_share_the_work_and_ignore_each_others_notifications(
    settings: Settings, world: dict[str, Station], admin: RequestContext, sender: Sender, prefix: str
) -> None:
    shared = settings.model_copy(update={"mqtt_shared_group": "urbandata"})
    one, other = Stores.open(shared), Stores.open(shared)  # two processes' stores on one database
    bridges = [MqttBridge(shared, s).start() for s in (one, other)]
    try:
        assert all(b.wait_connected(10) for b in bridges)
        st = world["public"]
        for minute in range(10):
            sender.send(
                f"{prefix}Datastreams({st.no2})/Observations",
                {"phenomenonTime": f"2024-05-01T10:{minute:02d}:00Z", "result": 1.0},
            )

        def total(name: str) -> float:
            return sum(b.metrics.sample(name) for b in bridges)

        # each message went to one process only; the notifications each process published about the
        # observations it created were not taken as new observations by the other one
        assert wait_until(lambda: total("urbandata_mqtt_created_total") == 10)
        assert wait_until(lambda: total("urbandata_mqtt_published_total") == 30)
        assert all(b.wait_idle(10) for b in bridges)
        assert total("urbandata_mqtt_received_total") == 10
        assert (
            sum(b.metrics.sample("urbandata_mqtt_rejected_total", reason="duplicate_observation") for b in bridges) == 0
        )
        assert len(_observations(admin, one, f"Datastreams({st.no2})/Observations")) == 10
    finally:
        for b in bridges:
            b.stop()
        one.close()
        other.close()
