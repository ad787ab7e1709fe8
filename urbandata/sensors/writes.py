"""Create (with deep insert and links), update (PATCH) and delete SensorThings entities (STA 1.1
clause 10), inside one transaction the caller owns; the changes are collected for the events."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from urbandata.auth.actor import RequestContext
from urbandata.catalog import service as catalog
from urbandata.catalog.models import DataService
from urbandata.db import tables as t
from urbandata.errors import InvalidInput, NotFound
from urbandata.sensors import access
from urbandata.sensors import observations as obs
from urbandata.sensors.model import ENTITY_SETS, OBSERVATION_TYPES, EntitySet, Property, Relation
from urbandata.sensors.values import check_geojson, parse_instant, parse_interval, split_result
from urbandata.stores import Stores


@dataclass
class Unit:
    """One write request: who, where, when, and what changed (rendered into events after commit)."""

    ctx: RequestContext
    stores: Stores
    conn: sa.Connection
    now: dt.datetime
    created: list[tuple[str, int]] = field(default_factory=list)
    updated: list[tuple[str, int, tuple[str, ...]]] = field(default_factory=list)
    deleted: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)
    moved: set[int] = field(default_factory=set)  # Things that got a new Location
    renamed: set[int] = field(default_factory=set)  # datasets whose Things or Datastreams changed


_NAMED = ("Things", "Datastreams", "MultiDatastreams")  # their names go into the catalog search
SEARCH_TERMS_MAX = 2000  # names per dataset in the search index


def finish(unit: Unit) -> None:
    """End of a write: one HistoricalLocation per Thing whose Locations changed (STA 10.2.1.3), and
    the catalog search text of every dataset whose Things or Datastreams changed."""
    for thing_id in sorted(unit.moved):
        _thing_locations_changed(unit, thing_id)
    unit.moved.clear()
    for set_name, entity_id in [*unit.created, *((s, i) for s, i, _ in unit.updated)]:
        if set_name in _NAMED:
            entity = ENTITY_SETS[set_name]
            row = _row(unit.conn, entity, entity_id)
            owner = dataset_of(unit.conn, entity, row) if row is not None else None
            if owner is not None:
                unit.renamed.add(owner)
    ds = t.sta_datastreams
    for set_name, entity_id, _changed in unit.updated:
        if set_name == "ObservedProperties":  # a shared descriptor: every dataset that observes it
            users = sa.select(ds.c.dataset_id).where(ds.c.observed_property_id == entity_id)
            unit.renamed.update(d for d in unit.conn.execute(users.distinct()).scalars() if d is not None)
    for dataset_id in sorted(unit.renamed):
        catalog.set_search_terms(unit.conn, dataset_id, "sensors", sensor_terms(unit.conn, dataset_id))
    unit.renamed.clear()


def sensor_terms(conn: sa.Connection, dataset_id: int) -> list[str]:
    """What a search should find a sensor dataset by: its Things (name, description), Datastreams
    and MultiDatastreams (name) and what they observe."""
    th, ds, mds, op = t.sta_things, t.sta_datastreams, t.sta_multi_datastreams, t.sta_observed_properties
    things = conn.execute(
        sa.select(th.c.name, th.c.description).where(th.c.dataset_id == dataset_id).order_by(th.c.id)
    ).all()
    streams = conn.execute(
        sa.select(ds.c.name, op.c.name)
        .join(op, op.c.id == ds.c.observed_property_id)
        .where(ds.c.dataset_id == dataset_id)
        .order_by(ds.c.id)
    ).all()
    multi = conn.execute(sa.select(mds.c.name).where(mds.c.dataset_id == dataset_id).order_by(mds.c.id)).scalars()
    names = [n for row in (*things, *streams) for n in row] + list(multi)
    return list(dict.fromkeys(n for n in names if n))[:SEARCH_TERMS_MAX]


def _row(conn: sa.Connection, entity: EntitySet, entity_id: int) -> Any:
    return conn.execute(sa.select(entity.table).where(entity.table.c.id == entity_id)).first()


def dataset_of(conn: sa.Connection, entity: EntitySet, row: Any) -> int | None:
    """The catalog dataset that decides who sees and changes this row."""
    if not entity.owner_via:
        return row._mapping["dataset_id"]  # type: ignore[no-any-return]
    for name in entity.owner_via:
        rel = entity.rel_by_name[name]
        ref = row._mapping[rel.column]
        if ref is not None:
            owner = _row(conn, ENTITY_SETS[rel.target], ref)
            return dataset_of(conn, ENTITY_SETS[rel.target], owner) if owner is not None else None
    return None


def _str(body: dict[str, Any], prop: Property, entity: EntitySet) -> Any:
    value = body[prop.name]
    if prop.kind == "string" and not isinstance(value, str):
        raise InvalidInput(f"{entity.singular}.{prop.name} must be a text", code="invalid_type", parameter=prop.name)
    if prop.name in ("properties", "unitOfMeasurement", "parameters") and not isinstance(value, dict | None):
        raise InvalidInput(
            f"{entity.singular}.{prop.name} must be a JSON object", code="invalid_type", parameter=prop.name
        )
    if prop.name in ("unitOfMeasurements", "multiObservationDataTypes") and not isinstance(value, list):
        raise InvalidInput(f"{entity.singular}.{prop.name} must be an array", code="invalid_type", parameter=prop.name)
    return value


def column_values(entity: EntitySet, body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """Columns from the given properties, checked by kind (GeoJSON, times, vocabularies)."""
    values: dict[str, Any] = {}
    for prop in entity.properties:
        if prop.kind in ("id", "result") or entity.name == "Observations":
            continue
        if prop.name not in body:
            if creating and prop.required and prop.name != "description":
                raise InvalidInput(f"{entity.singular} needs {prop.name}", code="missing_property", parameter=prop.name)
            continue
        value = body[prop.name]
        if value is None and prop.required:
            raise InvalidInput(f"{entity.singular}.{prop.name} must not be null", code="invalid_type")
        if prop.kind == "geojson":
            values[prop.column] = check_geojson(value, f"{entity.singular}.{prop.name}") if value is not None else None
        elif prop.kind == "instant":
            values[prop.column] = parse_instant(value, prop.name)
        elif prop.kind == "interval":
            start, end = parse_interval(value, prop.name)
            values[prop.column], values[str(prop.end_column)] = start, end
        else:
            values[prop.column] = _str(body, prop, entity)
    if creating and "description" in entity.by_name and "description" not in body:
        values["description"] = ""  # tolerated (FROST does too); the standard calls it mandatory
    if values.get("observation_type") is not None and values["observation_type"] not in OBSERVATION_TYPES:
        raise InvalidInput(
            f"observationType {values['observation_type']!r} is not an O&M observation type",
            code="invalid_observation_type",
            parameter="observationType",
        )
    if entity.name == "MultiDatastreams" and creating:
        n_units, n_types = len(values["unit_of_measurements"]), len(values["multi_observation_data_types"])
        if n_units != n_types:
            raise InvalidInput(
                "unitOfMeasurements and multiObservationDataTypes must have the same length",
                code="invalid_multidatastream",
            )
    return values


def _check_keys(entity: EntitySet, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput(f"A {entity.singular} must be a JSON object", code="invalid_body")
    for key in body:
        if key in ("@iot.id", "id", "@iot.selfLink") or key.endswith("@iot.navigationLink"):
            continue
        if entity.prop(key) is None and entity.relation(key) is None:
            raise InvalidInput(f"{entity.singular} has no property {key!r}", code="unknown_property", parameter=key)
    return body


def _link_id(value: Any, rel: Relation) -> int | None:
    """`{"@iot.id": 5}` → 5; an inline new entity → None."""
    if not isinstance(value, dict):
        raise InvalidInput(f"{rel.name} must be an object", code="invalid_body", parameter=rel.name)
    if "@iot.id" in value:
        if len([k for k in value if not k.startswith("@iot.")]) > 0:
            raise InvalidInput(
                f"{rel.name}: give either @iot.id (a link) or a new entity, not both",
                code="invalid_body",
                parameter=rel.name,
            )
        raw = value["@iot.id"]
        if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).lstrip("-").isdigit():
            raise InvalidInput(f"{rel.name}: @iot.id must be an integer", code="invalid_id", parameter=rel.name)
        return int(raw)
    return None


def _existing(unit: Unit, entity: EntitySet, entity_id: int, rel_name: str) -> Any:
    row = _row(unit.conn, entity, entity_id)
    if row is None:
        raise InvalidInput(f"{rel_name}: no {entity.singular} {entity_id}", code="link_not_found", parameter=rel_name)
    return row


def _resolve_one(unit: Unit, rel: Relation, value: Any, inherit: int | None) -> int:
    """A to-one link: an existing entity's id, or the id of a new inline entity."""
    target = ENTITY_SETS[rel.target]
    link = _link_id(value, rel)
    if link is not None:
        _existing(unit, target, link, rel.name)
        return link
    return create(unit, target, value, inherit=inherit)


