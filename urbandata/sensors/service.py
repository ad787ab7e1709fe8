"""SensorThings API 1.1 actions: read any resource path with query options, create (deep insert,
dataArray), update, delete, JSON batch. Every read is filtered by visibility (auth.policy via the
catalog); every write checks permissions; committed changes go to the event hub (MQTT)."""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import guarded, mark_checked
from urbandata.catalog import service as catalog
from urbandata.errors import InvalidInput, NotFound, NotImplementedFeature, Unauthorized, UrbanDataError
from urbandata.sensors import access, reads, writes
from urbandata.sensors import observations as obs
from urbandata.sensors.events import Change, hub_of
from urbandata.sensors.model import ENTITY_SETS, EntitySet, Relation
from urbandata.sensors.paths import ResourcePath, Step, parse_path
from urbandata.sensors.query.geo import install_sqlite_functions
from urbandata.sensors.query.parse import Query, parse_query
from urbandata.sensors.serialize import property_value, render, self_link
from urbandata.stores import Stores


@dataclass(frozen=True)
class Created:
    id: int
    location: str
    entity: dict[str, Any]


@dataclass(frozen=True)
class RawValue:
    """`/$value`: the property's value as plain text."""

    text: str


NoContent = None  # a property whose value is null: 204


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def geo_schema(stores: Stores) -> str | None:
    """The schema of PostGIS on PostgreSQL (created when the server offers it); None elsewhere."""
    key = "sta_geo_schema"
    install_sqlite_functions(stores.engine)  # SQLite: the filter functions (geometry, Unicode case)
    if key not in stores.caches:
        found: str | None = None
        if stores.engine.dialect.name == "postgresql":
            with stores.engine.connect() as conn:
                found = conn.execute(
                    sa.text("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'postgis'")
                ).scalar()
                if found is None:
                    available = conn.execute(
                        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
                    ).scalar()
                    if available:
                        try:
                            with stores.engine.begin() as c2:
                                c2.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public"))
                            found = "public"
                        except sa.exc.DBAPIError:  # no right to create it, or another process just did
                            with stores.engine.connect() as c3:
                                found = c3.execute(
                                    sa.text(
                                        "SELECT extnamespace::regnamespace::text FROM pg_extension"
                                        " WHERE extname = 'postgis'"
                                    )
                                ).scalar()
        stores.caches[key] = found
    value = stores.caches[key]
    return value if isinstance(value, str) else None


# --- resolving resource paths ------------------------------------------------------------------


def _related(rel: Relation, parent: Any, tbl: sa.Table) -> sa.ColumnElement[bool]:
    if rel.kind == "self_fk":
        ref = parent._mapping[rel.column]
        return tbl.c.id == ref if ref is not None else sa.false()
    if rel.kind == "target_fk":
        return tbl.c[rel.column] == parent.id  # type: ignore[no-any-return]
    assert rel.link is not None
    return tbl.c.id.in_(sa.select(rel.link.c[rel.link_target]).where(rel.link.c[rel.link_self] == parent.id))


@dataclass
class Target:
    step: Step
    row: Any | None  # the entity, for single-entity paths
    conds: list[sa.ColumnElement[bool]]  # for collections: the navigation condition
    parent: Any | None  # the entity the last step navigates from
    parent_entity: EntitySet | None


def _resolve(ctx: RequestContext, conn: sa.Connection, rp: ResourcePath) -> Target:
    parent: Any | None = None
    parent_entity: EntitySet | None = None
    for i, step in enumerate(rp.steps):
        tbl = step.entity.table
        conds: list[sa.ColumnElement[bool]] = []
        if step.relation is not None:
            conds.append(_related(step.relation, parent, tbl))
        is_collection = step.id is None and (step.relation is None or step.relation.many)
        if is_collection:
            if i != len(rp.steps) - 1:
                raise NotFound("A collection must be the last step of a path", code="not_found")
            return Target(step, None, conds, parent, parent_entity)
        if step.id is not None:
            conds.append(tbl.c.id == step.id)
        vis = access.visible_clause(ctx, step.entity, tbl)
        if vis is not None:
            conds.append(vis)
        row = conn.execute(sa.select(tbl).where(*conds)).first()
        if row is None:
            what = f"{step.entity.singular}({step.id})" if step.id is not None else step.entity.singular
            raise NotFound(f"No {what} here", code="not_found")
        parent, parent_entity = row, step.entity
    assert parent is not None
    return Target(rp.last, parent, [], None, None)


