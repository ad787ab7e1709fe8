"""Start page, catalog search and dataset pages; each calls the same service as its JSON twin in /api/v1."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from urbandata.catalog import rows as rows_service
from urbandata.catalog import service
from urbandata.catalog.exports import FORMATS, LAT_NAMES, LON_NAMES
from urbandata.catalog.models import Resource, SearchResult
from urbandata.errors import InvalidInput
from urbandata.portal.quality import quality_badge, stale_datasets
from urbandata.portal.rendering import STATIC, page_url, query_url, render
from urbandata.portal.routes import charts, info, maps, organizations, sensors
from urbandata.portal.sensor_view import sensor_section
from urbandata.sensors.overview import sensor_figures
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(include_in_schema=False)
router.include_router(organizations.router)
router.include_router(info.router)
router.include_router(charts.router)
router.include_router(maps.router)
router.include_router(sensors.router)  # the sensor chart images
# the portal's own CSS and JS, mounted by app.py under /static (no CDN, DESIGN rule 5)
STATIC_FILES = StaticFiles(directory=STATIC)

SORTS = ("relevance", "title", "modified", "created")
PAGE_SIZE = 20
TABLE_PAGE_SIZE = 25
FacetParam = Annotated[list[str] | None, Query()]


def base_url(request: Request) -> str:
    public: str | None = request.app.state.settings.public_url
    return (public or str(request.base_url)).rstrip("/")


def search_context(request: Request, result: SearchResult, q: str, filters: dict[str, list[str]]) -> dict[str, Any]:
    """Links that keep the whole search in the address (shareable): facet toggles, active filters, pages."""
    pages = max(1, math.ceil(result.count / result.page_size))
    facet_links: dict[str, list[dict[str, Any]]] = {}
    for name, values in result.facets.items():
        chosen = filters.get(name, [])
        facet_links[name] = [
            {
                "value": v.value,
                "label": v.label,
                "count": v.count,
                "active": v.value in chosen,
                "url": page_url(
                    request,
                    page=None,
                    **{name: [c for c in chosen if c != v.value] if v.value in chosen else [*chosen, v.value]},
                ),
            }
            for v in values
        ]
    active = [
        {
            "facet": name,
            "value": value,
            "url": page_url(request, page=None, **{name: [c for c in chosen if c != value]}),
        }
        for name, chosen in filters.items()
        for value in chosen
    ]
    return {
        "facet_links": facet_links,
        "active": active,
        "pages": pages,
        "prev_url": page_url(request, page=result.page - 1) if result.page > 1 else None,
        "next_url": page_url(request, page=result.page + 1) if result.page < pages else None,
        "page_urls": [(n, page_url(request, page=n)) for n in _page_window(result.page, pages)],
    }


def _page_window(page: int, pages: int) -> list[int]:
    shown = {1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)}
    return sorted(shown)


@router.get("/", response_class=HTMLResponse)
def start(request: Request, ctx: ContextDep, stores: StoresDep) -> HTMLResponse:
    newest = service.search_datasets(ctx, stores, "", {}, sort="created", page_size=5)
    updated = service.search_datasets(ctx, stores, "", {}, sort="modified", page_size=5)
    return render(
        request,
        "start.html",
        newest=newest,
        updated=updated,
        figures=service.catalog_figures(ctx, stores),
        sensor_figures=sensor_figures(ctx, stores),  # visible Things, Datastreams, observations
        orgs=[o for o in service.list_orgs(ctx, stores) if o.dataset_count],
        stale=stale_datasets(ctx, stores),  # overdue datasets the visitor may see (portal/quality.py)
    )


@router.get("/datasets", response_class=HTMLResponse)
def search(
    request: Request,
    ctx: ContextDep,
    stores: StoresDep,
    q: Annotated[str, Query(max_length=500)] = "",
    organization: FacetParam = None,
    theme: FacetParam = None,
    keyword: FacetParam = None,
    format: FacetParam = None,
    license: FacetParam = None,
    access_level: FacetParam = None,
    sort: Annotated[str, Query(pattern="^(relevance|title|modified|created)$")] = "relevance",
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
    result = service.search_datasets(ctx, stores, q, filters, sort, page, PAGE_SIZE)
    return render(
        request,
        "search.html",
        result=result,
        q=q,
        sort=sort,
        sorts=SORTS,
        filters=filters,
        **search_context(request, result, q, filters),
    )


def export_formats(res: Resource) -> list[str]:
    """Export formats of a resource; GeoJSON only where there is a geometry or latitude/longitude."""
    fields = (res.schema_ or {}).get("fields", [])
    names = {str(f.get("name", "")).lower() for f in fields}
    geo = any(f.get("type") == "geojson" for f in fields) or (names & LAT_NAMES and names & LON_NAMES)
    return [f for f in FORMATS if f != "geojson" or geo]


def table_filter(res: Resource, column: str | None, value: str | None) -> list[tuple[str, str]]:
    """The table form's one filter as a rows-service filter: text columns match parts, others exactly."""
    if not column or not value:
        return []
    fields = {f.get("name"): f.get("type", "string") for f in (res.schema_ or {}).get("fields", [])}
    if column not in fields:
        return []
    return [(f"{column}__contains", value)] if fields[column] == "string" else [(column, value.strip())]


