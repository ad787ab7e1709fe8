"""SensorThings MQTT topics (STA 1.1 clause 14): which create topic a message arrived on, and the
topics a committed change is published on."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Literal

from urbandata.sensors.events import Change

TargetKind = Literal["datastream", "multi", "feature", "observations"]

_CREATE = re.compile(
    r"^(?:(?P<set>Datastreams|MultiDatastreams|FeaturesOfInterest)\((?P<id>\d{1,18})\)/)?Observations$"
)
_KINDS: dict[str, TargetKind] = {
    "Datastreams": "datastream",
    "MultiDatastreams": "multi",
    "FeaturesOfInterest": "feature",
}


@dataclass(frozen=True)
class Target:
    """Where an observation published to a create topic goes."""

    kind: TargetKind
    id: int | None  # None for `Observations` (the body links its Datastream)

    @property
    def path(self) -> str:
        """The resource path of the create request (relative to the service root)."""
        if self.kind == "observations":
            return "Observations"
        name = {"datastream": "Datastreams", "multi": "MultiDatastreams", "feature": "FeaturesOfInterest"}[self.kind]
        return f"{name}({self.id})/Observations"


def subscriptions(prefix: str) -> list[str]:
    """MQTT topic filters covering every create topic: `Observations` and `<Set>(<id>)/Observations`."""
    return [f"{prefix}Observations", f"{prefix}+/Observations"]


@functools.lru_cache(maxsize=8192)  # sensors publish to the same few topics over and over
def parse_create_topic(prefix: str, topic: str) -> Target | None:
    """The create target of a topic, or None when the topic is not a create topic."""
    if not topic.startswith(prefix):
        return None
    m = _CREATE.match(topic[len(prefix) :])
    if m is None:
        return None
    if m.group("set") is None:
        return Target("observations", None)
    return Target(_KINDS[m.group("set")], int(m.group("id")))


def change_messages(prefix: str, change: Change) -> list[tuple[str, bytes]]:
    """(topic, payload) pairs announcing one committed change; nothing for a non-public change."""
    if not change.public or change.kind == "delete":
        return []
    entity = json.dumps(change.entity, separators=(",", ":"), default=str).encode()
    collections = [change.entity_set, *change.memberships]
    out = [(f"{prefix}{c}", entity) for c in dict.fromkeys(collections)]
    if change.kind == "update":
        own = f"{prefix}{change.entity_set}({change.id})"
        out.append((own, entity))
        for prop in change.changed:
            value = {prop: change.entity.get(prop)}
            out.append((f"{own}/{prop}", json.dumps(value, separators=(",", ":"), default=str).encode()))
    return out
