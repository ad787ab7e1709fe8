"""Rows of a resource: filters `col=value` / `col__op=value`, sort, columns, keyset paging."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from urbandata.catalog import rows as rows_service
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(prefix="/api/v1", tags=["rows"])

RESERVED = {"limit", "cursor", "sort", "columns", "count", "version", "as_of"}


@router.get(
    "/datasets/{slug}/resources/{resource}/rows",
    summary="Rows of a resource",
    description=(
        "Filters: `column=value` for equality, `column__op=value` with op one of ne, lt, lte, gt, gte, in "
        "(comma-separated), contains, prefix, isnull (true/false). `sort=col1,-col2`, `columns=a,b`, "
        "`limit=N`, `count=true` adds `total`. Follow `next` for the next page (keyset cursor)."
    ),
)
def rows(
    slug: str,
    resource: str,
    request: Request,
    ctx: ContextDep,
    stores: StoresDep,
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: Annotated[str | None, Query(max_length=4096)] = None,
    sort: Annotated[str | None, Query(max_length=2000)] = None,
    columns: Annotated[str | None, Query(max_length=4000)] = None,
    count: bool = False,
    version: Annotated[int | None, Query(ge=1)] = None,
    as_of: Annotated[dt.datetime | None, Query()] = None,
) -> dict[str, Any]:
    filters = [(k, v) for k, v in request.query_params.multi_items() if k not in RESERVED]
    q = rows_service.RowQuery(
        columns=[c for c in columns.split(",") if c] if columns else None,
        filters=filters,
        sort=sort.split(",") if sort else (),
        limit=limit or ctx.settings.api_default_limit,
        cursor=cursor,
        count=count,
        version=version,
        as_of=as_of,
    )
    page = rows_service.query_rows(ctx, stores, slug, resource, q)
    next_url = str(request.url.include_query_params(cursor=page.next_cursor)) if page.next_cursor else None
    body: dict[str, Any] = {
        "rows": page.rows,
        "next": next_url,
        "version": page.table.version,
        "fields": [f.dump() for f in page.fields],
    }
    if page.total is not None:
        body["total"] = page.total
    return body
