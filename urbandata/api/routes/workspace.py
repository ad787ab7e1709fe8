"""Steward workspace endpoints: my datasets, staged uploads (review the inferred schema, then load with
corrected types), organisation members, user status. JSON twins of the portal's workspace pages."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from urbandata.accounts import members
from urbandata.accounts import service as accounts
from urbandata.accounts.models import User
from urbandata.catalog import uploads, workspace
from urbandata.catalog.models import SearchResult
from urbandata.errors import PayloadTooLarge
from urbandata.ingest.tableschema import TableSchema, parse_schema
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(prefix="/api/v1", tags=["workspace"])


@router.get("/workspace/datasets", summary="Datasets of your organisations, internal ones included")
def my_datasets(ctx: ContextDep, stores: StoresDep, page: Annotated[int, Query(ge=1, le=100000)] = 1) -> SearchResult:
    return workspace.my_datasets(ctx, stores, page)


@router.post(
    "/datasets/{slug}/uploads",
    status_code=201,
    summary="Stage a file: the inferred Table Schema and sample rows, nothing loaded yet",
)
async def stage(
    slug: str,
    file: UploadFile,
    ctx: ContextDep,
    stores: StoresDep,
    resource: Annotated[str | None, Query(max_length=100)] = None,
    sheet: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    limit = ctx.settings.max_upload_bytes
    with tempfile.TemporaryDirectory(dir=stores.tmp_dir) as tmp:
        target = Path(tmp) / "upload"
        size = 0
        with target.open("wb") as fh:
            while chunk := await file.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"The file is larger than {limit:,} bytes.", file=file.filename)
                fh.write(chunk)
        preview = await run_in_threadpool(
            uploads.stage_upload,
            ctx,
            stores,
            slug,
            target,
            display_name=Path(file.filename or "upload.csv").name,
            resource=resource,
            sheet=sheet,
        )
    return preview.model_dump(mode="json", by_alias=True)


@router.get("/datasets/{slug}/uploads/{upload_id}", summary="A staged upload of yours")
def staged(slug: str, upload_id: str, ctx: ContextDep, stores: StoresDep) -> dict[str, Any]:
    return uploads.get_upload(ctx, stores, slug, upload_id).model_dump(mode="json", by_alias=True)


class LoadBody(BaseModel):
    types: dict[str, str] = Field(default_factory=dict, description="Column -> Table Schema type to use instead")
    schema_: dict[str, Any] | None = Field(default=None, alias="schema", description="A full Table Schema override")


@router.post(
    "/datasets/{slug}/uploads/{upload_id}/load",
    status_code=201,
    summary="Load a staged upload as the new version (with corrected column types)",
)
def load(slug: str, upload_id: str, body: LoadBody, ctx: ContextDep, stores: StoresDep) -> dict[str, Any]:
    schema: TableSchema | None
    if body.schema_ is not None:
        schema = parse_schema(body.schema_)
    else:
        schema = uploads.schema_override(uploads.get_upload(ctx, stores, slug, upload_id), body.types)
    return uploads.load_upload(ctx, stores, slug, upload_id, schema).model_dump(mode="json", by_alias=True)


@router.delete("/datasets/{slug}/uploads/{upload_id}", status_code=204, summary="Discard a staged upload")
def discard(slug: str, upload_id: str, ctx: ContextDep, stores: StoresDep) -> None:
    uploads.discard_upload(ctx, stores, slug, upload_id)


@router.get("/organizations/{org}/members", summary="Members of an organisation and their roles (stewards, admins)")
def list_members(org: str, ctx: ContextDep, stores: StoresDep) -> list[dict[str, str]]:
    return [{"username": u, "role": r} for u, r in members.list_members(ctx, stores, org)]


@router.delete("/organizations/{org}/members/{username}", status_code=204, summary="Remove a member")
def remove_member(org: str, username: str, ctx: ContextDep, stores: StoresDep) -> None:
    accounts.remove_member(ctx, stores, org, username)


class UserPatch(BaseModel):
    disabled: bool


@router.patch("/users/{username}", summary="Disable or enable a user (admins)")
def patch_user(username: str, body: UserPatch, ctx: ContextDep, stores: StoresDep) -> User:
    return accounts.set_disabled(ctx, stores, username, body.disabled)
