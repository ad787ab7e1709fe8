"""Entities as the standard's JSON (STA 1.1 clause 9.2): `@iot.id`, absolute `@iot.selfLink`,
navigation links, ISO 8601 times."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from urbandata.sensors.model import ENTITY_SETS, EntitySet, Property
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


Getter = Callable[[Mapping[str, Any]], Any]


def _getter(prop: Property) -> Getter:
    """`property_value` for one property, decided once (rendering runs for every row of a page)."""
    col, end = prop.column, prop.end_column
    if prop.kind == "id":
        return lambda m: m["id"]
    if prop.kind == "instant":
        return lambda m: format_instant(m[col])
    if prop.kind == "interval":
        if end is None:
            return lambda m: None
        return lambda m: format_interval(m[col], m[end])
    if prop.kind == "time_object":
        if end is None:
            return lambda m: format_time_object(m[col], None)
        return lambda m: format_time_object(m[col], m[end])
    if prop.kind == "result":
        return lambda m: join_result(m["result_number"], m["result_json"])
    return lambda m: m[col]


@functools.cache
def _plan(entity_name: str) -> tuple[tuple[tuple[str, Getter], ...], tuple[tuple[str, str | None], ...]]:
    """Per entity set: its properties with their getters, and its navigation links (with the
    foreign-key column that must be set for a to-one link to exist)."""
    entity = ENTITY_SETS[entity_name]
    props = tuple((p.name, _getter(p)) for p in entity.properties if p.kind != "id")
    rels = tuple((r.name, r.column if r.kind == "self_fk" else None) for r in entity.relations)
    return props, rels


def render(entity: EntitySet, row: Any, base: str, select: Iterable[str] | None = None) -> dict[str, Any]:
    """One entity; with `select`, only the chosen properties and navigation links."""
    chosen = set(select) if select is not None else None
    m = row._mapping
    link = f"{base}/{entity.name}({m['id']})"
    out: dict[str, Any] = {}
    if chosen is None or "id" in chosen:
        out["@iot.id"] = m["id"]
        out["@iot.selfLink"] = link
    props, rels = _plan(entity.name)
    for name, get in props:
        if chosen is None or name in chosen:
            out[name] = get(m)
    for name, fk in rels:
        if chosen is not None and name not in chosen:
            continue
        if fk is not None and m.get(fk) is None:
            continue  # an Observation of a Datastream has no MultiDatastream
        out[f"{name}@iot.navigationLink"] = f"{link}/{name}"
    return out
