"""Organisation pages: the list and one department with its datasets (twins of /api/v1/organizations)."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from urbandata.catalog import service
from urbandata.portal.rendering import page_url, render
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20


@router.get("/organizations", response_class=HTMLResponse)
def organizations(request: Request, ctx: ContextDep, stores: StoresDep) -> HTMLResponse:
    return render(request, "organizations.html", orgs=service.list_orgs(ctx, stores))


@router.get("/organizations/{slug}", response_class=HTMLResponse)
def organization(
    slug: str,
    request: Request,
    ctx: ContextDep,
    stores: StoresDep,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> HTMLResponse:
    org = service.get_org(ctx, stores, slug)
    result = service.search_datasets(ctx, stores, "", {"organization": [slug]}, "title", page, PAGE_SIZE)
    pages = max(1, math.ceil(result.count / PAGE_SIZE))
    return render(
        request,
        "organization.html",
        org=org,
        result=result,
        prev_url=page_url(request, page=page - 1) if page > 1 else None,
        next_url=page_url(request, page=page + 1) if page < pages else None,
        pages=pages,
    )
