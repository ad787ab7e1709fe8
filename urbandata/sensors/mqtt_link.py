"""The broker connection of the MQTT bridge, in a process of its own.

A Python MQTT client spends tens of microseconds of interpreter time on every message it reads,
acknowledges or sends. In the platform's process that time competes for the GIL with the database
writes; here it has a core to itself. The process holds no database connection: it forwards what
arrives on the create topics to the platform process in batches, and publishes the notifications
the platform process sends it, all on one MQTT 5 connection, so that "no local" keeps the
platform's own notifications away from its create subscription.

It runs paho's loop itself (`loop_read`, `loop_write`, `loop_misc` over `select`), waiting on the
broker socket and on the pipe to the platform process at once, and publishes from that same loop:
no second thread, no wake-ups between threads.

Pipe protocol (tuples; the first item names the message):
  platform -> link: ("publish", [(topic, payload), ...]), ("unsubscribe",), ("stop",)
  link -> platform: ("messages", [(topic, payload), ...]), ("connected", session_present),
                    ("subscribed", refused_reasons), ("disconnected", reason), ("published", sent, dropped)
"""

from __future__ import annotations

import select
import ssl
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

ORIGIN = "urbandata-origin"
SESSION_EXPIRY_SECONDS = 3600  # with a fixed client id the broker keeps QoS 1 messages this long while we are away
KEEPALIVE = 30
FORWARD_MAX = 2000  # messages per forwarded batch
READ_BURST = 5000  # packets read one after the other before looking at the pipe again


@dataclass(frozen=True)
class LinkConfig:
    host: str
    port: int
    secure: bool
    ca_file: str | None
    username: str | None
    password: str | None
    client_id: str
    persistent: bool
    filters: tuple[str, ...]
    shared: bool  # a shared subscription: "no local" is not allowed, the origin property filters instead
    reconnect_delay: tuple[float, float]


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


class Link:
    def __init__(self, cfg: LinkConfig, pipe: Connection) -> None:
        self.cfg = cfg
        self.pipe = pipe
        self.inbox: list[tuple[str, bytes]] = []
        self.arrived = 0  # PUBLISH packets read (paho reads one packet per loop_read call)
        self.sent = 0
        self.dropped = 0
        self.stopping = False
        self.origin = _OriginProperties(cfg.client_id)
        self.client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        cfg = self.cfg
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2, client_id=cfg.client_id, protocol=mqtt.MQTTv5
        )
        if cfg.username:
            client.username_pw_set(cfg.username, cfg.password)
        if cfg.secure:
            client.tls_set(ca_certs=cfg.ca_file, cert_reqs=ssl.CERT_REQUIRED, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    # --- paho callbacks -----------------------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any) -> None:
        if reason.is_failure:
            self.pipe.send(("disconnected", f"connection refused: {reason}"))
            return
        options = SubscribeOptions(qos=1, noLocal=not self.cfg.shared)
        client.subscribe([(topic, options) for topic in self.cfg.filters])
        self.pipe.send(("connected", bool(flags.session_present)))

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reasons: list[ReasonCode], properties: Any
    ) -> None:
        self.pipe.send(("subscribed", [str(r) for r in reasons if r.is_failure]))

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any
    ) -> None:
        self.pipe.send(("disconnected", str(reason)))

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.arrived += 1
        props = getattr(message, "properties", None)
        for key, _value in getattr(props, "UserProperty", None) or ():
            if key == ORIGIN:
                return  # a notification published by a platform process, not a create request
        self.inbox.append((message.topic, bytes(message.payload)))
        if len(self.inbox) >= FORWARD_MAX:
            self._forward()

    # --- the loop -----------------------------------------------------------------------------
    def _forward(self) -> None:
        if self.inbox:
            self.pipe.send(("messages", self.inbox))
            self.inbox = []

    def _report_published(self) -> None:
        if self.sent or self.dropped:
            self.pipe.send(("published", self.sent, self.dropped))
            self.sent = self.dropped = 0

    def _connect(self) -> bool:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = SESSION_EXPIRY_SECONDS if self.cfg.persistent else 0
        try:
            self.client.connect(
                self.cfg.host,
                self.cfg.port,
                keepalive=KEEPALIVE,
                clean_start=not self.cfg.persistent,
                properties=props,
            )
        except (OSError, ssl.SSLError) as exc:
            self.pipe.send(("disconnected", f"cannot connect: {exc}"))
            return False
        return True

    def _commands(self) -> None:
        while self.pipe.poll():
            msg = self.pipe.recv()
            if msg[0] == "publish":
                for topic, payload in msg[1]:
                    info = self.client.publish(topic, payload, qos=0, properties=self.origin)
                    if info.rc == mqtt.MQTT_ERR_SUCCESS:
                        self.sent += 1
                    else:
                        self.dropped += 1
            elif msg[0] == "unsubscribe":
                if self.client.is_connected():
                    self.client.unsubscribe(list(self.cfg.filters))
            elif msg[0] == "stop":
                self.stopping = True
        self._report_published()

    def run(self) -> None:
        delay = self.cfg.reconnect_delay[0]
        while not self.stopping:
            sock = self.client.socket()
            if sock is None:
                if self._connect():
                    delay = self.cfg.reconnect_delay[0]
                    continue
                if self.pipe.poll(delay):  # wait before the next attempt, but answer commands
                    self._commands()
                delay = min(delay * 2, self.cfg.reconnect_delay[1])
                continue
            sock_fd, pipe_fd = sock.fileno(), self.pipe.fileno()
            want = [sock_fd] if self.client.want_write() else []
            try:
                readable, writable, _ = select.select([sock_fd, pipe_fd], want, [], 1.0)
            except (OSError, ValueError):  # the socket was closed under us
                readable, writable = [sock_fd], []
            if sock_fd in readable:
                self._read_burst(sock)
            if pipe_fd in readable:
                self._commands()
            if writable and self.client.socket() is not None:
                self.client.loop_write()
            self.client.loop_misc()  # keepalive pings, and noticing a silent broker
        self._flush_and_disconnect()

    def _read_burst(self, sock: Any) -> None:
        """Read packets while they keep coming (one select for a burst, not one per message)."""
        for _ in range(READ_BURST):
            before = self.arrived
            if self.client.loop_read() != mqtt.MQTT_ERR_SUCCESS or self.client.socket() is None:
                break
            pending = sock.pending() if isinstance(sock, ssl.SSLSocket) else 0
            if self.arrived == before and not pending:
                break  # nothing more to read now (or a packet that was not a message: back to select)
        self._forward()

    def _flush_and_disconnect(self) -> None:
        deadline = time.monotonic() + 5.0
        while self.client.socket() is not None and self.client.want_write() and time.monotonic() < deadline:
            self.client.loop_write()
        if self.client.socket() is not None:
            self.client.disconnect()
        self._forward()


def run_link(cfg: LinkConfig, pipe: Connection) -> None:
    """The link process's main function; ends on ("stop",) or when the platform process is gone."""
    try:
        Link(cfg, pipe).run()
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass
    finally:
        pipe.close()
