"""Entities as the standard's JSON (STA 1.1 clause 9.2): `@iot.id`, absolute `@iot.selfLink`,
navigation links, ISO 8601 times."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from urbandata.sensors.model import EntitySet, Property
from urbandata.sensors.values import format_instant, format_interval, format_time_object, join_result


def self_link(base: str, entity: EntitySet, entity_id: int) -> str:
    return f"{base}/{entity.name}({entity_id})"


def property_value(prop: Property, row: Any) -> Any:
    m = row._mapping
    if prop.kind == "id":
        return m["id"]
    if prop.kind == "instant":
        return format_instant(m[prop.column])
    if prop.kind == "interval":
        return format_interval(m[prop.column], m[prop.end_column]) if prop.end_column else None
    if prop.kind == "time_object":
        return format_time_object(m[prop.column], m[prop.end_column] if prop.end_column else None)
    if prop.kind == "result":
        return join_result(m["result_number"], m["result_json"])
    return m[prop.column]


def render(entity: EntitySet, row: Any, base: str, select: Iterable[str] | None = None) -> dict[str, Any]:
    """One entity; with `select`, only the chosen properties and navigation links."""
    chosen = set(select) if select is not None else None
    link = self_link(base, entity, row.id)
    out: dict[str, Any] = {}
    if chosen is None or "id" in chosen:
        out["@iot.id"] = row.id
        out["@iot.selfLink"] = link
    for prop in entity.properties:
        if prop.kind == "id" or (chosen is not None and prop.name not in chosen):
            continue
        out[prop.name] = property_value(prop, row)
    m = row._mapping
    for rel in entity.relations:
        if chosen is not None and rel.name not in chosen:
            continue
        if rel.kind == "self_fk" and m.get(rel.column) is None:
            continue  # an Observation of a Datastream has no MultiDatastream
        out[f"{rel.name}@iot.navigationLink"] = f"{link}/{rel.name}"
    return out
