"""Catalog endpoints: organisations, dataset search and detail, versions and ingest reports."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, UploadFile
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from urbandata.catalog import service
from urbandata.catalog.models import CatalogFigures, Dataset, Organization, OrganizationIn, SearchResult, Version
from urbandata.errors import PayloadTooLarge
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(prefix="/api/v1", tags=["catalog"])


@router.get("/organizations", summary="Organisations (departments)")
def organizations(ctx: ContextDep, stores: StoresDep) -> list[Organization]:
    return service.list_orgs(ctx, stores)


@router.get("/organizations/{slug}", summary="One organisation")
def organization(slug: str, ctx: ContextDep, stores: StoresDep) -> Organization:
    return service.get_org(ctx, stores, slug)


@router.get("/figures", summary="Live figures: datasets, loaded resources and rows you can see")
def figures(ctx: ContextDep, stores: StoresDep) -> CatalogFigures:
    return service.catalog_figures(ctx, stores)


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


class OrganizationBody(BaseModel):
    slug: str
    name: str
    description: str = ""
    email: str | None = None
    url: str | None = None


@router.post("/organizations", status_code=201, summary="Create an organisation (admins)")
def create_organization(body: OrganizationBody, ctx: ContextDep, stores: StoresDep) -> Organization:
    return service.create_org(ctx, stores, OrganizationIn(**body.model_dump()))


class DatasetBody(BaseModel):
    slug: str
    organization: str
    metadata: dict[str, Any]


@router.post("/datasets", status_code=201, summary="Create a dataset (stewards and editors of the organisation)")
def create_dataset(body: DatasetBody, ctx: ContextDep, stores: StoresDep) -> dict[str, Any]:
    ds = service.create_dataset(ctx, stores, body.slug, body.organization, body.metadata)
    return ds.model_dump(mode="json", by_alias=True)


@router.patch("/datasets/{slug}", summary="Change a dataset's metadata (stewards and editors)")
def update_dataset(slug: str, changes: dict[str, Any], ctx: ContextDep, stores: StoresDep) -> dict[str, Any]:
    return service.update_dataset(ctx, stores, slug, changes).model_dump(mode="json", by_alias=True)


@router.post(
    "/datasets/{slug}/resources/{resource}/upload",
    status_code=201,
    summary="Upload a file as the new version of a resource (stewards and editors)",
)
async def upload(
    slug: str,
    resource: str,
    file: UploadFile,
    ctx: ContextDep,
    stores: StoresDep,
    sheet: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    limit = ctx.settings.max_upload_bytes
    suffix = Path(file.filename or "upload.csv").suffix[:10]
    with tempfile.TemporaryDirectory(dir=stores.tmp_dir) as tmp:
        target = Path(tmp) / f"upload{suffix}"
        size = 0
        with target.open("wb") as fh:
            while chunk := await file.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"The file is larger than {limit:,} bytes.", file=file.filename)
                fh.write(chunk)
        version = await run_in_threadpool(
            service.ingest_file,
            ctx,
            stores,
            slug,
            target,
            resource=resource,
            display_name=file.filename or target.name,
            sheet=sheet,
        )
    return version.model_dump(mode="json", by_alias=True)


class MaskBody(BaseModel):
    columns: list[str]


@router.put("/datasets/{slug}/resources/{resource}/masked-columns", summary="Hide columns outside the organisation")
def mask(slug: str, resource: str, body: MaskBody, ctx: ContextDep, stores: StoresDep) -> dict[str, Any]:
    service.set_masked_columns(ctx, stores, slug, resource, body.columns)
    return {"masked_columns": sorted(set(body.columns))}