def _thing_locations_changed(unit: Unit, thing_id: int) -> None:
    """STA 10.2.1.3: a Thing with a new Location gets a HistoricalLocation."""
    loc_ids = (
        unit.conn.execute(
            sa.select(t.sta_thing_locations.c.location_id).where(t.sta_thing_locations.c.thing_id == thing_id)
        )
        .scalars()
        .all()
    )
    res = unit.conn.execute(t.sta_historical_locations.insert().values(thing_id=thing_id, time=unit.now))
    hl_id = int(res.inserted_primary_key[0])  # type: ignore[index]
    if loc_ids:
        unit.conn.execute(
            t.sta_historical_location_locations.insert(),
            [{"historical_location_id": hl_id, "location_id": i} for i in loc_ids],
        )
    unit.created.append(("HistoricalLocations", hl_id))


def link_location(unit: Unit, thing_id: int, location_id: int, *, replace: bool = False, record: bool = True) -> None:
    thing = _row(unit.conn, ENTITY_SETS["Things"], thing_id)
    if replace:
        unit.conn.execute(t.sta_thing_locations.delete().where(t.sta_thing_locations.c.thing_id == thing_id))
    exists = unit.conn.execute(
        sa.select(t.sta_thing_locations).where(
            t.sta_thing_locations.c.thing_id == thing_id, t.sta_thing_locations.c.location_id == location_id
        )
    ).first()
    if exists is None:
        unit.conn.execute(t.sta_thing_locations.insert().values(thing_id=thing_id, location_id=location_id))
        if record:
            unit.moved.add(thing_id)
    # a Location linked to a Thing is as visible as the Thing
    unit.conn.execute(
        t.sta_locations.update()
        .where(t.sta_locations.c.id == location_id, t.sta_locations.c.dataset_id.is_(None))
        .values(dataset_id=thing.dataset_id)
    )


