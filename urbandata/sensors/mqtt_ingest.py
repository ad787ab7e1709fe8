"""Observations received over MQTT: a bounded buffer filled from the link process and one writer
thread that decodes, groups by Datastream and writes in batches through the service. While the
database is unavailable the writer keeps the batch and retries with exponential backoff; messages
arriving meanwhile wait in the buffer until it is full, then they are dropped (and counted)."""

from __future__ import annotations

import functools
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy.exc as sa_exc
import structlog

from urbandata.errors import InvalidInput, UrbanDataError
from urbandata.sensors.mqtt_metrics import MqttMetrics
from urbandata.sensors.mqtt_topics import Target, parse_create_topic

log = structlog.get_logger("urbandata.sensors.mqtt")

# create_many(stream_id, multi, bodies) -> per body the new selfLink or the error that rejected it
CreateMany = Callable[[int, bool, list[Any]], list[str | UrbanDataError]]
# post_one(path, body) -> the selfLink of the new Observation (raises UrbanDataError)
PostOne = Callable[[str, Any], str]

# The database is (briefly) unavailable: keep the messages and try again.
TRANSIENT: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
)


@dataclass
class Backoff:
    first: float = 0.05
    most: float = 5.0
    factor: float = 2.0
    _next: float = field(default=0.0, init=False)

    def reset(self) -> None:
        self._next = 0.0

    def next_delay(self) -> float:
        self._next = self.first if self._next == 0.0 else min(self.most, self._next * self.factor)
        return self._next


@dataclass
class _Group:
    """Bodies written in one call: to one stream (`stream`), or one by one to a path (`path`)."""

    stream: tuple[int, bool] | None
    path: str | None
    bodies: list[Any] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.stream is None:
            return self.path or ""
        return f"{'MultiDatastreams' if self.stream[1] else 'Datastreams'}({self.stream[0]})/Observations"


def _link_id(body: dict[str, Any], key: str) -> int | None:
    link = body.get(key)
    if isinstance(link, dict) and set(link) == {"@iot.id"}:
        value = link["@iot.id"]
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
    return None


def _stream_link(body: Any) -> tuple[int, bool] | None:
    """The stream a body links by id alone (`"Datastream": {"@iot.id": 1}`), if it does so plainly."""
    if not isinstance(body, dict):
        return None
    ds, mds = _link_id(body, "Datastream"), _link_id(body, "MultiDatastream")
    if ds is not None and "MultiDatastream" not in body:
        return ds, False
    if mds is not None and "Datastream" not in body:
        return mds, True
    return None


def group_messages(items: list[tuple[Target, Any]]) -> list[_Group]:
    """Batch decoded bodies by stream, keeping each stream's order; bodies that need the general
    create path (deep insert of the Datastream, an explicit FeatureOfInterest on a FoI topic) go alone."""
    streams: dict[tuple[int, bool], _Group] = {}
    groups: list[_Group] = []
    for target, body in items:
        key: tuple[int, bool] | None = None
        if target.kind in ("datastream", "multi"):
            assert target.id is not None
            key = (target.id, target.kind == "multi")
        else:
            key = _stream_link(body)
            if key is not None:
                body = {k: v for k, v in body.items() if k not in ("Datastream", "MultiDatastream")}
                if target.kind == "feature":
                    if "FeatureOfInterest" in body:
                        key = None  # conflicting FoI: let the service judge the whole request
                    else:
                        body["FeatureOfInterest"] = {"@iot.id": target.id}
        if key is None:
            groups.append(_Group(None, target.path, [body]))
            continue
        group = streams.get(key)
        if group is None:
            group = streams[key] = _Group(key, None)
            groups.append(group)
        group.bodies.append(body)
    return groups


