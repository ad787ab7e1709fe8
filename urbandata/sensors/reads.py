"""Reading SensorThings collections and entities with the query options (STA 1.1 clause 9.3):
filter, count, order, server-driven paging (keyset `$skiptoken` on the default order), select, expand."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from urbandata.auth.actor import RequestContext
from urbandata.errors import InvalidInput
from urbandata.sensors.access import visible_clause
from urbandata.sensors.model import ENTITY_SETS, EntitySet, Relation
from urbandata.sensors.query.compile import order_by, where_clause
from urbandata.sensors.query.parse import Expand, Query
from urbandata.sensors.serialize import render
from urbandata.sensors.values import format_instant, parse_instant

DEFAULT_TOP = 100
MAX_TOP = 10000


@dataclass(frozen=True)
class ReadEnv:
    ctx: RequestContext
    conn: sa.Connection
    base: str  # absolute service root, e.g. http://host/sta/v1.1
    geo_schema: str | None  # where PostGIS lives on PostgreSQL; None: no geospatial functions there

    @property
    def dialect(self) -> str:
        return self.conn.dialect.name


def conditions(env: ReadEnv, entity: EntitySet, q: Query) -> list[sa.ColumnElement[bool]]:
    tbl = entity.table
    out: list[sa.ColumnElement[bool]] = []
    vis = visible_clause(env.ctx, entity, tbl)
    if vis is not None:
        out.append(vis)
    if q.filter is not None:
        out.append(where_clause(entity, q.filter, tbl, env.dialect, geo_schema=env.geo_schema))
    return out


def _default_order(entity: EntitySet, one_stream: bool = False) -> list[sa.ColumnElement[Any]]:
    """Observations by phenomenonTime (unique within one stream, so the stream index gives the order)."""
    tbl = entity.table
    if entity.name == "Observations":
        return [tbl.c.phenomenon_time.asc()] if one_stream else [tbl.c.phenomenon_time.asc(), tbl.c.id.asc()]
    return [tbl.c.id.asc()]


def _ordering(env: ReadEnv, entity: EntitySet, q: Query, one_stream: bool = False) -> list[sa.ColumnElement[Any]]:
    if not q.orderby:
        return _default_order(entity, one_stream)
    return [*order_by(entity, q.orderby, entity.table, env.dialect), entity.table.c.id.asc()]


def _token(entity: EntitySet, row: Any) -> str:
    key: list[Any] = [row.id]
    if entity.name == "Observations":
        key = [format_instant(row.phenomenon_time), row.id]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _after_token(entity: EntitySet, token: str, one_stream: bool = False) -> sa.ColumnElement[bool]:
    tbl = entity.table
    try:
        key = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if entity.name == "Observations":
            t0 = parse_instant(key[0], "$skiptoken").astimezone(dt.UTC)
            last_id = int(key[1])
            if one_stream:
                return tbl.c.phenomenon_time > t0
            # written so that a range scan on phenomenon_time serves it
            pt = tbl.c.phenomenon_time
            return sa.and_(pt >= t0, sa.or_(pt > t0, tbl.c.id > last_id))
        return tbl.c.id > int(key[0])
    except (ValueError, TypeError, IndexError, InvalidInput, json.JSONDecodeError):
        raise InvalidInput("$skiptoken is not one this server gave out", code="invalid_skiptoken") from None


def page_size(q: Query) -> int:
    return min(q.top, MAX_TOP) if q.top is not None else DEFAULT_TOP


def collection(
    env: ReadEnv,
    entity: EntitySet,
    extra: list[sa.ColumnElement[bool]],
    q: Query,
    next_link: Callable[[dict[str, str]], str],
    skiptoken: str | None = None,
    one_stream: bool = False,
) -> dict[str, Any]:
    """`{"@iot.count", "value", "@iot.nextLink"}` of a (navigated) collection; `one_stream` when
    the collection is the Observations of one (Multi)Datastream."""
    tbl = entity.table
    where = [*extra, *conditions(env, entity, q)]
    out: dict[str, Any] = {}
    if q.count:
        out["@iot.count"] = env.conn.execute(sa.select(sa.func.count()).select_from(tbl).where(*where)).scalar_one()
    top = page_size(q)
    stmt = sa.select(tbl).where(*where).order_by(*_ordering(env, entity, q, one_stream)).limit(top + 1)
    keyset = not q.orderby
    if skiptoken is not None and keyset:
        stmt = stmt.where(_after_token(entity, skiptoken, one_stream))
    elif q.skip:
        stmt = stmt.offset(q.skip)
    rows = env.conn.execute(stmt).all() if top > 0 else []
    more = len(rows) > top
    rows = rows[:top]
    out["value"] = render_rows(env, entity, list(rows), q)
    if more and rows:
        if keyset:
            out["@iot.nextLink"] = next_link({"$top": str(top), "$skiptoken": _token(entity, rows[-1])})
        else:
            out["@iot.nextLink"] = next_link({"$top": str(top), "$skip": str(q.skip + top)})
    return out


def render_rows(env: ReadEnv, entity: EntitySet, rows: list[Any], q: Query) -> list[dict[str, Any]]:
    select = _select_with_expanded(q)
    values = [render(entity, r, env.base, select) for r in rows]
    if q.expand and rows:
        expanded = expand(env, entity, rows, q.expand)
        for r, v in zip(rows, values, strict=True):
            v.update(expanded.get(r.id, {}))
    return values


def _select_with_expanded(q: Query) -> set[str] | None:
    if q.select is None:
        return None
    return set(q.select)


def _merge_expands(expands: tuple[Expand, ...]) -> dict[str, Query]:
    """`Datastreams/ObservedProperty,Datastreams($top=1)` → per first step one query with nested expands."""
    merged: dict[str, Query] = {}
    for e in expands:
        first, rest = e.path[0], e.path[1:]
        current = merged.get(first, Query())
        if rest:
            current = replace(current, expand=(*current.expand, Expand(rest, e.query)))
        else:
            current = replace(e.query, expand=(*current.expand, *e.query.expand))
        merged[first] = current
    return merged


def _parent_key(rel: Relation, target: sa.Table) -> tuple[sa.ColumnElement[Any], sa.FromClause]:
    """The column carrying the parent's id for each related row, and the FROM to select from."""
    if rel.kind == "target_fk":
        return target.c[rel.column], target
    assert rel.link is not None
    link = rel.link
    return link.c[rel.link_self], target.join(link, link.c[rel.link_target] == target.c.id)