def create(
    unit: Unit,
    entity: EntitySet,
    body: Any,
    *,
    parent: tuple[Relation, int] | None = None,
    inherit: int | None = None,
) -> int:
    """Create `entity` from `body` (deep insert), linked to `parent` = (relation from the parent to
    this entity set, parent id) when posted to a navigation path or nested. Returns the new id."""
    body = _check_keys(entity, body)
    conn = unit.conn
    if entity.name == "Observations":
        return _create_observation(unit, body, parent)
    values = column_values(entity, body, creating=True)
    links: dict[str, int] = {}
    # to-one relations held by this table (Datastream.Thing, .Sensor, .ObservedProperty, HistoricalLocation.Thing)
    parent_rel_back = _reverse(entity, parent[0]) if parent else None
    for rel in entity.relations:
        if rel.kind != "self_fk":
            continue
        if parent_rel_back is not None and rel.name == parent_rel_back.name:
            assert parent is not None
            links[rel.column] = parent[1]
        elif rel.name in body:
            links[rel.column] = _resolve_one(unit, rel, body[rel.name], inherit)
        elif rel.required:
            raise InvalidInput(
                f"{entity.singular} needs a link to its {rel.name}", code="missing_link", parameter=rel.name
            )
    dataset_id: int | None
    if entity.name == "Things":
        ref = access.thing_dataset(unit.ctx, unit.stores, values.get("properties"))
        dataset_id = ref.id
        # the Thing names its dataset, so clients can filter: Things?$filter=properties/dataset eq 'slug'
        values["properties"] = {**(values.get("properties") or {}), "dataset": ref.slug}
        announce_services(unit, ref)
    elif "thing_id" in links:
        dataset_id = _row(conn, ENTITY_SETS["Things"], links["thing_id"]).dataset_id
    elif entity.name in ("Sensors", "ObservedProperties"):
        dataset_id = None  # descriptors shared by many Datastreams
    else:
        dataset_id = inherit
    access.require_write(unit.ctx, unit.stores, dataset_id)
    if "dataset_id" in entity.table.c:
        values["dataset_id"] = dataset_id
    values.update(links)
    if entity.name == "HistoricalLocations" and "time" not in body:
        raise InvalidInput("HistoricalLocation needs time", code="missing_property", parameter="time")
    if (
        entity.name == "MultiDatastreams"
        and not body.get("ObservedProperties")
        and not (parent and parent[0].target == "MultiDatastreams")
    ):
        raise InvalidInput("MultiDatastream needs ObservedProperties", code="missing_link")
    new_id = int(conn.execute(entity.table.insert().values(**values)).inserted_primary_key[0])  # type: ignore[index]
    unit.created.append((entity.name, new_id))
    if parent is not None and parent_rel_back is None:
        _link_many(unit, parent[0], parent[1], new_id, parent_entity=ENTITY_SETS[_source_of(parent[0])])
    # to-many relations in the body: link existing or create new members
    for rel in entity.relations:
        if rel.kind == "self_fk" or rel.name not in body:
            continue
        members = body[rel.name]
        if not isinstance(members, list):
            raise InvalidInput(f"{rel.name} must be an array", code="invalid_body", parameter=rel.name)
        for pos, member in enumerate(members):
            target = ENTITY_SETS[rel.target]
            link = _link_id(member, rel)
            if link is None:
                create(unit, target, member, parent=(rel, new_id), inherit=dataset_id)
            else:
                _existing(unit, target, link, rel.name)
                _link_many(unit, rel, new_id, link, parent_entity=entity, position=pos)
    if entity.name == "HistoricalLocations":
        _historical_location_added(unit, new_id)
    return new_id


