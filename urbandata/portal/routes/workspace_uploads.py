"""Upload a file, review its inferred schema with sample values, fix column types and load it; see the
ingest report; restore an old version. Twins: /api/v1/datasets/{slug}/uploads[...], …/versions,
…/versions/{n}/restore."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from urbandata.auth.actor import RequestContext
from urbandata.catalog import history, uploads, workspace
from urbandata.catalog import service as catalog
from urbandata.datastore.types import FIELD_TYPES
from urbandata.errors import InvalidInput, NotFound, PayloadTooLarge, UrbanDataError
from urbandata.portal.forms import PostedDep, to_login
from urbandata.portal.i18n import N_
from urbandata.portal.rendering import choose_language, render, translate
from urbandata.stores import Stores
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(include_in_schema=False)
BASE = "/workspace/datasets/{slug}"
TYPE_LABELS = {
    "string": N_("Text"),
    "integer": N_("Ganzzahl"),
    "number": N_("Zahl"),
    "boolean": N_("Ja/Nein"),
    "date": N_("Datum"),
    "datetime": N_("Zeitpunkt"),
    "time": N_("Uhrzeit"),
    "year": N_("Jahreszahl"),
    "yearmonth": N_("Jahr und Monat"),
    "geojson": N_("Geometrie (GeoJSON)"),
}


def _types(request: Request) -> list[tuple[str, str]]:
    lang, _ = choose_language(request)
    return [(t, translate(lang, TYPE_LABELS[t])) for t in FIELD_TYPES]


def _failed_upload(
    request: Request, ctx: RequestContext, stores: Stores, slug: str, exc: UrbanDataError
) -> HTMLResponse:
    ds = workspace.editable_dataset(ctx, stores, slug)
    return render(
        request,
        "workspace/upload_failed.html",
        status=exc.status,
        title=translate(choose_language(request)[0], N_("Die Datei konnte nicht gelesen werden")),
        ds=ds,
        error=exc,
    )


@router.post(BASE + "/upload", response_class=HTMLResponse)
async def upload(slug: str, request: Request, form: PostedDep, stores: StoresDep) -> Response:
    """Keep the uploaded file as a staged upload and show its inferred schema (no new version yet)."""
    ctx = form.ctx
    file = form.form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        raise InvalidInput("Choose a file to upload.", code="no_file", parameter="file")
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
        try:
            preview = await run_in_threadpool(
                uploads.stage_upload,
                ctx,
                stores,
                slug,
                target,
                display_name=Path(file.filename).name,
                resource=form.text("resource") or None,
                sheet=form.text("sheet") or None,
            )
        except UrbanDataError as exc:
            if exc.status in (400, 413, 422) and exc.code not in ("csrf_failed",):
                return _failed_upload(request, ctx, stores, slug, exc)
            raise
    return RedirectResponse(f"/workspace/datasets/{slug}/uploads/{preview.id}", status_code=303)


@router.get(BASE + "/uploads/{upload_id}", response_class=HTMLResponse)
def review(slug: str, upload_id: str, request: Request, ctx: ContextDep, stores: StoresDep) -> Response:
    if not ctx.actor.is_staff:
        return to_login(request)
    preview = uploads.get_upload(ctx, stores, slug, upload_id)
    return _review_page(request, ctx, stores, slug, preview, None)


def _review_page(
    request: Request,
    ctx: RequestContext,
    stores: Stores,
    slug: str,
    preview: uploads.UploadPreview,
    error: UrbanDataError | None,
) -> HTMLResponse:
    ds = workspace.editable_dataset(ctx, stores, slug)
    fields = preview.schema_.get("fields", [])
    return render(
        request,
        "workspace/review.html",
        status=error.status if error else 200,
        title=translate(choose_language(request)[0], N_("Schema prüfen")),
        ds=ds,
        preview=preview,
        fields=fields,
        columns=[f["name"] for f in fields],
        types=_types(request),
        error=error,
    )


@router.post(BASE + "/uploads/{upload_id}/load", response_class=HTMLResponse)
def load(slug: str, upload_id: str, request: Request, form: PostedDep, stores: StoresDep) -> Response:
    ctx = form.ctx
    preview = uploads.get_upload(ctx, stores, slug, upload_id)
    types = {
        str(f["name"]): form.text(f"type-{i}") or str(f.get("type"))
        for i, f in enumerate(preview.schema_.get("fields", []))
    }
    schema = uploads.schema_override(preview, types)
    try:
        version = uploads.load_upload(ctx, stores, slug, upload_id, schema)
    except UrbanDataError as exc:
        if exc.status in (400, 422):
            return _review_page(request, ctx, stores, slug, preview, exc)
        raise
    return RedirectResponse(
        f"/workspace/datasets/{slug}/resources/{preview.resource}/versions/{version.version}?loaded=1", status_code=303
    )


@router.post(BASE + "/uploads/{upload_id}/discard")
def discard(slug: str, upload_id: str, form: PostedDep, stores: StoresDep) -> RedirectResponse:
    uploads.discard_upload(form.ctx, stores, slug, upload_id)
    return RedirectResponse(f"/workspace/datasets/{slug}", status_code=303)


@router.get(BASE + "/resources/{resource}/versions/{version}", response_class=HTMLResponse)
def report(
    slug: str, resource: str, version: int, request: Request, ctx: ContextDep, stores: StoresDep, loaded: bool = False
) -> Response:
    """The ingest report of one version: rows loaded and rejected (line, column, value, reason), notes, schema."""
    if not ctx.actor.is_staff:
        return to_login(request)
    ds = workspace.editable_dataset(ctx, stores, slug)
    found = next((v for v in catalog.list_versions(ctx, stores, slug, resource) if v.version == version), None)
    if found is None:
        raise NotFound(f"Resource {resource!r} has no version {version}", code="version_not_found")
    return render(
        request,
        "workspace/report.html",
        title=translate(choose_language(request)[0], N_("Ladebericht")),
        ds=ds,
        resource=resource,
        v=found,
        loaded=loaded,
        type_labels=dict(_types(request)),
    )


@router.post(BASE + "/resources/{resource}/versions/{version}/restore")
def restore(slug: str, resource: str, version: int, form: PostedDep, stores: StoresDep) -> RedirectResponse:
    history.restore(form.ctx, stores, slug, resource, version)
    return RedirectResponse(f"/workspace/datasets/{slug}?restored={version}", status_code=303)
