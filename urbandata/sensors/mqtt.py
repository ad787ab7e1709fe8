"""The MQTT bridge of the SensorThings API (STA 1.1 clause 14) to an external broker.

In: subscribes to the create topics (`v1.1/Observations`, `v1.1/Datastreams(ID)/Observations`,
`v1.1/MultiDatastreams(ID)/Observations`, `v1.1/FeaturesOfInterest(ID)/Observations`) and creates
the observations through the service, in batches, as one configured account (URBANDATA_MQTT_ACTOR;
MQTT carries no per-message identity, so the broker's ACLs decide who may publish at all).
Out: publishes every public change the service announces on the standard topics.

The broker connection lives in a child process (`mqtt_link`), so that the MQTT client's per-message
work does not compete with the database writes for this process's interpreter. It uses MQTT 5 so
that the subscription can say "no local": the platform does not receive its own notifications on
`v1.1/Datastreams(ID)/Observations` as new observations. Messages it publishes also carry a user
property naming their origin, which other platform processes ignore.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
import uuid
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any
from urllib.parse import urlsplit

import structlog

from urbandata.accounts.identity import actor_for_user
from urbandata.auth.actor import Actor, RequestContext
from urbandata.config import Settings
from urbandata.errors import InvalidInput, UrbanDataError
from urbandata.sensors import service
from urbandata.sensors.events import hub_of
from urbandata.sensors.mqtt_ingest import Backoff, CreateMany, Ingestor, PostOne
from urbandata.sensors.mqtt_link import LinkConfig, run_link
from urbandata.sensors.mqtt_metrics import MqttMetrics
from urbandata.sensors.mqtt_publish import Publisher
from urbandata.sensors.mqtt_settings import mqtt_server_settings
from urbandata.sensors.mqtt_topics import subscriptions
from urbandata.stores import Stores

__all__ = ["MqttBridge", "mqtt_server_settings", "service_writers"]

log = structlog.get_logger("urbandata.sensors.mqtt")

def sta_base_url(settings: Settings) -> str:
    """The absolute SensorThings service root outside a request (selfLinks in MQTT-created entities)."""
    return (settings.public_url or "http://localhost:8000").rstrip("/") + "/sta/v1.1"


class ServiceWriter:
    """Writes through the SensorThings service as the configured MQTT account."""

    ACTOR_TTL = 60.0  # roles given or taken away apply within a minute

    def __init__(self, settings: Settings, stores: Stores) -> None:
        self.settings = settings
        self.stores = stores
        self.base_url = sta_base_url(settings)
        self._ctx: RequestContext | None = None
        self._ctx_at = 0.0

    def context(self) -> RequestContext:
        now = time.monotonic()
        if self._ctx is None or now - self._ctx_at > self.ACTOR_TTL:
            name = self.settings.mqtt_actor
            actor = actor_for_user(self.stores, name) if name else Actor.system()
            self._ctx = RequestContext(actor=actor, settings=self.settings)
            self._ctx_at = now
        return self._ctx

    def create_many(self, stream_id: int, multi: bool, bodies: list[Any]) -> list[str | UrbanDataError]:
        return service.create_observations(
            self.context(), self.stores, stream_id, bodies, multi=multi, base_url=self.base_url
        )

    def post_one(self, path: str, body: Any) -> str:
        return service.post(self.context(), self.stores, path, body, base_url=self.base_url).location


def service_writers(settings: Settings, stores: Stores) -> tuple[CreateMany, PostOne]:
    writer = ServiceWriter(settings, stores)
    return writer.create_many, writer.post_one


class MqttBridge:
    """Connects to the broker named by URBANDATA_MQTT_URL; `start()` returns at once, the connection
    is made (and remade, with exponential backoff) in the background by the link process."""

    def __init__(
        self,
        settings: Settings,
        stores: Stores,
        *,
        create_many: CreateMany | None = None,
        post_one: PostOne | None = None,
        metrics: MqttMetrics | None = None,
        reconnect_delay: tuple[int, int] = (1, 60),
        write_backoff: Backoff | None = None,
        batch_max: int = 5000,
    ) -> None:
        if not settings.mqtt_url:
            raise InvalidInput("URBANDATA_MQTT_URL is not set", code="mqtt_not_configured")
        url = urlsplit(settings.mqtt_url)
        if url.scheme not in ("mqtt", "mqtts", "tcp", "ssl", "tls"):
            raise InvalidInput(
                f"URBANDATA_MQTT_URL must be mqtt://host:port or mqtts://host:port, not {settings.mqtt_url!r}",
                code="invalid_setting",
                parameter="mqtt_url",
            )
        self.secure = url.scheme in ("mqtts", "ssl", "tls")
        self.host = url.hostname or "localhost"
        self.port = url.port or (8883 if self.secure else 1883)
        self.settings = settings
        self.stores = stores
        self.prefix = settings.mqtt_topic_prefix
        self.metrics = metrics or MqttMetrics()
        if create_many is None or post_one is None:
            default_many, default_one = service_writers(settings, stores)
            create_many = create_many or default_many
            post_one = post_one or default_one
        self.ingestor = Ingestor(
            create_many,
            post_one,
            self.metrics,
            prefix=self.prefix,
            capacity=settings.mqtt_buffer,
            batch_max=batch_max,
            backoff=write_backoff,
        )
        self.publisher = Publisher(self._send, self.metrics, prefix=self.prefix)
        self.connected = threading.Event()
        self._unsubscribe: Any = None
        self.persistent = settings.mqtt_client_id is not None
        self.client_id = settings.mqtt_client_id or f"urbandata-{uuid.uuid4().hex[:12]}"
        self.reconnect_delay = reconnect_delay
        self._stopping = threading.Event()
        self._pipe_lock = threading.Lock()
        self._pipe: Connection | None = None
        self._proc: BaseProcess | None = None
        self._reader: threading.Thread | None = None

    def _config(self) -> LinkConfig:
        s = self.settings
        return LinkConfig(
            host=self.host,
            port=self.port,
            secure=self.secure,
            ca_file=str(s.mqtt_ca_file) if s.mqtt_ca_file else None,
            username=s.mqtt_username,
            password=s.mqtt_password.get_secret_value() if s.mqtt_password else None,
            client_id=self.client_id,
            persistent=self.persistent,
            filters=tuple(self._filters()),
            shared=s.mqtt_shared_group is not None,
            reconnect_delay=(float(self.reconnect_delay[0]), float(self.reconnect_delay[1])),
        )

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> MqttBridge:
        self.ingestor.start()
        self.publisher.start()
        self._unsubscribe = hub_of(self.stores.caches).subscribe(self.publisher.on_changes)
        self._stopping.clear()
        self._spawn()
        self._reader = threading.Thread(target=self._read, name="mqtt-link-reader", daemon=True)
        self._reader.start()
        log.info("mqtt bridge started", broker=f"{self.host}:{self.port}", client_id=self.client_id)
        return self

    def _spawn(self) -> None:
        ctx = mp.get_context("spawn")  # a clean interpreter: no copied threads, locks or database connections
        mine, theirs = ctx.Pipe()
        proc = ctx.Process(target=run_link, args=(self._config(), theirs), name="urbandata-mqtt-link", daemon=True)
        proc.start()
        theirs.close()
        with self._pipe_lock:
            self._pipe, self._proc = mine, proc

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking messages, write what is buffered, publish what is queued, disconnect."""
        self._command(("unsubscribe",))
        self.ingestor.stop(timeout)
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.publisher.stop(timeout)
        self._stopping.set()
        self._command(("stop",))
        if self._proc is not None:
            self._proc.join(timeout)
            if self._proc.is_alive():
                self._proc.terminate()
                self._proc.join(2)
        if self._reader is not None:
            self._reader.join(timeout)
            self._reader = None
        with self._pipe_lock:
            if self._pipe is not None:
                self._pipe.close()
            self._pipe, self._proc = None, None
        self.connected.clear()
        self.metrics.connected.set(0)

    def _filters(self) -> list[str]:
        group = self.settings.mqtt_shared_group
        filters = subscriptions(self.prefix)
        return [f"$share/{group}/{f}" for f in filters] if group else filters

    def wait_connected(self, timeout: float) -> bool:
        """Connected and subscribed to the create topics."""
        return self.connected.wait(timeout)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Every received message written and every change handed to the link (tests, benchmarks)."""
        return self.ingestor.wait_idle(timeout) and self.publisher.wait_idle(timeout)

    # --- the link process -----------------------------------------------------------------------
    def _command(self, message: tuple[Any, ...]) -> bool:
        with self._pipe_lock:
            if self._pipe is None:
                return False
            try:
                self._pipe.send(message)
                return True
            except (OSError, ValueError):  # the link process is gone (it is restarted by the reader)
                return False

    def _send(self, messages: list[tuple[str, bytes]]) -> bool:
        return self._command(("publish", messages))

    def _read(self) -> None:
        """What the link process reports, until it ends; restarted (after a second) if it dies."""
        while True:
            pipe = self._pipe
            if pipe is None:
                return
            try:
                while True:
                    self._handle(pipe.recv())
            except (EOFError, OSError):
                pass
            self.connected.clear()
            self.metrics.connected.set(0)
            if self._stopping.wait(1.0):
                return
            log.error("mqtt link process ended unexpectedly, restarting it")
            self._spawn()

    def _handle(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "messages":
            self.ingestor.offer_many(message[1])
        elif kind == "published":
            self.metrics.published.inc(message[1])
            if message[2]:
                self.metrics.publish_dropped.inc(message[2])
        elif kind == "connected":
            self.metrics.connects.inc()
            self.metrics.connected.set(1)
            log.info("mqtt connected", broker=f"{self.host}:{self.port}", session_present=message[1])
        elif kind == "subscribed":
            if message[1]:  # e.g. the broker's ACL does not let the platform read the create topics
                log.error("mqtt subscription refused", reasons=message[1])
            else:
                self.connected.set()  # connected and subscribed: messages published from now on arrive
        elif kind == "disconnected":
            self.connected.clear()
            self.metrics.connected.set(0)
            log.warning("mqtt disconnected", reason=message[1])
