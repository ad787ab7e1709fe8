"""Announce committed SensorThings changes on the standard MQTT topics (STA 1.1 clause 14.2).

The change-event listener only enqueues (it runs right after a commit on the HTTP write path and
must not wait for the broker); a publisher thread turns changes into topics and sends them.
Non-public changes never reach a topic."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

import structlog

from urbandata.sensors.events import Change
from urbandata.sensors.mqtt_metrics import MqttMetrics
from urbandata.sensors.mqtt_topics import change_messages

log = structlog.get_logger("urbandata.sensors.mqtt")

# send([(topic, payload), ...]) -> True when handed to the broker connection (which counts what it
# actually publishes in urbandata_mqtt_published_total)
Send = Callable[[list[tuple[str, bytes]]], bool]

_STOP: list[Change] = []


class Publisher:
    def __init__(self, send: Send, metrics: MqttMetrics, *, prefix: str = "v1.1/", capacity: int = 10000) -> None:
        self._send = send
        self.metrics = metrics
        self.prefix = prefix
        self._queue: queue.Queue[list[Change]] = queue.Queue(maxsize=capacity)
        self._thread: threading.Thread | None = None
        self._idle = threading.Condition()
        self._busy = 0

    def on_changes(self, changes: list[Change]) -> None:
        """The event-hub listener: keep the public changes for the publisher thread; never blocks."""
        public = [c for c in changes if c.public and c.kind != "delete"]
        if not public:
            return
        try:
            with self._idle:
                self._busy += 1
            self._queue.put_nowait(public)
        except queue.Full:
            with self._idle:
                self._busy -= 1
            self.metrics.publish_dropped.inc(len(public))
            log.error("mqtt publish queue full, change notifications dropped", count=len(public))

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="mqtt-publish", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is None:
            return
        self.wait_idle(timeout)
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._thread = None

    def wait_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    def _run(self) -> None:
        while True:
            changes = self._queue.get()
            if changes is _STOP:
                return
            try:
                messages = [m for change in changes for m in change_messages(self.prefix, change)]
                if messages and not self._send(messages):
                    self.metrics.publish_dropped.inc(len(messages))
            except Exception:  # a broken message must not stop the publisher
                log.exception("mqtt publish failed")
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()
