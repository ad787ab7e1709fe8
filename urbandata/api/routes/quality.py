"""Data quality endpoints: rules, validation reports, scores and freshness, overdue lists, version history."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from urbandata.catalog import history, quality
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(prefix="/api/v1", tags=["quality"])

AtQuery = Annotated[
    dt.datetime | None, Query(description="Evaluate at this ISO 8601 date-time (default: now); UTC if no offset.")
]
RES = "/datasets/{slug}/resources/{resource}"


@router.get("/datasets/{slug}/quality", summary="Quality score, freshness and components of a dataset")
def dataset_quality(slug: str, ctx: ContextDep, stores: StoresDep, at: AtQuery = None) -> dict[str, Any]:
    return quality.dataset_quality(ctx, stores, slug, at)


@router.get("/organizations/{slug}/quality", summary="Quality score of an organisation and its datasets")
def org_quality(slug: str, ctx: ContextDep, stores: StoresDep, at: AtQuery = None) -> dict[str, Any]:
    return quality.org_quality(ctx, stores, slug, at)


@router.get("/organizations/{slug}/overdue", summary="Overdue resources of an organisation")
def org_overdue(slug: str, ctx: ContextDep, stores: StoresDep, at: AtQuery = None) -> list[dict[str, Any]]:
    return quality.overdue(ctx, stores, slug, at)


@router.get(RES + "/rules", summary="Validation rules of a resource")
def get_rules(slug: str, resource: str, ctx: ContextDep, stores: StoresDep) -> dict[str, Any]:
    return quality.get_rules(ctx, stores, slug, resource)


class RulesBody(BaseModel):
    rules: list[dict[str, Any]]
    on_failure: str = "reject"


@router.put(RES + "/rules", summary="Set validation rules (stewards and editors); contradictions are a 400")
def put_rules(slug: str, resource: str, body: RulesBody, ctx: ContextDep, stores: StoresDep) -> dict[str, Any]:
    return quality.set_rules(ctx, stores, slug, resource, body.rules, body.on_failure)


@router.get(RES + "/validation", summary="Validation reports of a resource, newest first")
def validation(
    slug: str,
    resource: str,
    ctx: ContextDep,
    stores: StoresDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> list[dict[str, Any]]:
    return quality.validation_reports(ctx, stores, slug, resource, limit)


@router.get(RES + "/diff", summary="Differences between two versions (rows by key columns, schema)")
def diff(
    slug: str,
    resource: str,
    ctx: ContextDep,
    stores: StoresDep,
    from_version: Annotated[int, Query(alias="from", ge=1)],
    to_version: Annotated[int, Query(alias="to", ge=1)],
    key: Annotated[list[str] | None, Query(description="Key columns (default: primary key or unique rule).")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    return history.diff(ctx, stores, slug, resource, from_version, to_version, key, limit)


@router.post(RES + "/versions/{version}/restore", status_code=201, summary="Restore a version as the new current one")
def restore(slug: str, resource: str, version: int, ctx: ContextDep, stores: StoresDep) -> dict[str, Any]:
    return history.restore(ctx, stores, slug, resource, version).model_dump(mode="json", by_alias=True)


@router.get(RES + "/lineage", summary="Where each version came from")
def lineage(slug: str, resource: str, ctx: ContextDep, stores: StoresDep) -> list[dict[str, Any]]:
    return history.lineage(ctx, stores, slug, resource)


@router.put(RES + "/retention", summary="Set the retention of old versions' data")
def put_retention(
    slug: str, resource: str, body: history.Retention, ctx: ContextDep, stores: StoresDep
) -> dict[str, Any]:
    return history.set_retention(ctx, stores, slug, resource, body).model_dump()


@router.post(RES + "/retention/apply", summary="Prune old versions' data now (metadata and reports stay)")
def apply_retention(slug: str, resource: str, ctx: ContextDep, stores: StoresDep) -> dict[str, Any]:
    return {"pruned": history.apply_retention(ctx, stores, slug, resource)}


@router.get("/overdue", summary="Overdue datasets across the catalog (those you may see), longest overdue first")
def overdue(
    ctx: ContextDep,
    stores: StoresDep,
    at: AtQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    return quality.overdue_datasets(ctx, stores, at, limit)
