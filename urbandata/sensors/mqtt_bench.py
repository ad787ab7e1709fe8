"""Throughput of observation creation over MQTT, for benchmarks/sensors.py and operators.

A separate process plays the sensor gateway (so that it does not share the platform's interpreter)
and publishes `n` observations to `Datastreams(ID)/Observations` as fast as it can; the figure is
the time from the first publish until the bridge has written the last one (created per second)."""

from __future__ import annotations

import json
import multiprocessing as mp
import shutil
import subprocess
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from urbandata.sensors.mqtt import MqttBridge


def _payloads(n: int, start_epoch: float) -> list[str]:
    return [
        json.dumps(
            {"phenomenonTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start_epoch + i)), "result": i % 97 / 4}
        )
        for i in range(n)
    ]


def _publish(host: str, port: int, topic: str, lines: list[str], qos: int, go: Any) -> None:
    """The gateway process: `mosquitto_pub -l` (one message per line) when installed, else paho."""
    go.wait()
    tool = shutil.which("mosquitto_pub")
    if tool:
        cmd = [tool, "-h", host, "-p", str(port), "-q", str(qos), "-t", topic, "-l"]
        subprocess.run(cmd, input="\n".join(lines) + "\n", text=True, check=True)
        return
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.max_inflight_messages_set(1000)
    client.connect(host, port)
    client.loop_start()
    last = None
    for line in lines:
        last = client.publish(topic, line, qos=qos)
    if last is not None:
        last.wait_for_publish(120)
    client.disconnect()
    client.loop_stop()


def measure_ingest(
    bridge: MqttBridge, stream_id: int, n: int = 100_000, *, qos: int = 1, start_epoch: float = 1.7e9
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
    lines = _payloads(n, start_epoch)
    proc = ctx.Process(target=_publish, args=(bridge.host, bridge.port, topic, lines, qos, go), daemon=True)
    proc.start()
    time.sleep(1.0)  # let the child connect before the clock starts
    started = time.perf_counter()
    go.set()
    received0 = bridge.metrics.sample("urbandata_mqtt_received_total")
    deadline = started + max(60.0, n / 1000)
    finished = started
    while time.perf_counter() < deadline:
        handled = bridge.metrics.sample("urbandata_mqtt_created_total") + _rejected(bridge) - handled0
        if handled >= n:
            finished = time.perf_counter()
            break
        if not proc.is_alive() and bridge.ingestor.pending == 0:
            # the publisher is done and everything received is written: what is missing never arrived
            # (a broker drops QoS 1 messages beyond its queue limit for a subscriber that falls behind)
            if time.perf_counter() - finished > 2.0:
                break
        else:
            finished = time.perf_counter()
        time.sleep(0.005)
    seconds = finished - started
    proc.join(30)
    created = bridge.metrics.sample("urbandata_mqtt_created_total") - created0
    return {
        "published": n,
        "qos": qos,
        "received": int(bridge.metrics.sample("urbandata_mqtt_received_total") - received0),
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
