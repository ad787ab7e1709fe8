"""The local Mosquitto for MQTT tests: availability (skip locally, fail in CI), a recording subscriber,
a plain publisher, and a unique topic prefix per test."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

MQTT_URL = os.environ.get("URBANDATA_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
HOST, PORT = MQTT_URL.removeprefix("mqtt://").split(":")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _broker_problem() -> str | None:
    try:
        with socket.create_connection((HOST, int(PORT)), timeout=3):
            return None
    except OSError as exc:
        return str(exc)


_PROBLEM = _broker_problem()


def require_broker() -> None:
    if _PROBLEM is None:
        return
    if IN_CI:
        pytest.fail(f"The MQTT broker is required in CI but not reachable at {MQTT_URL}: {_PROBLEM}")
    pytest.skip(f"MQTT broker not reachable at {MQTT_URL}: {_PROBLEM}")


def unique_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}/v1.1/"


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


class Recorder:
    """A dashboard: subscribes to topic filters and keeps every (topic, payload) it receives."""

    def __init__(self, *filters: str) -> None:
        require_broker()
        self.messages: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.connect(HOST, int(PORT))
        self.client.loop_start()
        self.client.subscribe([(f, 1) for f in filters])
        assert self._subscribed.wait(5), "subscription not acknowledged"

    def _on_message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, json.loads(msg.payload)))

    def on(self, topic: str) -> list[Any]:
        with self._lock:
            return [p for t, p in self.messages if t == topic]

    def topics(self) -> set[str]:
        with self._lock:
            return {t for t, _ in self.messages}

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Sender:
    """A sensor gateway publishing to the broker (QoS 1, waits for the broker's acknowledgement)."""

    def __init__(self) -> None:
        require_broker()
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        self.client.connect(HOST, int(PORT))
        self.client.loop_start()

    def send(self, topic: str, payload: Any, *, raw: bool = False, wait: bool = True) -> None:
        data = payload if raw else json.dumps(payload).encode()
        info = self.client.publish(topic, data, qos=1)
        if wait:
            info.wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
