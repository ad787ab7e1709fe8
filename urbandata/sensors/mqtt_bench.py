"""Throughput of observation creation over MQTT, for benchmarks/sensors.py and operators.

A separate process plays the sensor gateway (so that it does not share the platform's interpreter)
and publishes `n` observations to `Datastreams(ID)/Observations` at QoS 1; the figure is the time
from the first publish until the bridge has written the last one."""

from __future__ import annotations

import json
import multiprocessing as mp
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from urbandata.sensors.mqtt import MqttBridge


def _publish(host: str, port: int, topic: str, n: int, start_epoch: float, go: Any) -> None:
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.max_inflight_messages_set(1000)
    client.connect(host, port)
    client.loop_start()
    go.wait()
    last = None
    for i in range(n):
        ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start_epoch + i))
        body = json.dumps({"phenomenonTime": ts, "result": float(i % 97)})
        last = client.publish(topic, body, qos=1)
    if last is not None:
        last.wait_for_publish(120)
    client.disconnect()
    client.loop_stop()


def measure_ingest(
    bridge: MqttBridge, stream_id: int, n: int = 100_000, *, start_epoch: float = 1.7e9
) -> dict[str, Any]:
    """Publish `n` observations (one per second from `start_epoch`, which must be free in the stream)
    and wait until the bridge has created them all. Returns counts, seconds and observations/s."""
    if not bridge.wait_connected(10):
        raise RuntimeError("the MQTT bridge is not connected")
    topic = f"{bridge.prefix}Datastreams({stream_id})/Observations"
    created0 = bridge.metrics.sample("urbandata_mqtt_created_total")
    handled0 = created0 + _rejected(bridge)
    ctx = mp.get_context("spawn")
    go = ctx.Event()
    proc = ctx.Process(target=_publish, args=(bridge.host, bridge.port, topic, n, start_epoch, go), daemon=True)
    proc.start()
    time.sleep(1.0)  # let the child connect before the clock starts
    started = time.perf_counter()
    go.set()
    deadline = started + max(60.0, n / 1000)
    while bridge.metrics.sample("urbandata_mqtt_created_total") + _rejected(bridge) - handled0 < n:
        if time.perf_counter() > deadline:
            break
        time.sleep(0.005)
    seconds = time.perf_counter() - started
    proc.join(30)
    created = bridge.metrics.sample("urbandata_mqtt_created_total") - created0
    return {
        "published": n,
        "created": int(created),
        "seconds": round(seconds, 3),
        "per_second": round(created / seconds) if seconds else 0,
    }


def _rejected(bridge: MqttBridge) -> float:
    total = 0.0
    for metric in bridge.metrics.registry.collect():
        if metric.name == "urbandata_mqtt_rejected":
            total += sum(s.value for s in metric.samples if s.name.endswith("_total"))
    return total + bridge.metrics.sample("urbandata_mqtt_dropped_total")