def _next_link(base: str, path: str, params: Mapping[str, str]) -> Callable[[dict[str, str]], str]:
    kept = {k: v for k, v in params.items() if k not in ("$skip", "$top", "$skiptoken")}

    def link(overrides: dict[str, str]) -> str:
        query = urllib.parse.urlencode({**kept, **overrides}, quote_via=urllib.parse.quote, safe="$/,()'")
        return f"{base}/{path.strip('/')}?{query}"

    return link


# --- reading -----------------------------------------------------------------------------------


@guarded("dataset.read")
def get(ctx: RequestContext, stores: Stores, path: str, params: Mapping[str, str], *, base_url: str) -> Any:
    """The JSON of a GET on `path` (relative to the service root); RawValue for `$value`, None for 204."""
    rp = parse_path(path)
    access.visible_clause(ctx, rp.last.entity, rp.last.entity.table)  # the visibility decision of this read
    params = dict(params)
    skiptoken = params.pop("$skiptoken", None)
    q = parse_query(params, rp.last.entity)
    with stores.engine.connect() as conn:
        env = reads.ReadEnv(ctx, conn, base_url, geo_schema(stores))
        target = _resolve(ctx, conn, rp)
        entity = target.step.entity
        if target.row is None:
            if rp.ref:
                q = Query(filter=q.filter, orderby=q.orderby, top=q.top, skip=q.skip, count=q.count, select=("id",))
                page = reads.collection(env, entity, target.conds, q, _next_link(base_url, path, params), skiptoken)
                page["value"] = [{"@iot.selfLink": v["@iot.selfLink"]} for v in page["value"]]
                return page
            rel = target.step.relation
            one_stream = rel is not None and rel.column in ("datastream_id", "multi_datastream_id")
            page = reads.collection(
                env, entity, target.conds, q, _next_link(base_url, path, params), skiptoken, one_stream
            )
            if q.result_format == "dataArray":
                return _as_data_array(env, entity, target, q, page)
            return page
        row = target.row
        if rp.ref:
            return {"@iot.selfLink": self_link(base_url, entity, row.id)}
        if rp.prop is not None:
            prop = entity.prop(rp.prop)
            assert prop is not None
            value = property_value(prop, row)
            if rp.value:
                return RawValue("" if value is None else value if isinstance(value, str) else _json_text(value))
            return NoContent if value is None else {rp.prop: value}
        return reads.render_rows(env, entity, [row], q)[0]


