"""Start page, catalog search and dataset pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from urbandata.catalog import rows as rows_service
from urbandata.catalog import service
from urbandata.catalog.profile import load_profile
from urbandata.portal.rendering import render
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def start(request: Request, ctx: ContextDep, stores: StoresDep) -> HTMLResponse:
    newest = service.search_datasets(ctx, stores, "", {}, sort="modified", page_size=6)
    return render(request, "start.html", newest=newest, orgs=service.list_orgs(ctx, stores), profile=load_profile())


@router.get("/datasets", response_class=HTMLResponse)
def search(
    request: Request,
    ctx: ContextDep,
    stores: StoresDep,
    q: Annotated[str, Query(max_length=500)] = "",
    organization: Annotated[list[str] | None, Query()] = None,
    theme: Annotated[list[str] | None, Query()] = None,
    keyword: Annotated[list[str] | None, Query()] = None,
    format: Annotated[list[str] | None, Query()] = None,
    license: Annotated[list[str] | None, Query()] = None,
    access_level: Annotated[list[str] | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> HTMLResponse:
    filters = {
        "organization": organization or [],
        "theme": theme or [],
        "keyword": keyword or [],
        "format": format or [],
        "license": license or [],
        "access_level": access_level or [],
    }
    result = service.search_datasets(ctx, stores, q, filters, page=page)
    return render(request, "search.html", result=result, q=q, filters=filters)


@router.get("/datasets/{slug}", response_class=HTMLResponse)
def dataset(slug: str, request: Request, ctx: ContextDep, stores: StoresDep) -> HTMLResponse:
    ds = service.get_dataset(ctx, stores, slug)
    previews = {}
    for res in ds.resources[:3]:
        if res.current_version is not None:
            previews[res.name] = rows_service.query_rows(
                ctx, stores, slug, res.name, rows_service.RowQuery(limit=20, count=False)
            )
    return render(request, "dataset.html", ds=ds, previews=previews, profile=load_profile())
