"""MQTT building blocks without a broker: topics, grouping, the buffer with retries, publishing."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
import sqlalchemy.exc as sa_exc

from urbandata.config import Settings
from urbandata.errors import Conflict, Forbidden, UrbanDataError
from urbandata.sensors.events import Change
from urbandata.sensors.mqtt_ingest import Backoff, Ingestor, group_messages
from urbandata.sensors.mqtt_metrics import MqttMetrics
from urbandata.sensors.mqtt_publish import Publisher
from urbandata.sensors.mqtt_settings import MQTT_CREATE, MQTT_RECEIVE, broker_endpoint, mqtt_server_settings
from urbandata.sensors.mqtt_topics import Target, change_messages, parse_create_topic, subscriptions

P = "v1.1/"


def test_create_topics_parse() -> None:
    assert parse_create_topic(P, "v1.1/Observations") == Target("observations", None)
    assert parse_create_topic(P, "v1.1/Datastreams(12)/Observations") == Target("datastream", 12)
    assert parse_create_topic(P, "v1.1/MultiDatastreams(3)/Observations") == Target("multi", 3)
    assert parse_create_topic(P, "v1.1/FeaturesOfInterest(7)/Observations") == Target("feature", 7)
    assert parse_create_topic(P, "v1.1/FeaturesOfInterest(7)/Observations").path == "FeaturesOfInterest(7)/Observations"  # type: ignore[union-attr]
    for bad in (
        "v1.1/Things(1)/Observations",
        "v1.1/Datastreams(x)/Observations",
        "v1.1/Datastreams(1)",
        "v1.0/Observations",
        "v1.1/Datastreams(1)/Observations?$select=result",
    ):
        assert parse_create_topic(P, bad) is None, bad
    assert subscriptions(P) == ["v1.1/Observations", "v1.1/+/Observations"]


def test_grouping_keeps_order_and_routes_links() -> None:
    ds1, ds2, foi, obs = (
        Target("datastream", 1),
        Target("datastream", 2),
        Target("feature", 9),
        Target("observations", None),
    )
    groups = group_messages(
        [
            (ds1, {"result": 1}),
            (ds2, {"result": 2}),
            (obs, {"result": 3, "Datastream": {"@iot.id": 1}}),
            (foi, {"result": 4, "Datastream": {"@iot.id": 2}}),
            (obs, {"result": 5, "Datastream": {"name": "deep insert"}}),
            (foi, {"result": 6}),
        ]
    )
    assert [(g.stream, g.path, g.bodies) for g in groups] == [
        ((1, False), None, [{"result": 1}, {"result": 3}]),
        ((2, False), None, [{"result": 2}, {"result": 4, "FeatureOfInterest": {"@iot.id": 9}}]),
        (None, "Observations", [{"result": 5, "Datastream": {"name": "deep insert"}}]),
        (None, "FeaturesOfInterest(9)/Observations", [{"result": 6}]),
    ]


class Recording:
    """Writers that record their calls; `failures` transient database errors first."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls: list[tuple[Any, ...]] = []
        self.lock = threading.Lock()

    def create_many(self, stream_id: int, multi: bool, bodies: list[Any]) -> list[str | UrbanDataError]:
        with self.lock:
            if self.failures > 0:
                self.failures -= 1
                raise sa_exc.OperationalError("INSERT", {}, Exception("server closed the connection"))
            self.calls.append((stream_id, multi, list(bodies)))
        if stream_id == 666:
            raise Forbidden("Not allowed: resource.load.")
        return [
            Conflict("duplicate", code="duplicate_observation") if b.get("result") == "dup" else f"Observations({i})"
            for i, b in enumerate(bodies)
        ]

    def post_one(self, path: str, body: Any) -> str:
        with self.lock:
            self.calls.append((path, body))
        return "Observations(1)"


def make(rec: Recording, capacity: int = 100) -> tuple[Ingestor, MqttMetrics]:
    metrics = MqttMetrics()
    ing = Ingestor(rec.create_many, rec.post_one, metrics, prefix=P, capacity=capacity, backoff=Backoff(first=0.01))
    return ing, metrics


def test_bad_messages_are_counted_and_the_rest_written() -> None:
    rec = Recording()
    ing, m = make(rec)
    ing.start()
    ing.offer("v1.1/Datastreams(1)/Observations", b"{not json")
    ing.offer("v1.1/Things(1)/Observations", b"{}")
    ing.offer("v1.1/Datastreams(1)/Observations", json.dumps({"result": "dup"}).encode())
    ing.offer("v1.1/Datastreams(666)/Observations", json.dumps({"result": 1}).encode())
    ing.offer("v1.1/Datastreams(1)/Observations", json.dumps({"result": 2}).encode())
    assert ing.wait_idle(5)
    ing.stop()
    assert m.sample("urbandata_mqtt_received_total") == 5
    assert m.sample("urbandata_mqtt_rejected_total", reason="invalid_json") == 1
    assert m.sample("urbandata_mqtt_rejected_total", reason="unsupported_topic") == 1
    assert m.sample("urbandata_mqtt_rejected_total", reason="duplicate_observation") == 1
    assert m.sample("urbandata_mqtt_rejected_total", reason="forbidden") == 1
    assert m.sample("urbandata_mqtt_created_total") == 1