def expand(env: ReadEnv, entity: EntitySet, rows: list[Any], expands: tuple[Expand, ...]) -> dict[int, dict[str, Any]]:
    """Related entities of `rows`, one query per relation (not one per row)."""
    out: dict[int, dict[str, Any]] = defaultdict(dict)
    for name, q in _merge_expands(expands).items():
        rel = entity.rel_by_name[name]
        target = ENTITY_SETS[rel.target]
        tbl = target.table
        where = conditions(env, target, q)
        if not rel.many:
            ids = {r._mapping[rel.column] for r in rows if r._mapping[rel.column] is not None}
            found = env.conn.execute(sa.select(tbl).where(tbl.c.id.in_(ids), *where)).all() if ids else []
            rendered = dict(zip([f.id for f in found], render_rows(env, target, list(found), q), strict=True))
            for r in rows:
                ref = r._mapping[rel.column]
                if ref is not None and ref in rendered:
                    out[r.id][name] = rendered[ref]
            continue
        parent_col, source = _parent_key(rel, tbl)
        parent_ids = [r.id for r in rows]
        top, skip = page_size(q), q.skip
        rank = sa.func.row_number().over(partition_by=parent_col, order_by=_ordering(env, target, q)).label("ud_rank")
        inner = (
            sa.select(tbl, parent_col.label("ud_parent"), rank)
            .select_from(source)
            .where(parent_col.in_(parent_ids), *where)
            .subquery()
        )
        found = env.conn.execute(
            sa.select(inner)
            .where(inner.c.ud_rank > skip, inner.c.ud_rank <= skip + top + 1)
            .order_by(inner.c.ud_parent, inner.c.ud_rank)
        ).all()
        groups: dict[int, list[Any]] = defaultdict(list)
        for f in found:
            groups[f.ud_parent].append(f)
        counts: dict[int, int] = {}
        if q.count:
            counts = dict(
                env.conn.execute(
                    sa.select(parent_col, sa.func.count())
                    .select_from(source)
                    .where(parent_col.in_(parent_ids), *where)
                    .group_by(parent_col)
                ).all()
            )
        for r in rows:
            members = groups.get(r.id, [])
            if q.count:
                out[r.id][f"{name}@iot.count"] = counts.get(r.id, 0)
            out[r.id][name] = render_rows(env, target, members[:top], q)
            if len(members) > top:
                link = f"{env.base}/{entity.name}({r.id})/{name}?$top={top}&$skip={skip + top}"
                out[r.id][f"{name}@iot.nextLink"] = link
    return out


def data_array(env: ReadEnv, values_rows: list[Any], q: Query) -> list[dict[str, Any]]:
    """`$resultFormat=dataArray`: observations grouped per (Multi)Datastream, one array per observation."""
    entity = ENTITY_SETS["Observations"]
    components = list(q.select) if q.select else ["id", "phenomenonTime", "result"]
    groups: dict[tuple[str, int], list[list[Any]]] = defaultdict(list)
    for row in values_rows:
        rendered = render(entity, row, env.base)
        key = (
            ("MultiDatastreams", row.multi_datastream_id)
            if row.multi_datastream_id
            else ("Datastreams", row.datastream_id)
        )
        groups[key].append([rendered.get("@iot.id") if c == "id" else rendered.get(c) for c in components])
    out = []
    for (set_name, sid), arrays in groups.items():
        nav = "MultiDatastream" if set_name == "MultiDatastreams" else "Datastream"
        out.append(
            {
                f"{nav}@iot.navigationLink": f"{env.base}/{set_name}({sid})",
                "components": components,
                "dataArray@iot.count": len(arrays),
                "dataArray": arrays,
            }
        )
    return out
