"""Catalog endpoints: organisations, dataset search and detail, versions and ingest reports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from urbandata.catalog import service
from urbandata.catalog.models import Dataset, Organization, SearchResult, Version
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(prefix="/api/v1", tags=["catalog"])


@router.get("/organizations", summary="Organisations (departments)")
def organizations(ctx: ContextDep, stores: StoresDep) -> list[Organization]:
    return service.list_orgs(ctx, stores)


@router.get("/organizations/{slug}", summary="One organisation")
def organization(slug: str, ctx: ContextDep, stores: StoresDep) -> Organization:
    return service.get_org(ctx, stores, slug)


@router.get("/datasets", summary="Search the catalog (German full text, facets)")
def datasets(
    ctx: ContextDep,
    stores: StoresDep,
    q: Annotated[str, Query(description="Search words; German-aware, prefix match.", max_length=500)] = "",
    organization: Annotated[list[str] | None, Query()] = None,
    theme: Annotated[list[str] | None, Query()] = None,
    keyword: Annotated[list[str] | None, Query()] = None,
    format: Annotated[list[str] | None, Query()] = None,
    license: Annotated[list[str] | None, Query()] = None,
    access_level: Annotated[list[str] | None, Query()] = None,
    sort: Annotated[str, Query(pattern="^(relevance|title|modified|created)$")] = "relevance",
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchResult:
    filters = {
        "organization": organization or [],
        "theme": theme or [],
        "keyword": keyword or [],
        "format": format or [],
        "license": license or [],
        "access_level": access_level or [],
    }
    return service.search_datasets(ctx, stores, q, filters, sort, page, page_size)


@router.get("/datasets/{slug}", summary="A dataset with its resources (name, schema, sql_table)")
def dataset(slug: str, ctx: ContextDep, stores: StoresDep) -> dict[str, Any]:
    ds: Dataset = service.get_dataset(ctx, stores, slug)
    return ds.model_dump(mode="json", by_alias=True)


@router.get("/datasets/{slug}/resources/{resource}/versions", summary="Versions of a resource with ingest reports")
def versions(slug: str, resource: str, ctx: ContextDep, stores: StoresDep) -> list[dict[str, Any]]:
    items: list[Version] = service.list_versions(ctx, stores, slug, resource)
    return [v.model_dump(mode="json", by_alias=True) for v in items]
