"""The latest observation of every Datastream of a set of Things in one request (the live map):
an urbandata extension of the SensorThings API. One indexed join over
`sta_datastreams.latest_observation_id`, which the write path keeps current."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import guarded
from urbandata.catalog import service as catalog
from urbandata.db import tables as t
from urbandata.errors import InvalidInput
from urbandata.sensors.access import visible_clause
from urbandata.sensors.model import ENTITY_SETS
from urbandata.sensors.values import format_instant, format_time_object, join_result
from urbandata.stores import Stores

MAX_THINGS = 5_000


def parse_things(text: str | None) -> list[int] | None:
    """`things=1,2,3` → [1, 2, 3]; a 400 for anything that is not a list of ids."""
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise InvalidInput("things must list Thing ids, e.g. things=1,2,3", code="invalid_things", parameter="things")
    try:
        ids = [int(p) for p in parts]
    except ValueError:
        raise InvalidInput(
            f"things must list Thing ids (integers), e.g. things=1,2,3; got {text!r}",
            code="invalid_things",
            parameter="things",
        ) from None
    if len(ids) > MAX_THINGS:
        raise InvalidInput(f"At most {MAX_THINGS:,} Things per request", code="too_many_things", parameter="things")
    return sorted(set(ids))


@guarded("dataset.read")
def latest_observations(
    ctx: RequestContext,
    stores: Stores,
    *,
    things: list[int] | None = None,
    dataset: str | None = None,
    base_url: str,
) -> dict[str, Any]:
    """One entry per visible Datastream of the given Things and/or catalog dataset, with its latest
    observation (phenomenonTime and result are null while the Datastream has none)."""
    if things is None and not dataset:
        raise InvalidInput(
            "Name the Things (things=1,2,3) or the catalog dataset (dataset=slug)",
            code="missing_parameter",
            parameter="things",
        )
    ds_entity, thing_entity = ENTITY_SETS["Datastreams"], ENTITY_SETS["Things"]
    d, th, o = t.sta_datastreams, t.sta_things, t.sta_observations
    conds: list[sa.ColumnElement[bool]] = []
    for clause in (visible_clause(ctx, ds_entity, d), visible_clause(ctx, thing_entity, th)):
        if clause is not None:
            conds.append(clause)
    if things is not None:
        conds.append(d.c.thing_id.in_(things))
    if dataset:
        ref = catalog.dataset_ref(ctx, stores, slug=dataset)  # NotFound for an invisible dataset, too
        conds.append(sa.or_(th.c.dataset_id == ref.id, d.c.dataset_id == ref.id))
    as_text = sa.Text()  # JSON columns read as text and parsed here: each unit once, results only when needed
    stmt = (
        sa.select(
            d.c.id,
            d.c.name,
            sa.cast(d.c.unit_of_measurement, as_text).label("unit"),
            th.c.id.label("thing_id"),
            th.c.name.label("thing_name"),
            o.c.id.label("obs_id"),
            o.c.phenomenon_time,
            o.c.phenomenon_time_end,
            o.c.result_time,
            o.c.result_number,
            sa.cast(o.c.result_json, as_text).label("result_json"),
        )
        .select_from(d.join(th, th.c.id == d.c.thing_id).outerjoin(o, o.c.id == d.c.latest_observation_id))
        .where(*conds)
        .order_by(th.c.id, d.c.id)
    )
    with stores.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    units: dict[str | None, Any] = {}
    value = []
    for ds_id, ds_name, unit, thing_id, thing_name, obs_id, start, end, result_time, number, other in rows:
        if unit not in units:
            units[unit] = _json(unit)
        result = None
        if obs_id is not None:
            result = join_result(number, _json(other) if number is None else None)
        value.append(
            {
                "Thing@iot.id": thing_id,
                "Thing@iot.selfLink": f"{base_url}/Things({thing_id})",
                "thingName": thing_name,
                "Datastream@iot.id": ds_id,
                "Datastream@iot.selfLink": f"{base_url}/Datastreams({ds_id})",
                "datastreamName": ds_name,
                "unitOfMeasurement": units[unit],
                "Observation@iot.id": obs_id,
                "Observation@iot.selfLink": f"{base_url}/Observations({obs_id})" if obs_id is not None else None,
                "phenomenonTime": format_time_object(start, end) if start is not None else None,
                "resultTime": format_instant(result_time) if result_time is not None else None,
                "result": result,
            }
        )
    return {"@iot.count": len(value), "value": value}


def _json(text: Any) -> Any:
    if text is None:
        return None
    return json.loads(text) if isinstance(text, str) else text  # PostgreSQL's driver may parse JSON itself
