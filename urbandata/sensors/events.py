"""Entity changes the SensorThings service announces after each commit (MQTT publishes them)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    kind: Literal["create", "update", "delete"]
    entity_set: str  # "Observations"
    id: int
    entity: dict[str, Any]  # the entity as the API renders it (absolute selfLinks)
    public: bool  # readable by anonymous visitors; only public changes go to the broker
    # collections the entity is a member of, as topic paths: ("Datastreams(1)/Observations", ...)
    memberships: tuple[str, ...] = ()
    changed: tuple[str, ...] = field(default_factory=tuple)  # properties changed by an update


Listener = Callable[[list[Change]], None]


class EventHub:
    """In-process fan-out of committed changes to listeners (the MQTT publisher, tests)."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    @property
    def active(self) -> bool:
        """Is anybody listening (else changes need not be rendered)?"""
        return bool(self._listeners)

    def publish(self, changes: list[Change]) -> None:
        if not changes:
            return
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(changes)
            except Exception:  # a broken listener must not fail the write that already committed
                log.exception("sensor change listener failed")


def hub_of(caches: dict[str, Any]) -> EventHub:
    """The process's hub, kept in Stores.caches."""
    hub = caches.get("sta_events")
    if hub is None:
        hub = caches.setdefault("sta_events", EventHub())
    assert isinstance(hub, EventHub)
    return hub
