"""SensorThings resource paths (STA 1.1 clause 9.2): `Things(1)/Datastreams`, `Observations(7)/result/$value`,
`Datastreams(1)/Observations/$ref`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from urbandata.errors import InvalidInput, NotFound
from urbandata.sensors.model import ENTITY_SETS, EntitySet, Relation

_SEGMENT = re.compile(r"^(?P<name>[A-Za-z]+)(?:\((?P<key>[^()]*)\))?$")


@dataclass(frozen=True)
class Step:
    entity: EntitySet
    relation: Relation | None  # how this step is reached from the previous one (None for the first)
    id: int | None  # None: the whole (navigated) collection, or a to-one navigation


@dataclass(frozen=True)
class ResourcePath:
    steps: tuple[Step, ...]
    prop: str | None = None  # `Things(1)/name`
    value: bool = False  # `/$value`
    ref: bool = False  # `/$ref`

    @property
    def last(self) -> Step:
        return self.steps[-1]

    @property
    def is_collection(self) -> bool:
        last = self.last
        return last.id is None and (last.relation is None or last.relation.many) and self.prop is None


def _key(raw: str | None, where: str) -> int | None:
    if raw is None:
        return None
    text = raw.strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        text = text[1:-1]
    if not re.fullmatch(r"-?\d{1,18}", text):
        # ids are integers here: a string id names nothing
        raise NotFound(f"No entity {where}({raw})", code="not_found")
    return int(text)


def parse_path(path: str) -> ResourcePath:
    segments = [s for s in path.strip("/").split("/") if s]
    if not segments:
        raise InvalidInput("Empty resource path", code="invalid_path")
    steps: list[Step] = []
    prop: str | None = None
    value = ref = False
    for seg in segments:
        if value or ref:
            raise NotFound(f"Nothing follows {'$value' if value else '$ref'} in a resource path", code="not_found")
        if seg == "$value":
            if prop is None:
                raise NotFound("$value follows a property, e.g. Things(1)/name/$value", code="not_found")
            value = True
            continue
        if seg == "$ref":
            if prop is not None or not steps:
                raise NotFound("$ref follows an entity or a collection", code="not_found")
            ref = True
            continue
        if prop is not None:
            raise NotFound(f"Unknown path segment {seg!r} after property {prop!r}", code="not_found")
        m = _SEGMENT.match(seg)
        if m is None:
            raise NotFound(f"Unknown path segment {seg!r}", code="not_found")
        name, key = m.group("name"), m.group("key")
        if not steps:
            entity = ENTITY_SETS.get(name)
            if entity is None:
                raise NotFound(f"No entity set {name!r}", code="not_found")
            steps.append(Step(entity, None, _key(key, name)))
            continue
        prev = steps[-1]
        if prev.id is None and (prev.relation is None or prev.relation.many):
            raise NotFound(f"{seg!r} cannot follow a collection; address one entity first", code="not_found")
        rel = prev.entity.relation(name)
        if rel is not None:
            if key is not None and not rel.many:
                raise NotFound(f"{name} is a single entity; it takes no id", code="not_found")
            steps.append(Step(ENTITY_SETS[rel.target], rel, _key(key, name)))
            continue
        if key is None and (prev.entity.prop(name) is not None) and name != "id":
            prop = name
            continue
        if name == "id" and key is None:
            prop = "id"
            continue
        raise NotFound(f"{prev.entity.singular} has no property or relation {name!r}", code="not_found")
    return ResourcePath(tuple(steps), prop, value, ref)
