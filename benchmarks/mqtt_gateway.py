"""Throughput of observation creation over MQTT, for benchmarks/sensors.py.

A separate process plays the sensor gateway (so that it does not share the platform's interpreter)
and publishes `n` observations to `Datastreams(ID)/Observations` as fast as it can; the figure is
the time from the first publish until the bridge has written the last one (created per second).

The gateway is `mosquitto_pub -l` (C, one message per stdin line) when installed. Its stdin stays
open until the bridge has handled every message: mosquitto_pub drops what it has not yet sent when
stdin ends. Without it, a paho client in a child process publishes with at most `WINDOW`
unacknowledged messages (paho's message ids wrap at 65,535)."""

from __future__ import annotations

import collections
import json
import multiprocessing as mp
import shutil
import subprocess
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from urbandata.sensors.mqtt import MqttBridge

WINDOW = 20_000


def _payloads(n: int, start_epoch: float) -> list[str]:
    return [
        json.dumps(
            {"phenomenonTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start_epoch + i)), "result": i % 97 / 4}
        )
        for i in range(n)
    ]


def _paho_gateway(host: str, port: int, topic: str, lines: list[str], qos: int, go: Any) -> None:
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.max_inflight_messages_set(1000)
    client.connect(host, port)
    client.loop_start()
    go.wait()
    window: collections.deque[mqtt.MQTTMessageInfo] = collections.deque()
    for line in lines:
        window.append(client.publish(topic, line, qos=qos))
        if len(window) > WINDOW:
            window.popleft().wait_for_publish(60)
    for info in window:
        info.wait_for_publish(60)
    client.disconnect()
    client.loop_stop()


class Gateway:
    """Publishes the lines once `go()` is called; `close()` ends the gateway process."""

    def __init__(self, host: str, port: int, topic: str, lines: list[str], qos: int) -> None:
        self.tool = shutil.which("mosquitto_pub")
        self._proc: Any
        if self.tool:
            cmd = [self.tool, "-h", host, "-p", str(port), "-q", str(qos), "-M", "1000", "-t", topic, "-l"]
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
            data = ("\n".join(lines) + "\n").encode()
            self._feed = threading.Thread(target=self._write, args=(data,), daemon=True)
        else:
            ctx = mp.get_context("spawn")
            self._go = ctx.Event()
            self._proc = ctx.Process(target=_paho_gateway, args=(host, port, topic, lines, qos, self._go), daemon=True)
            self._proc.start()

    def _write(self, data: bytes) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(data)
        self._proc.stdin.flush()

    def go(self) -> None:
        if self.tool:
            self._feed.start()
        else:
            self._go.set()

    def done_publishing(self) -> bool:
        """Every message handed to the broker (as far as can be known from outside)."""
        if self.tool:
            return not self._feed.is_alive()
        return not self._proc.is_alive()

    def close(self) -> None:
        if self.tool:
            self._feed.join(30)
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            self._proc.wait(30)
        else:
            self._proc.join(30)


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
    received0 = bridge.metrics.sample("urbandata_mqtt_received_total")
    batches0 = bridge.metrics.sample("urbandata_mqtt_batches_total")
    gateway = Gateway(bridge.host, bridge.port, topic, _payloads(n, start_epoch), qos)
    time.sleep(1.0)  # let the gateway connect before the clock starts
    started = time.perf_counter()
    gateway.go()
    deadline = started + max(60.0, n / 1000)
    finished = started
    try:
        while time.perf_counter() < deadline:
            handled = bridge.metrics.sample("urbandata_mqtt_created_total") + _rejected(bridge) - handled0
            if handled >= n:
                finished = time.perf_counter()
                break
            if gateway.done_publishing() and bridge.ingestor.pending == 0:
                # everything published and everything received is written: what is missing has not
                # arrived (yet); give up after 5 s without progress
                if time.perf_counter() - finished > 5.0:
                    break
            else:
                finished = time.perf_counter()
            time.sleep(0.005)
    finally:
        gateway.close()
    seconds = finished - started
    created = bridge.metrics.sample("urbandata_mqtt_created_total") - created0
    return {
        "published": n,
        "qos": qos,
        "gateway": "mosquitto_pub" if gateway.tool else "paho",
        "received": int(bridge.metrics.sample("urbandata_mqtt_received_total") - received0),
        "created": int(created),
        "batches": int(bridge.metrics.sample("urbandata_mqtt_batches_total") - batches0),
        "seconds": round(seconds, 3),
        "per_second": round(created / seconds) if seconds else 0,
    }


def _rejected(bridge: MqttBridge) -> float:
    total = 0.0
    for metric in bridge.metrics.registry.collect():
        if metric.name == "urbandata_mqtt_rejected":
            total += sum(s.value for s in metric.samples if s.name.endswith("_total"))
    return total + bridge.metrics.sample("urbandata_mqtt_dropped_total")
