"""Who sees and who changes SensorThings entities. Visibility comes from the catalog dataset an
entity belongs to (decided by auth.policy through the catalog service); NULL = shared descriptor."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import mark_checked
from urbandata.auth.policy import has_permission, require_permission
from urbandata.catalog import service as catalog
from urbandata.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from urbandata.sensors.model import ENTITY_SETS, EntitySet
from urbandata.stores import Stores


def _own_visible(tbl: sa.FromClause, ids: sa.Select[tuple[int]]) -> sa.ColumnElement[bool]:
    return sa.or_(tbl.c.dataset_id.is_(None), tbl.c.dataset_id.in_(ids))


def visible_clause(ctx: RequestContext, entity: EntitySet, tbl: sa.FromClause) -> sa.ColumnElement[bool] | None:
    """Rows of `tbl` (an alias of entity.table) the actor may see; None = all."""
    ids = catalog.readable_dataset_ids(ctx)
    if ids is None:
        return None
    if not entity.owner_via:
        return _own_visible(tbl, ids)
    parts: list[sa.ColumnElement[bool]] = []
    for name in entity.owner_via:
        rel = entity.rel_by_name[name]
        owner = ENTITY_SETS[rel.target].table.alias()
        parts.append(tbl.c[rel.column].in_(sa.select(owner.c.id).where(_own_visible(owner, ids))))
    return sa.or_(*parts)


def is_public(stores: Stores, conn: sa.Connection, dataset_id: int | None) -> bool:
    """Would an anonymous visitor see rows of this dataset (MQTT topics are public)?"""
    if dataset_id is None:
        return True
    return catalog.dataset_is_public(stores, conn, dataset_id)


def require_write(ctx: RequestContext, stores: Stores, dataset_id: int | None) -> None:
    """Changing an entity needs the `resource.load` permission on its dataset's organisation;
    a shared descriptor (no dataset) can be changed by anyone who may load data somewhere."""
    if not ctx.actor.is_staff:
        mark_checked()
        raise Unauthorized("Sign in (HTTP Basic with an API token, or a Bearer token) to change sensor data.")
    if dataset_id is None:
        if ctx.actor.is_admin and has_permission(ctx.actor, "resource.load"):
            return
        if any(has_permission(ctx.actor, "resource.load", org) for org, _ in ctx.actor.org_roles):
            return
        raise Forbidden("Not allowed: resource.load.", permission="resource.load")
    try:
        ref = catalog.dataset_ref(ctx, stores, id=dataset_id)
    except NotFound:
        raise Forbidden("Not allowed: resource.load.", permission="resource.load") from None
    require_permission(ctx.actor, "resource.load", ref.organization, ref.slug)


def thing_dataset(ctx: RequestContext, stores: Stores, properties: Any) -> catalog.DatasetRef:
    """The catalog dataset a new Thing belongs to: `properties.dataset` (a slug), or, when the actor
    loads data for exactly one organisation, that organisation's sensor dataset (created on demand)."""
    slug = properties.get("dataset") if isinstance(properties, dict) else None
    if slug is not None:
        if not isinstance(slug, str):
            raise InvalidInput("properties.dataset must be a dataset slug", code="invalid_dataset", parameter="dataset")
        ref = catalog.dataset_ref(ctx, stores, slug=slug)
        require_write(ctx, stores, ref.id)
        return ref
    orgs = [org for org, _ in ctx.actor.org_roles if has_permission(ctx.actor, "resource.load", org)]
    if len(orgs) != 1:
        raise InvalidInput(
            "Name the catalog dataset this Thing belongs to in properties.dataset (a dataset slug).",
            code="dataset_required",
            parameter="properties.dataset",
        )
    return catalog.ensure_sensor_dataset(ctx, stores, orgs[0])