def test_database_outage_is_retried_without_loss() -> None:
    rec = Recording(failures=3)
    ing, m = make(rec)
    ing.start()
    for i in range(20):
        ing.offer("v1.1/Datastreams(1)/Observations", json.dumps({"result": i}).encode())
    assert ing.wait_idle(10)
    ing.stop()
    written = [b["result"] for call in rec.calls for b in call[2]]
    assert written == list(range(20))  # all of them, in order, once
    assert m.sample("urbandata_mqtt_write_retries_total") == 3
    assert m.sample("urbandata_mqtt_created_total") == 20
    assert m.sample("urbandata_mqtt_dropped_total") == 0
    assert m.sample("urbandata_mqtt_buffered") == 0


def test_full_buffer_drops_with_a_metric() -> None:
    rec = Recording(failures=10**9)  # the database stays away
    ing, m = make(rec, capacity=5)
    ing.start()
    accepted = [ing.offer("v1.1/Datastreams(1)/Observations", b'{"result": 1}') for _ in range(8)]
    assert accepted == [True] * 5 + [False] * 3
    assert m.sample("urbandata_mqtt_dropped_total") == 3
    assert m.sample("urbandata_mqtt_buffered") == 5
    rec.failures = 0  # the database is back: the five buffered ones are written
    assert ing.wait_idle(10)
    ing.stop()
    assert m.sample("urbandata_mqtt_created_total") == 5


def test_backoff_grows_to_its_limit() -> None:
    b = Backoff(first=0.1, most=1.0)
    assert [b.next_delay() for _ in range(6)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])
    b.reset()
    assert b.next_delay() == pytest.approx(0.1)


OBS = {"@iot.id": 5, "@iot.selfLink": "http://x/sta/v1.1/Observations(5)", "result": 1.5}


def test_change_topics() -> None:
    created = Change("create", "Observations", 5, OBS, True, ("Observations", "Datastreams(1)/Observations"))
    assert [t for t, _ in change_messages(P, created)] == ["v1.1/Observations", "v1.1/Datastreams(1)/Observations"]
    assert json.loads(change_messages(P, created)[0][1]) == OBS
    thing = {"@iot.id": 2, "name": "Station", "description": "neu"}
    updated = Change("update", "Things", 2, thing, True, ("Things",), ("description",))
    msgs = dict(change_messages(P, updated))
    assert set(msgs) == {"v1.1/Things", "v1.1/Things(2)", "v1.1/Things(2)/description"}
    assert json.loads(msgs["v1.1/Things(2)/description"]) == {"description": "neu"}
    assert change_messages(P, Change("create", "Things", 3, thing, False, ("Things",))) == []
    assert change_messages(P, Change("delete", "Things", 3, thing, True)) == []


def test_publisher_never_sends_internal_changes() -> None:
    sent: list[str] = []

    def send(messages: list[tuple[str, bytes]]) -> bool:
        sent.extend(t for t, _ in messages)
        return True

    metrics = MqttMetrics()
    pub = Publisher(send, metrics, prefix=P)
    pub.start()
    pub.on_changes(
        [
            Change("create", "Observations", 5, OBS, False, ("Observations", "Datastreams(1)/Observations")),
            Change("create", "Observations", 6, OBS, True, ("Observations", "Datastreams(2)/Observations")),
        ]
    )
    assert pub.wait_idle(5)
    pub.stop()
    assert sent == ["v1.1/Observations", "v1.1/Datastreams(2)/Observations"]
    assert metrics.sample("urbandata_mqtt_publish_dropped_total") == 0


def test_publisher_counts_what_the_connection_refused() -> None:
    metrics = MqttMetrics()
    pub = Publisher(lambda messages: False, metrics, prefix=P)  # the broker connection is gone
    pub.start()
    pub.on_changes([Change("create", "Observations", 6, OBS, True, ("Observations", "Datastreams(2)/Observations"))])
    assert pub.wait_idle(5)
    pub.stop()
    assert metrics.sample("urbandata_mqtt_publish_dropped_total") == 2


def test_server_settings() -> None:
    assert mqtt_server_settings(Settings(mqtt_url=None)) == {}
    s = mqtt_server_settings(Settings(mqtt_url="mqtts://user:pw@broker.example:8884"))
    assert s["mqtt_conformance"] == [MQTT_CREATE, MQTT_RECEIVE]
    assert s[MQTT_CREATE] == {"endpoints": ["mqtts://broker.example:8884"]}
    assert s[MQTT_RECEIVE] == {"endpoints": ["mqtts://broker.example:8884"]}
    assert broker_endpoint("mqtt://10.0.0.5") == "mqtt://10.0.0.5:1883"
