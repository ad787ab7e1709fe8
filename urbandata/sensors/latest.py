"""The latest observation of every Datastream of a set of Things in one request (the live map):
an urbandata extension of the SensorThings API. One indexed join over
`sta_datastreams.latest_observation_id`, which the write path keeps current."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import guarded
from urbandata.catalog import service as catalog
from urbandata.db import tables as t
from urbandata.errors import InvalidInput
from urbandata.sensors.access import visible_clause
from urbandata.sensors.model import ENTITY_SETS
from urbandata.sensors.serialize import self_link
from urbandata.sensors.values import format_time_object, join_result
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
    stmt = (
        sa.select(
            d.c.id,
            d.c.name,
            d.c.unit_of_measurement,
            th.c.id.label("thing_id"),
            th.c.name.label("thing_name"),
            o.c.id.label("obs_id"),
            o.c.phenomenon_time,
            o.c.phenomenon_time_end,
            o.c.result_time,
            o.c.result_number,
            o.c.result_json,
        )
        .select_from(d.join(th, th.c.id == d.c.thing_id).outerjoin(o, o.c.id == d.c.latest_observation_id))
        .where(*conds)
        .order_by(th.c.id, d.c.id)
    )
    obs_entity = ENTITY_SETS["Observations"]
    with stores.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    value = [
        {
            "Thing@iot.id": r.thing_id,
            "Thing@iot.selfLink": self_link(base_url, thing_entity, r.thing_id),
            "thingName": r.thing_name,
            "Datastream@iot.id": r.id,
            "Datastream@iot.selfLink": self_link(base_url, ds_entity, r.id),
            "datastreamName": r.name,
            "unitOfMeasurement": r.unit_of_measurement,
            "Observation@iot.id": r.obs_id,
            "Observation@iot.selfLink": self_link(base_url, obs_entity, r.obs_id) if r.obs_id is not None else None,
            "phenomenonTime": format_time_object(r.phenomenon_time, r.phenomenon_time_end),
            "resultTime": format_time_object(r.result_time, None),
            "result": join_result(r.result_number, r.result_json) if r.obs_id is not None else None,
        }
        for r in rows
    ]
    return {"@iot.count": len(value), "value": value}