def _source_of(rel: Relation) -> str:
    for e in ENTITY_SETS.values():
        if any(r is rel for r in e.relations):
            return e.name
    raise ValueError(rel.name)


STA_STANDARD = "http://www.opengis.net/doc/is/sensorthings/1.1"


def announce_services(unit: Unit, ref: catalog.DatasetRef) -> None:
    """The catalog lists how to reach a sensor dataset's data: the SensorThings API and downloads."""
    quoted = ref.slug.replace("'", "''")
    services = [
        DataService(
            kind="sensorthings",
            title="SensorThings API 1.1 (Things dieses Datensatzes)",
            url=f"/sta/v1.1/Things?$filter=properties/dataset eq '{quoted}'&$expand=Datastreams",
            media_type="application/json",
            conforms_to=STA_STANDARD,
        ),
        DataService(
            kind="observations-csv",
            title="Messwerte (CSV)",
            url=f"/api/v1/datasets/{ref.slug}/observations?format=csv",
            media_type="text/csv",
        ),
        DataService(
            kind="observations-parquet",
            title="Messwerte (Parquet)",
            url=f"/api/v1/datasets/{ref.slug}/observations?format=parquet",
            media_type="application/vnd.apache.parquet",
        ),
    ]
    for service in services:
        catalog.register_data_service(unit.conn, ref.id, service)


