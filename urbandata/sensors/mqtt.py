"""The MQTT bridge of the SensorThings API (STA 1.1 clause 14) to an external broker.

In: subscribes to the create topics (`v1.1/Observations`, `v1.1/Datastreams(ID)/Observations`,
`v1.1/MultiDatastreams(ID)/Observations`, `v1.1/FeaturesOfInterest(ID)/Observations`) and creates
the observations through the service, in batches, as one configured account (URBANDATA_MQTT_ACTOR;
MQTT carries no per-message identity, so the broker's ACLs decide who may publish at all).
Out: publishes every public change the service announces on the standard topics.

MQTT 5 is used so that the subscription can say "no local": the platform does not receive its own
notifications on `v1.1/Datastreams(ID)/Observations` as new observations. Messages it publishes
also carry a user property naming their origin, which other platform processes ignore.
"""

from __future__ import annotations

import ssl
import threading
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import structlog
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from urbandata.accounts.identity import actor_for_user
from urbandata.auth.actor import Actor, RequestContext
from urbandata.config import Settings
from urbandata.errors import InvalidInput, UrbanDataError
from urbandata.sensors import service
from urbandata.sensors.events import hub_of
from urbandata.sensors.mqtt_ingest import Backoff, CreateMany, Ingestor, PostOne
from urbandata.sensors.mqtt_metrics import MqttMetrics
from urbandata.sensors.mqtt_publish import Publisher
from urbandata.sensors.mqtt_settings import mqtt_server_settings
from urbandata.sensors.mqtt_topics import subscriptions
from urbandata.stores import Stores

__all__ = ["MqttBridge", "mqtt_server_settings", "service_writers"]

log = structlog.get_logger("urbandata.sensors.mqtt")

ORIGIN = "urbandata-origin"
SESSION_EXPIRY_SECONDS = 3600  # with a fixed client id the broker keeps QoS 1 messages this long while we are away


class _OriginProperties(Properties):
    """PUBLISH properties naming the sending platform process, packed once: paho packs properties
    on every publish, which costs more than the publish itself."""

    def __init__(self, client_id: str) -> None:
        super().__init__(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        self.UserProperty = (ORIGIN, client_id)
        object.__setattr__(self, "_packed", super().pack())  # type: ignore[no-untyped-call]

    def pack(self) -> bytes:
        packed: bytes = object.__getattribute__(self, "_packed")
        return packed


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
    is made (and remade, with exponential backoff) in the background."""

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
        self.client = self._make_client(reconnect_delay)
        self._origin = _OriginProperties(self.client_id)

    def _make_client(self, reconnect_delay: tuple[int, int]) -> mqtt.Client:
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5
        )
        if self.settings.mqtt_username:
            password = self.settings.mqtt_password.get_secret_value() if self.settings.mqtt_password else None
            client.username_pw_set(self.settings.mqtt_username, password)
        if self.secure:
            ca = str(self.settings.mqtt_ca_file) if self.settings.mqtt_ca_file else None
            client.tls_set(ca_certs=ca, cert_reqs=ssl.CERT_REQUIRED, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.reconnect_delay_set(*reconnect_delay)  # paho doubles the delay up to the maximum
        client.max_queued_messages_set(10000)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> MqttBridge:
        self.ingestor.start()
        self.publisher.start()
        self._unsubscribe = hub_of(self.stores.caches).subscribe(self.publisher.on_changes)
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = SESSION_EXPIRY_SECONDS if self.persistent else 0
        self.client.connect_async(self.host, self.port, keepalive=30, clean_start=not self.persistent, properties=props)
        self.client.loop_start()
        log.info("mqtt bridge started", broker=f"{self.host}:{self.port}", client_id=self.client_id)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking messages, write what is buffered, publish what is queued, disconnect."""
        self.client.unsubscribe(self._filters())
        self.ingestor.stop(timeout)
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.publisher.stop(timeout)
        self.client.disconnect()
        self.client.loop_stop()
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
        """Every received message written and every change published (tests, benchmarks)."""
        return self.ingestor.wait_idle(timeout) and self.publisher.wait_idle(timeout)

    # --- paho callbacks (network thread) ------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any) -> None:
        if reason.is_failure:
            log.error("mqtt connection refused", reason=str(reason))
            return
        group = self.settings.mqtt_shared_group
        # "no local" keeps our own notifications away; MQTT 5 forbids it on shared subscriptions,
        # where the origin user property (checked in _on_message) does the job instead
        options = SubscribeOptions(qos=1, noLocal=group is None)
        client.subscribe([(topic, options) for topic in self._filters()])
        self.metrics.connects.inc()
        self.metrics.connected.set(1)
        log.info("mqtt connected", broker=f"{self.host}:{self.port}", session_present=bool(flags.session_present))

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reasons: list[ReasonCode], properties: Any
    ) -> None:
        refused = [str(r) for r in reasons if r.is_failure]
        if refused:  # e.g. the broker's ACL does not let the platform read the create topics
            log.error("mqtt subscription refused", reasons=refused)
            return
        self.connected.set()  # connected and subscribed: messages published from now on arrive

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any
    ) -> None:
        self.connected.clear()
        self.metrics.connected.set(0)
        log.warning("mqtt disconnected", reason=str(reason))

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        props = getattr(message, "properties", None)
        for key, _value in getattr(props, "UserProperty", None) or ():
            if key == ORIGIN:
                return  # a notification published by a platform process, not a create request
        self.ingestor.offer(message.topic, bytes(message.payload))

    def _send(self, topic: str, payload: bytes) -> bool:
        info = self.client.publish(topic, payload, qos=0, properties=self._origin)
        return info.rc == mqtt.MQTT_ERR_SUCCESS
