"""Find-or-create helpers for connectors and simulations: the catalog organisation and dataset a
group of Things belongs to, shared Sensors and ObservedProperties, and Things/Datastreams found
again by a stable key in their `properties` (so that re-running a connector changes nothing twice).
All creation goes through the SensorThings and catalog services (permissions, events, audit)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from urbandata.auth.actor import RequestContext
from urbandata.catalog import service as catalog
from urbandata.catalog.models import OrganizationIn
from urbandata.config import Settings
from urbandata.db import tables as t
from urbandata.errors import NotFound
from urbandata.sensors import service
from urbandata.stores import Stores

OM = "http://www.opengis.net/def/observationType/OGC-OM/2.0/"


def sta_base_url(settings: Settings) -> str:
    """The absolute SensorThings service root outside a request."""
    return (settings.public_url or "http://localhost:8000").rstrip("/") + "/sta/v1.1"


def ensure_org(ctx: RequestContext, stores: Stores, slug: str, name: str, description: str = "") -> bool:
    """Create the organisation unless it exists; True when it was created."""
    try:
        catalog.get_org(ctx, stores, slug)
        return False
    except NotFound:
        catalog.create_org(ctx, stores, OrganizationIn(slug=slug, name=name, description=description))
        return True


def ensure_dataset(ctx: RequestContext, stores: Stores, slug: str, org: str, meta: dict[str, Any]) -> tuple[int, bool]:
    """The catalog dataset's id, created with `meta` unless it exists; and whether it was created."""
    try:
        return catalog.dataset_ref(ctx, stores, slug=slug).id, False
    except NotFound:
        catalog.create_dataset(ctx, stores, slug, org, meta)
        return catalog.dataset_ref(ctx, stores, slug=slug).id, True


def ensure_descriptor(
    ctx: RequestContext, stores: Stores, entity_set: str, body: dict[str, Any], *, base_url: str
) -> int:
    """A shared Sensor or ObservedProperty with this name (and definition/metadata), created once."""
    tbl = t.sta_sensors if entity_set == "Sensors" else t.sta_observed_properties
    conds = [tbl.c.name == body["name"]]
    if entity_set == "ObservedProperties":
        conds.append(tbl.c.definition == body["definition"])
    with stores.engine.connect() as conn:
        found = conn.execute(sa.select(tbl.c.id).where(*conds).order_by(tbl.c.id).limit(1)).scalar()
    if found is not None:
        return int(found)
    return service.post(ctx, stores, entity_set, body, base_url=base_url).id


def things_by_key(stores: Stores, dataset_id: int, key: str) -> dict[str, int]:
    """Things of the dataset by the value of `properties[key]` (e.g. the feed's car park id)."""
    with stores.engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.sta_things.c.id, t.sta_things.c.properties).where(t.sta_things.c.dataset_id == dataset_id)
        ).all()
    out: dict[str, int] = {}
    for row in rows:
        props = row.properties if isinstance(row.properties, dict) else {}
        if props.get(key) is not None:
            out.setdefault(str(props[key]), int(row.id))
    return out


def thing_properties(stores: Stores, thing_id: int) -> dict[str, Any]:
    with stores.engine.connect() as conn:
        props = conn.execute(sa.select(t.sta_things.c.properties).where(t.sta_things.c.id == thing_id)).scalar()
    return dict(props) if isinstance(props, dict) else {}


def streams_by_key(stores: Stores, thing_id: int, key: str) -> dict[str, int]:
    """Datastreams of the Thing by the value of `properties[key]` (e.g. `free`, `occupied`, `status`)."""
    with stores.engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.sta_datastreams.c.id, t.sta_datastreams.c.properties).where(
                t.sta_datastreams.c.thing_id == thing_id
            )
        ).all()
    out: dict[str, int] = {}
    for row in rows:
        props = row.properties if isinstance(row.properties, dict) else {}
        if props.get(key) is not None:
            out.setdefault(str(props[key]), int(row.id))
    return out


def feature_by_key(stores: Stores, name: str, key: str, value: str) -> int | None:
    """A FeatureOfInterest named `name` whose `properties[key]` is `value`."""
    with stores.engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.sta_features.c.id, t.sta_features.c.properties).where(t.sta_features.c.name == name)
        ).all()
    for row in rows:
        props = row.properties if isinstance(row.properties, dict) else {}
        if str(props.get(key)) == value:
            return int(row.id)
    return None


def datastream_body(
    name: str,
    description: str,
    *,
    observation_type: str,
    unit: dict[str, Any],
    sensor_id: int,
    property_id: int,
    properties: dict[str, Any],
) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "observationType": OM + observation_type,
        "unitOfMeasurement": unit,
        "Sensor": {"@iot.id": sensor_id},
        "ObservedProperty": {"@iot.id": property_id},
        "properties": properties,
    }