class Ingestor:
    """Buffer + writer thread. `offer_many` is called by the thread reading the link process and never blocks."""

    def __init__(
        self,
        create_many: CreateMany,
        post_one: PostOne,
        metrics: MqttMetrics,
        *,
        prefix: str = "v1.1/",
        capacity: int = 10000,
        batch_max: int = 5000,
        linger: float = 0.002,
        backoff: Backoff | None = None,
    ) -> None:
        self._create_many = create_many
        self._post_one = post_one
        self.metrics = metrics
        self.prefix = prefix
        self.capacity = capacity
        self.batch_max = batch_max
        self.linger = linger  # a small batch waits this long for more (fewer, larger transactions)
        self.backoff = backoff or Backoff()
        self._buffer: deque[tuple[str, bytes]] = deque()
        self._inflight = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    # --- network side -------------------------------------------------------------------------
    def offer(self, topic: str, payload: bytes) -> bool:
        """Take one message; False when it was refused (not a create topic, or the buffer is full)."""
        return self.offer_many([(topic, payload)]) == 1

    def offer_many(self, messages: list[tuple[str, bytes]]) -> int:
        """Take a batch of messages (from the link process); returns how many were accepted."""
        self.metrics.received.inc(len(messages))
        accepted = 0
        with self._cond:
            for topic, payload in messages:
                if parse_create_topic(self.prefix, topic) is None:
                    self._reject("unsupported_topic", topic, f"{topic!r} is not a SensorThings create topic")
                    continue
                if len(self._buffer) + self._inflight >= self.capacity:
                    self.metrics.dropped.inc()
                    log.error("mqtt buffer full, message dropped", topic=topic, capacity=self.capacity)
                    continue
                self._buffer.append((topic, payload))
                accepted += 1
            self.metrics.buffered.set(len(self._buffer) + self._inflight)
            if accepted:
                self._cond.notify()
        return accepted

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="mqtt-ingest", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is buffered (as long as the database answers within `timeout`), then stop."""
        self.wait_idle(timeout)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        left = self.pending
        if left:
            log.error("mqtt ingestion stopped with unwritten messages", count=left)

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._buffer) + self._inflight

    def wait_idle(self, timeout: float) -> bool:
        """Block until every buffered message is written (or rejected); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._buffer or self._inflight:
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    # --- writer side --------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._buffer and not self._stopping:
                    self._cond.wait()
                if not self._buffer:
                    return
                small = len(self._buffer) < self.batch_max // 10 and not self._stopping
            if small and self.linger > 0:
                time.sleep(self.linger)  # outside the lock, without being woken by every new message
            with self._cond:
                n = min(len(self._buffer), self.batch_max)
                batch = [self._buffer.popleft() for _ in range(n)]
                self._inflight = n
            try:
                self._write_batch(batch)
            except Exception:  # never let the writer die
                log.exception("mqtt ingestion batch failed")
            with self._cond:
                self._inflight = 0
                self.metrics.buffered.set(len(self._buffer))
                self._cond.notify_all()

    def _reject(self, reason: str, topic: str, message: str) -> None:
        self.metrics.rejected.labels(reason=reason).inc()
        log.warning("mqtt observation rejected", reason=reason, topic=topic, error=message)

    def _write_batch(self, batch: list[tuple[str, bytes]]) -> None:
        self.metrics.batches.inc()
        decoded: list[tuple[Target, Any]] = []
        for topic, payload in batch:
            target = parse_create_topic(self.prefix, topic)
            assert target is not None  # checked in offer_many
            try:
                decoded.append((target, json.loads(payload)))
            except (ValueError, UnicodeDecodeError) as exc:
                self._reject("invalid_json", topic, f"payload is not JSON: {exc}")
        for group in group_messages(decoded):
            topic = self.prefix + group.label
            created = 0
            for outcome in self._write_group(group):
                if isinstance(outcome, UrbanDataError):
                    self._reject(outcome.code, topic, outcome.message)
                else:
                    created += 1
            self.metrics.created.inc(created)

    def _write_group(self, group: _Group) -> list[str | UrbanDataError]:
        if group.stream is not None:
            stream_id, multi = group.stream
            return self._retrying(lambda: self._create_many(stream_id, multi, group.bodies), len(group.bodies))
        assert group.path is not None
        path = group.path
        out: list[str | UrbanDataError] = []
        for body in group.bodies:
            out.extend(self._retrying(functools.partial(self._post_single, path, body), 1))
        return out

    def _post_single(self, path: str, body: Any) -> list[str | UrbanDataError]:
        return [self._post_one(path, body)]

    def _retrying(self, call: Callable[[], list[str | UrbanDataError]], n: int) -> list[str | UrbanDataError]:
        self.backoff.reset()
        while True:
            try:
                return call()
            except UrbanDataError as exc:  # the whole request is refused: unknown stream, not allowed
                return [exc] * n
            except TRANSIENT as exc:
                self.metrics.write_retries.inc()
                delay = self.backoff.next_delay()
                log.warning("database unavailable, mqtt write retried", delay=delay, error=str(exc).splitlines()[0])
                with self._cond:
                    if self._stopping:
                        return [UrbanDataError("database unavailable at shutdown", code="unavailable")] * n
                    self._cond.wait(delay)
            except Exception as exc:
                log.exception("mqtt observation write failed")
                return [InvalidInput(f"internal error: {type(exc).__name__}", code="internal_error")] * n
