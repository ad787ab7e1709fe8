"""Scheduled imports of a resource: define, change, delete, run now, run history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from urbandata.imports import service
from urbandata.imports.models import Import, ImportPatch, ImportSpec, Run
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(prefix="/api/v1", tags=["imports"])

BASE = "/datasets/{slug}/resources/{resource}/imports"


@router.get(BASE, summary="Imports of a resource (readable like the dataset)")
def list_imports(slug: str, resource: str, ctx: ContextDep, stores: StoresDep) -> list[Import]:
    return service.list_imports(ctx, stores, slug, resource)


@router.post(BASE, status_code=201, summary="Define an import (url, folder or ckan source; cron schedule)")
def create_import(slug: str, resource: str, body: ImportSpec, ctx: ContextDep, stores: StoresDep) -> Import:
    return service.create_import(ctx, stores, slug, resource, body)


@router.get(BASE + "/{import_id}", summary="One import with its last run")
def get_import(slug: str, resource: str, import_id: int, ctx: ContextDep, stores: StoresDep) -> Import:
    return service.get_import(ctx, stores, import_id, slug, resource)


@router.patch(BASE + "/{import_id}", summary="Change an import (only the given fields)")
def update_import(
    slug: str, resource: str, import_id: int, body: ImportPatch, ctx: ContextDep, stores: StoresDep
) -> Import:
    return service.update_import(ctx, stores, import_id, body, slug, resource)


@router.delete(BASE + "/{import_id}", status_code=204, summary="Delete an import and its run history")
def delete_import(slug: str, resource: str, import_id: int, ctx: ContextDep, stores: StoresDep) -> Response:
    service.delete_import(ctx, stores, import_id, slug, resource)
    return Response(status_code=204)


@router.post(BASE + "/{import_id}/run", summary="Run now and wait for the outcome (409 if a run is going on)")
def run_now(slug: str, resource: str, import_id: int, ctx: ContextDep, stores: StoresDep) -> Run:
    return service.run_now(ctx, stores, import_id, slug, resource)


@router.get(BASE + "/{import_id}/runs", summary="Run history, newest first")
def list_runs(
    slug: str,
    resource: str,
    import_id: int,
    ctx: ContextDep,
    stores: StoresDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> list[Run]:
    return service.list_runs(ctx, stores, import_id, slug, resource, limit)
