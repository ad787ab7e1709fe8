"""Streamed exports: /datasets/{slug}/resources/{resource}/export?format=csv|json|ndjson|geojson|parquet|xlsx."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from urbandata.api.routes.rows import RESERVED
from urbandata.catalog import exports
from urbandata.catalog.rows import RowQuery
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(prefix="/api/v1", tags=["exports"])


@router.get(
    "/datasets/{slug}/resources/{resource}/export",
    summary="Download a resource (streamed, no row cap)",
    description="Formats csv, json, ndjson, geojson, parquet, xlsx. `flavour=excel-de` gives CSV with `;`, "
    "decimal comma and BOM for German Excel. Filters, `sort` and `columns` work as for rows.",
    response_class=StreamingResponse,
)
def export(
    slug: str,
    resource: str,
    request: Request,
    ctx: ContextDep,
    stores: StoresDep,
    format: Annotated[str, Query(pattern="^(csv|json|ndjson|geojson|parquet|xlsx)$")] = "csv",
    flavour: Annotated[str, Query(pattern="^(standard|excel-de)$")] = "standard",
    sort: Annotated[str | None, Query(max_length=2000)] = None,
    columns: Annotated[str | None, Query(max_length=4000)] = None,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    skip = RESERVED | {"format", "flavour"}
    filters = [(k, v) for k, v in request.query_params.multi_items() if k not in skip]
    q = RowQuery(
        columns=[c for c in columns.split(",") if c] if columns else None,
        filters=filters,
        sort=sort.split(",") if sort else (),
        version=version,
    )
    out = exports.export(ctx, stores, slug, resource, format, q, flavour=flavour)
    headers = {
        "Content-Disposition": f'attachment; filename="{out.filename}"',
        "ETag": out.etag,
        "Cache-Control": "public, max-age=300" if out.public else "private, no-store",
    }
    if request.headers.get("if-none-match") == out.etag:
        return Response(status_code=304, headers=headers)
    return StreamingResponse(out.chunks, media_type=out.media_type, headers=headers)