def _reverse(entity: EntitySet, rel: Relation) -> Relation | None:
    """The to-one relation of `entity` (held as a column) that points back over `rel`, if any:
    Things(1)/Datastreams → Datastream.Thing."""
    if rel.kind != "target_fk":
        return None
    return next((r for r in entity.relations if r.kind == "self_fk" and r.column == rel.column), None)


def _link_many(
    unit: Unit, rel: Relation, source_id: int, target_id: int, *, parent_entity: EntitySet, position: int = 0
) -> None:
    """Add target to source's `rel` collection."""
    conn = unit.conn
    if rel.kind == "target_fk":
        target = ENTITY_SETS[rel.target]
        conn.execute(target.table.update().where(target.table.c.id == target_id).values({rel.column: source_id}))
        return
    assert rel.link is not None
    if rel.link is t.sta_thing_locations:
        thing_id, loc_id = (source_id, target_id) if parent_entity.name == "Things" else (target_id, source_id)
        link_location(unit, thing_id, loc_id)
        return
    if rel.link is t.sta_multi_datastream_properties:
        md_id, op_id = (source_id, target_id) if parent_entity.name == "MultiDatastreams" else (target_id, source_id)
        n = conn.execute(
            sa.select(sa.func.count()).where(t.sta_multi_datastream_properties.c.multi_datastream_id == md_id)
        ).scalar_one()
        conn.execute(
            t.sta_multi_datastream_properties.insert().values(
                multi_datastream_id=md_id, position=int(n), observed_property_id=op_id
            )
        )
        return
    conn.execute(rel.link.insert().values({rel.link_self: source_id, rel.link_target: target_id}))


def _historical_location_added(unit: Unit, hl_id: int) -> None:
    """A HistoricalLocation later than all others sets the Thing's current Locations."""
    hl = _row(unit.conn, ENTITY_SETS["HistoricalLocations"], hl_id)
    later = unit.conn.execute(
        sa.select(sa.func.count()).where(
            t.sta_historical_locations.c.thing_id == hl.thing_id,
            t.sta_historical_locations.c.time > hl.time,
        )
    ).scalar_one()
    if later:
        return
    loc_ids = (
        unit.conn.execute(
            sa.select(t.sta_historical_location_locations.c.location_id).where(
                t.sta_historical_location_locations.c.historical_location_id == hl_id
            )
        )
        .scalars()
        .all()
    )
    if loc_ids:
        unit.conn.execute(t.sta_thing_locations.delete().where(t.sta_thing_locations.c.thing_id == hl.thing_id))
        for loc in loc_ids:
            link_location(unit, hl.thing_id, loc, record=False)