def _json_text(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def _as_data_array(
    env: reads.ReadEnv, entity: EntitySet, target: Target, q: Query, page: dict[str, Any]
) -> dict[str, Any]:
    if entity.name != "Observations":
        raise InvalidInput("$resultFormat=dataArray applies to Observations only", code="invalid_result_format")
    ids = [v.get("@iot.id") for v in page["value"]]
    rows = env.conn.execute(sa.select(entity.table).where(entity.table.c.id.in_(ids))).all() if ids else []
    by_id = {r.id: r for r in rows}
    out: dict[str, Any] = {}
    if "@iot.count" in page:
        out["@iot.count"] = page["@iot.count"]
    out["value"] = reads.data_array(env, [by_id[i] for i in ids if i in by_id], q)
    if "@iot.nextLink" in page:
        out["@iot.nextLink"] = page["@iot.nextLink"]
    return out


# --- events --------------------------------------------------------------------------------------


def _memberships(entity: EntitySet, row: Any) -> tuple[str, ...]:
    """Collections the entity belongs to, as MQTT topic paths (`Datastreams(1)/Observations`)."""
    out = [entity.name]
    for rel in entity.relations:
        if rel.kind != "self_fk" or row._mapping.get(rel.column) is None:
            continue
        target = ENTITY_SETS[rel.target]
        back = next((r for r in target.relations if r.kind == "target_fk" and r.column == rel.column), None)
        if back is not None:
            out.append(f"{target.name}({row._mapping[rel.column]})/{back.name}")
    return tuple(out)


def _changes(unit: writes.Unit, base: str) -> list[Change]:
    conn = unit.conn
    out: list[Change] = []
    for set_name, entity_id in unit.created:
        entity = ENTITY_SETS[set_name]
        row = conn.execute(sa.select(entity.table).where(entity.table.c.id == entity_id)).first()
        if row is not None:
            public = access.is_public(unit.stores, conn, writes.dataset_of(conn, entity, row))
            out.append(
                Change("create", set_name, entity_id, render(entity, row, base), public, _memberships(entity, row))
            )
    for set_name, entity_id, changed in unit.updated:
        entity = ENTITY_SETS[set_name]
        row = conn.execute(sa.select(entity.table).where(entity.table.c.id == entity_id)).first()
        if row is not None:
            public = access.is_public(unit.stores, conn, writes.dataset_of(conn, entity, row))
            out.append(
                Change(
                    "update", set_name, entity_id, render(entity, row, base), public, _memberships(entity, row), changed
                )
            )
    for set_name, entity_id, rendered in unit.deleted:
        out.append(Change("delete", set_name, entity_id, rendered, bool(rendered.pop("_public", False))))
    return out


@dataclass
class Tx:
    """A transaction spanning several writes (a batch's atomicity group); its changes are announced
    by whoever commits it."""

    conn: sa.Connection
    changes: list[Change]


def _run(
    ctx: RequestContext, stores: Stores, base: str, work: Callable[[writes.Unit], Any], tx: Tx | None = None
) -> Any:
    """Run `work` in one transaction (or in `tx`); announce its changes after the commit."""
    hub = hub_of(stores.caches)
    if tx is not None:
        unit = writes.Unit(ctx, stores, tx.conn, _now())
        # no SAVEPOINT: the whole atomicity group fails together (and pysqlite's savepoints would commit)
        result = work(unit)
        writes.finish(unit)
        if hub.active:
            tx.changes.extend(_changes(unit, base))
        return result
    with stores.engine.begin() as conn:
        unit = writes.Unit(ctx, stores, conn, _now())
        result = work(unit)
        writes.finish(unit)
        changes = _changes(unit, base) if hub.active else []
    hub.publish(changes)
    return result


# --- writing -----------------------------------------------------------------------------------


def _require_account(ctx: RequestContext) -> None:
    if not ctx.actor.is_staff:
        raise Unauthorized("Sign in to change sensor data: HTTP Basic (user name and API token) or a Bearer token.")


def _collection_target(
    ctx: RequestContext, conn: sa.Connection, path: str
) -> tuple[EntitySet, tuple[Relation, int] | None]:
    rp = parse_path(path)
    if rp.prop is not None or rp.ref:
        raise InvalidInput("POST goes to a collection, e.g. Things or Things(1)/Datastreams", code="invalid_path")
    target = _resolve(ctx, conn, rp)
    if target.row is not None:
        raise InvalidInput("POST goes to a collection, not to one entity", code="invalid_path")
    if target.parent is not None and target.step.relation is not None:
        return target.step.entity, (target.step.relation, target.parent.id)
    return target.step.entity, None


@guarded("resource.load")
def post(ctx: RequestContext, stores: Stores, path: str, body: Any, *, base_url: str, tx: Tx | None = None) -> Created:
    """Create an entity (deep insert allowed) in the collection `path`."""
    _require_account(ctx)

    def work(unit: writes.Unit) -> Created:
        entity, parent = _collection_target(ctx, unit.conn, path)
        new_id = writes.create(unit, entity, body, parent=parent)
        row = unit.conn.execute(sa.select(entity.table).where(entity.table.c.id == new_id)).one()
        return Created(new_id, self_link(base_url, entity, new_id), render(entity, row, base_url))

    result: Created = _run(ctx, stores, base_url, work, tx)
    return result


@guarded("resource.load")
def link(ctx: RequestContext, stores: Stores, path: str, body: Any, *, base_url: str) -> None:
    """POST `Things(1)/Locations/$ref` with `{"@iot.id": 2}` (or an @iot.selfLink): add a link."""
    rp = parse_path(path)
    if not rp.ref or len(rp.steps) < 2 or rp.last.relation is None or not rp.last.relation.many:
        raise InvalidInput(
            "POST $ref goes to a navigated collection, e.g. Things(1)/Locations/$ref", code="invalid_path"
        )
    target_id = _ref_id(body, rp.last.entity)

    def work(unit: writes.Unit) -> None:
        parent_rp = ResourcePath(rp.steps[:-1])
        parent = _resolve(ctx, unit.conn, parent_rp)
        rel = rp.last.relation
        assert rel is not None and parent.row is not None
        access.require_write(ctx, stores, writes.dataset_of(unit.conn, parent_rp.last.entity, parent.row))
        writes.patch(unit, parent_rp.last.entity, parent.row.id, {rel.name: [{"@iot.id": target_id}]})

    _run(ctx, stores, base_url, work)


def _ref_id(body: Any, entity: EntitySet) -> int:
    if isinstance(body, dict) and "@iot.id" in body:
        try:
            return int(body["@iot.id"])
        except (TypeError, ValueError):
            pass
    if isinstance(body, dict) and isinstance(body.get("@iot.selfLink"), str):
        m = re.search(rf"{entity.name}\((\d+)\)\s*$", body["@iot.selfLink"])
        if m:
            return int(m.group(1))
    raise InvalidInput(f'Give the {entity.singular} to link as {{"@iot.id": n}}', code="invalid_body")


def _single(ctx: RequestContext, conn: sa.Connection, path: str) -> tuple[EntitySet, Any]:
    rp = parse_path(path)
    if rp.prop is not None or rp.ref:
        raise InvalidInput("This request goes to one entity, e.g. Things(1)", code="invalid_path")
    target = _resolve(ctx, conn, rp)
    if target.row is None:
        raise InvalidInput("This request goes to one entity, not to a collection", code="invalid_path")
    return target.step.entity, target.row


@guarded("resource.load")
def patch(
    ctx: RequestContext, stores: Stores, path: str, body: Any, *, base_url: str, tx: Tx | None = None
) -> dict[str, Any]:
    def work(unit: writes.Unit) -> dict[str, Any]:
        entity, row = _single(ctx, unit.conn, path)
        writes.patch(unit, entity, row.id, body)
        fresh = unit.conn.execute(sa.select(entity.table).where(entity.table.c.id == row.id)).one()
        return render(entity, fresh, base_url)

    result: dict[str, Any] = _run(ctx, stores, base_url, work, tx)
    return result


@guarded("resource.load")
def delete(ctx: RequestContext, stores: Stores, path: str, *, base_url: str = "", tx: Tx | None = None) -> None:
    rp = parse_path(path)
    if rp.ref and len(rp.steps) >= 2 and rp.last.id is not None:
        _unlink(ctx, stores, rp, base_url)
        return

    def work(unit: writes.Unit) -> None:
        entity, row = _single(ctx, unit.conn, path)
        rendered = render(entity, row, base_url)
        rendered["_public"] = access.is_public(stores, unit.conn, writes.dataset_of(unit.conn, entity, row))
        writes.delete(unit, entity, row.id, rendered)

    _run(ctx, stores, base_url, work, tx)


def _unlink(ctx: RequestContext, stores: Stores, rp: ResourcePath, base_url: str) -> None:
    """DELETE `Things(1)/Locations(2)/$ref`: remove a many-to-many link."""
    rel = rp.last.relation
    if rel is None or rel.link is None:
        raise NotImplementedFeature("Only many-to-many links can be removed with DELETE $ref")

    def work(unit: writes.Unit) -> None:
        parent_rp = ResourcePath(rp.steps[:-1])
        parent = _resolve(ctx, unit.conn, parent_rp)
        _resolve(ctx, unit.conn, ResourcePath(rp.steps))
        assert parent.row is not None and rel is not None and rel.link is not None
        access.require_write(ctx, stores, writes.dataset_of(unit.conn, parent_rp.last.entity, parent.row))
        unit.conn.execute(
            rel.link.delete().where(
                rel.link.c[rel.link_self] == parent.row.id, rel.link.c[rel.link_target] == rp.last.id
            )
        )
        unit.updated.append((parent_rp.last.entity.name, parent.row.id, (rel.name,)))

    _run(ctx, stores, base_url, work)


# --- many observations at once -------------------------------------------------------------------


@guarded("resource.load")
def create_observations(
    ctx: RequestContext, stores: Stores, stream_id: int, bodies: list[Any], *, multi: bool = False, base_url: str
) -> list[str | UrbanDataError]:
    """Create many observations of one (Multi)Datastream in one transaction; per body its selfLink
    or the error that rejected it (the others are still created)."""
    return _create_many(ctx, stores, stream_id, multi, bodies, obs.parse_observation, base_url)


def _create_many(
    ctx: RequestContext,
    stores: Stores,
    stream_id: int,
    multi: bool,
    items: list[Any],
    parse: Callable[[Any, dt.datetime], obs.NewObservation],
    base_url: str,
) -> list[str | UrbanDataError]:
    """The bulk write behind create_observations and CreateObservations: `parse` turns each item
    (a JSON body or a dataArray row) into a new observation or raises the error that rejects it."""
    entity = ENTITY_SETS["Observations"]
    hub = hub_of(stores.caches)
    now = _now()
    with stores.engine.begin() as conn:
        try:
            stream = obs.load_stream(conn, stream_id, multi=multi)
        except NotFound as exc:
            mark_checked()  # nothing to write: an unknown stream is a 404 for anybody (as when raised)
            return [exc for _ in items]
        access.require_write(ctx, stores, stream.dataset_id)
        sink: list[dict[str, Any]] = []
        outcome = obs.copy_in_one_pass(conn, stream, items, parse, now, sink)
        if outcome is None:
            outcome = _parse_then_insert(conn, stream, items, parse, now, sink)
        if sink and stream.dataset_id is not None:
            latest = max(r["phenomenon_time_end"] or r["phenomenon_time"] for r in sink)
            catalog.data_arrived(stores, conn, stream.dataset_id, latest)
        prefix = f"{base_url}/{entity.name}("
        results = [o if isinstance(o, UrbanDataError) else f"{prefix}{o})" for o in outcome]
        changes: list[Change] = []
        if hub.active and sink:
            public = access.is_public(stores, conn, stream.dataset_id)
            memberships: dict[tuple[Any, ...], tuple[str, ...]] = {}
            for row in sink:
                fake = _RowLike(row)
                key = (row["datastream_id"], row["multi_datastream_id"], row["feature_id"])
                if key not in memberships:  # the same for every row of a stream and feature
                    memberships[key] = _memberships(entity, fake)
                changes.append(
                    Change(
                        "create", "Observations", row["id"], render(entity, fake, base_url), public, memberships[key]
                    )
                )
    hub.publish(changes)
    return results


def _parse_then_insert(
    conn: sa.Connection,
    stream: obs.Stream,
    items: list[Any],
    parse: Callable[[Any, dt.datetime], obs.NewObservation],
    now: dt.datetime,
    sink: list[dict[str, Any]],
) -> list[int | UrbanDataError]:
    """Per item the new observation's id or the error that rejected it."""
    parsed: list[obs.NewObservation | UrbanDataError] = []
    for item in items:
        try:
            parsed.append(parse(item, now))
        except UrbanDataError as exc:
            parsed.append(exc)
    good = [p for p in parsed if isinstance(p, obs.NewObservation)]
    inserted = iter(obs.insert_observations(conn, stream, good, sink=sink) if good else [])
    return [p if isinstance(p, UrbanDataError) else next(inserted) for p in parsed]


class _RowLike:
    """A dict seen as a result row (for rendering inserted observations without reading them back)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._mapping = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[name]
        except KeyError:
            raise AttributeError(name) from None


_DATA_ARRAY_COMPONENTS = {
    "phenomenonTime",
    "result",
    "resultTime",
    "resultQuality",
    "validTime",
    "parameters",
    "FeatureOfInterest/id",
}


@guarded("resource.load")
def create_observations_data_array(ctx: RequestContext, stores: Stores, body: Any, *, base_url: str) -> list[str]:
    """POST CreateObservations (STA 1.1 data array extension): per row its selfLink or "error"."""
    if not isinstance(body, list):
        raise InvalidInput(
            "CreateObservations takes a JSON array of {Datastream, components, dataArray}", code="invalid_body"
        )
    out: list[str] = []
    for group in body:
        if not isinstance(group, dict):
            raise InvalidInput("Each CreateObservations entry must be an object", code="invalid_body")
        multi = "MultiDatastream" in group
        ref = group.get("MultiDatastream" if multi else "Datastream")
        stream_id = _ref_id(ref, ENTITY_SETS["MultiDatastreams" if multi else "Datastreams"])
        components = group.get("components")
        rows = group.get("dataArray")
        if not isinstance(components, list) or not isinstance(rows, list):
            raise InvalidInput("components and dataArray must be arrays", code="invalid_body")
        unknown = [c for c in components if c not in _DATA_ARRAY_COMPONENTS]
        if unknown or "result" not in components:
            raise InvalidInput(
                f"components must include result and may only name {sorted(_DATA_ARRAY_COMPONENTS)}",
                code="invalid_components",
            )
        parse = obs.row_parser(components)
        results = _create_many(ctx, stores, stream_id, multi, rows, parse, base_url)
        out.extend(r if isinstance(r, str) else "error" for r in results)
    return out