@router.get("/datasets/{slug}", response_class=HTMLResponse)
def dataset(
    slug: str,
    request: Request,
    ctx: ContextDep,
    stores: StoresDep,
    resource: Annotated[str | None, Query(max_length=100)] = None,
    cursor: Annotated[str | None, Query(max_length=4096)] = None,
    sort: Annotated[str | None, Query(max_length=200)] = None,
    start: Annotated[int, Query(ge=1)] = 1,
    column: Annotated[str | None, Query(max_length=200)] = None,
    value: Annotated[str | None, Query(max_length=500)] = None,
    datastream: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    ds = service.get_dataset(ctx, stores, slug)
    loaded = [r for r in ds.resources if r.current_version is not None]
    versions = {r.name: service.list_versions(ctx, stores, slug, r.name) for r in loaded}
    shown = next((r for r in loaded if r.name == resource), loaded[0] if loaded else None)
    table = None
    filter_error = None
    if shown is not None:
        query = rows_service.RowQuery(
            limit=TABLE_PAGE_SIZE,
            cursor=cursor,
            sort=[sort] if sort else (),
            filters=table_filter(shown, column, value),
            count=bool(column and value),
        )
        try:
            table = rows_service.query_rows(ctx, stores, slug, shown.name, query)
        except InvalidInput as exc:
            if exc.code != "invalid_filter_value":
                raise
            filter_error = exc.message
            table = rows_service.query_rows(
                ctx, stores, slug, shown.name, rows_service.RowQuery(limit=TABLE_PAGE_SIZE, count=False)
            )
    base = base_url(request)
    anchor = "#tabelle"
    table_links: dict[str, Any] = {}
    if shown is not None and table is not None:
        path = f"/datasets/{slug}"
        filtered = [("column", column), ("value", value)] if table.total is not None else []
        common = [("resource", shown.name), ("sort", sort), *filtered]
        table_links = {
            "next": query_url(path, [*common, ("cursor", table.next_cursor), ("start", start + len(table.rows))])
            + anchor
            if table.next_cursor
            else None,
            "first": query_url(path, common) + anchor if cursor else None,
            "sort": {
                f.name: {
                    "asc": query_url(path, [("resource", shown.name), ("sort", f.name), *filtered]) + anchor,
                    "desc": query_url(path, [("resource", shown.name), ("sort", f"-{f.name}"), *filtered]) + anchor,
                }
                for f in table.fields
            },
            "resources": {r.name: query_url(path, [("resource", r.name)]) + anchor for r in loaded},
        }
    visible = table.fields if table is not None else []
    chart = charts.chart_section(request, ctx, stores, slug, shown, visible)
    sensor = sensor_section(request, ctx, stores, slug, ds.access_level, datastream)  # portal/sensor_view.py
    return render(
        request,
        "dataset.html",
        status=max(chart.pop("chart_status"), sensor.pop("sensors_status")),
        **chart,
        **sensor,
        **maps.map_section(request, ctx, stores, slug, shown, visible),
        **quality_badge(ctx, stores, slug),
        ds=ds,
        loaded=loaded,
        versions=versions,
        formats={r.name: export_formats(r) for r in loaded},
        shown=shown,
        table=table,
        table_start=start,
        table_total=table.total if table is not None and table.total is not None else (shown.row_count if shown else 0),
        filter_column=column,
        filter_value=value or "",
        filter_active=table is not None and table.total is not None,
        filter_error=filter_error,
        table_sort=sort,
        table_links=table_links,
        base=base,
        dataset_url=f"{base}/datasets/{slug}",
    )