def _create_observation(unit: Unit, body: dict[str, Any], parent: tuple[Relation, int] | None) -> int:
    stream_id: int | None = None
    multi = False
    if parent is not None:
        rel, pid = parent
        if rel.name == "Observations" and rel.column == "datastream_id":
            stream_id = pid
        elif rel.column == "multi_datastream_id":
            stream_id, multi = pid, True
        elif rel.column == "feature_id":
            body = {**body, "FeatureOfInterest": {"@iot.id": pid}}
    for key, is_multi in (("Datastream", False), ("MultiDatastream", True)):
        if stream_id is None and key in body:
            rel = ENTITY_SETS["Observations"].rel_by_name[key]
            link = _link_id(body[key], rel)
            if link is None:
                raise InvalidInput(f"Link the Observation to an existing {key}", code="invalid_body", parameter=key)
            stream_id, multi = link, is_multi
    if stream_id is None:
        raise InvalidInput("An Observation needs its Datastream", code="missing_link", parameter="Datastream")
    body = {k: v for k, v in body.items() if k not in ("Datastream", "MultiDatastream")}
    try:
        stream = obs.load_stream(unit.conn, stream_id, multi=multi)
    except NotFound as exc:
        raise InvalidInput(exc.message, code="link_not_found", parameter="Datastream") from None
    access.require_write(unit.ctx, unit.stores, stream.dataset_id)
    new = obs.parse_observation(body, unit.now)
    (outcome,) = obs.insert_observations(unit.conn, stream, [new])
    if isinstance(outcome, Exception):
        raise outcome
    if stream.dataset_id is not None:
        catalog.data_arrived(unit.stores, unit.conn, stream.dataset_id, new.phenomenon_time_end or new.phenomenon_time)
    unit.created.append(("Observations", outcome))
    return outcome


# --- update ------------------------------------------------------------------------------------


def patch(unit: Unit, entity: EntitySet, entity_id: int, body: Any) -> None:
    """Merge `body` into the entity (RFC 7396 style); inline new related entities are refused."""
    body = _check_keys(entity, body)
    conn = unit.conn
    row = _row(conn, entity, entity_id)
    if row is None:
        raise NotFound(f"No {entity.singular} {entity_id}", code="not_found")
    access.require_write(unit.ctx, unit.stores, dataset_of(conn, entity, row))
    if entity.name == "Observations":
        _patch_observation(unit, row, body)
        return
    values = column_values(entity, body, creating=False)
    changed = [k for k in body if entity.prop(k) is not None]
    for rel in entity.relations:
        if rel.name not in body:
            continue
        value = body[rel.name]
        if rel.kind == "self_fk":
            link = _link_id(value, rel)
            if link is None:
                raise InvalidInput(f"PATCH cannot create entities inline ({rel.name})", code="inline_in_update")
            target_row = _existing(unit, ENTITY_SETS[rel.target], link, rel.name)
            if rel.target == "Things":
                values["dataset_id"] = target_row.dataset_id
                access.require_write(unit.ctx, unit.stores, target_row.dataset_id)
            values[rel.column] = link
        else:
            if not isinstance(value, list):
                raise InvalidInput(f"{rel.name} must be an array", code="invalid_body", parameter=rel.name)
            for member in value:
                link = _link_id(member, rel)
                if link is None:
                    raise InvalidInput(f"PATCH cannot create entities inline ({rel.name})", code="inline_in_update")
                _existing(unit, ENTITY_SETS[rel.target], link, rel.name)
                _link_many(unit, rel, entity_id, link, parent_entity=entity)
        changed.append(rel.name)
    if entity.name == "Things" and isinstance(values.get("properties"), dict):
        if values["properties"].get("dataset") is not None:
            ref = access.thing_dataset(unit.ctx, unit.stores, values["properties"])
            if ref.id != row.dataset_id:
                values["dataset_id"] = ref.id
                unit.renamed.add(row.dataset_id)  # the Thing leaves its old dataset's search text
                announce_services(unit, ref)
        else:  # new properties without the dataset key keep naming the Thing's dataset
            current = catalog.dataset_ref(unit.ctx, unit.stores, id=row.dataset_id)
            values["properties"] = {**values["properties"], "dataset": current.slug}
    if values:
        conn.execute(entity.table.update().where(entity.table.c.id == entity_id).values(**values))
    if "dataset_id" in values and entity.name == "Things":
        for tbl in (t.sta_datastreams, t.sta_multi_datastreams):
            conn.execute(tbl.update().where(tbl.c.thing_id == entity_id).values(dataset_id=values["dataset_id"]))
    unit.updated.append((entity.name, entity_id, tuple(changed)))


def _patch_observation(unit: Unit, row: Any, body: dict[str, Any]) -> None:
    merged_time = body.get("phenomenonTime")
    new = obs.parse_observation(
        {
            "phenomenonTime": merged_time if merged_time is not None else _time_text(row),
            "result": body["result"] if "result" in body else obs_result(row),
            **{k: v for k, v in body.items() if k not in ("phenomenonTime", "result", "Datastream", "MultiDatastream")},
        },
        unit.now,
    )
    multi = row.multi_datastream_id is not None
    stream = obs.load_stream(unit.conn, row.multi_datastream_id if multi else row.datastream_id, multi=multi)
    obs.check_result(stream, new.result)
    number, other = split_result(new.result) if not multi else (None, new.result)
    values: dict[str, Any] = {
        "phenomenon_time": new.phenomenon_time.astimezone(dt.UTC),
        "phenomenon_time_end": new.phenomenon_time_end.astimezone(dt.UTC) if new.phenomenon_time_end else None,
        "result_number": number,
        "result_json": other,
    }
    if "resultTime" in body:
        values["result_time"] = new.result_time
    if "resultQuality" in body:
        values["result_quality"] = new.result_quality
    if "validTime" in body:
        values["valid_time_start"], values["valid_time_end"] = new.valid_time_start, new.valid_time_end
    if "parameters" in body:
        values["parameters"] = new.parameters
    if new.feature_id is not None:
        values["feature_id"] = new.feature_id
    try:
        unit.conn.execute(t.sta_observations.update().where(t.sta_observations.c.id == row.id).values(**values))
    except sa.exc.IntegrityError:  # the request fails and its transaction is rolled back
        raise InvalidInput(
            "Another observation of this Datastream has that phenomenonTime", code="duplicate_observation"
        ) from None
    _observation_moved(unit, row, values["phenomenon_time"])
    unit.updated.append(("Observations", row.id, tuple(k for k in body if k in ENTITY_SETS["Observations"].by_name)))


def obs_result(row: Any) -> Any:
    from urbandata.sensors.values import join_result

    return join_result(row.result_number, row.result_json)


def _time_text(row: Any) -> str:
    from urbandata.sensors.values import format_time_object

    return str(format_time_object(row.phenomenon_time, row.phenomenon_time_end))


def _observation_moved(unit: Unit, row: Any, new_time: dt.datetime | None) -> None:
    """Rollups and extents after an observation changed or went away."""
    if row.datastream_id is not None:
        hours = {obs._hour(obs._utc(row.phenomenon_time) or unit.now)}
        if new_time is not None:
            hours.add(obs._hour(new_time))
        obs.recompute_rollups(unit.conn, row.datastream_id, hours)
        obs.rebuild_extent(unit.conn, row.datastream_id)
    else:
        obs.rebuild_extent(unit.conn, row.multi_datastream_id, multi=True)


# --- delete ------------------------------------------------------------------------------------


def delete(unit: Unit, entity: EntitySet, entity_id: int, rendered: dict[str, Any]) -> None:
    """Delete with the standard's cascades (foreign keys ON DELETE CASCADE do the rest)."""
    conn = unit.conn
    row = _row(conn, entity, entity_id)
    if row is None:
        raise NotFound(f"No {entity.singular} {entity_id}", code="not_found")
    owner = dataset_of(conn, entity, row)
    access.require_write(unit.ctx, unit.stores, owner)
    if entity.name in _NAMED and owner is not None:
        unit.renamed.add(owner)  # its name leaves the dataset's search text
    if entity.name == "Sensors":
        # STA: deleting a Sensor deletes its Datastreams (and their Observations)
        for tbl in (t.sta_datastreams, t.sta_multi_datastreams):
            conn.execute(tbl.delete().where(tbl.c.sensor_id == entity_id))
    conn.execute(entity.table.delete().where(entity.table.c.id == entity_id))
    if entity.name == "Observations":
        _observation_moved(unit, row, None)
    unit.deleted.append((entity.name, entity_id, rendered))
