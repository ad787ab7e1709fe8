"""The map: its part of the dataset page, a server-drawn SVG/PNG of the places, and the map library's files.

Leaflet and leaflet.markercluster come from npm (package.json) and are served by the platform itself
from ./node_modules under /static/vendor/ (no CDN, DESIGN rule 5). Without them (a machine without
npm) the page still shows the server-drawn image and the list of places.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response

from urbandata.auth.actor import RequestContext
from urbandata.catalog import rows as rows_service
from urbandata.catalog.models import Resource
from urbandata.errors import NotFound
from urbandata.ingest.tableschema import SchemaField
from urbandata.portal import maps
from urbandata.portal.chart_render import MEDIA_TYPES, Format, map_image
from urbandata.portal.rendering import query_url
from urbandata.stores import Stores
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(include_in_schema=False)

NODE_MODULES = Path(__file__).resolve().parents[3] / "node_modules"
# the files of each served npm package: /static/vendor/<name>/<file> -> node_modules/<name>/dist/<file>
VENDOR = {"leaflet": "leaflet/dist", "leaflet.markercluster": "leaflet.markercluster/dist"}
VENDOR_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml"}


def vendor_ready() -> bool:
    """Whether the interactive map's scripts are installed (`npm ci`)."""
    scripts = ("leaflet/dist/leaflet.js", "leaflet.markercluster/dist/leaflet.markercluster.js")
    return all((NODE_MODULES / s).is_file() for s in scripts)


@router.get("/static/vendor/{package}/{path:path}")
def vendor_file(package: str, path: str) -> FileResponse:
    """A file of an allowed npm package's dist folder (scripts, styles, marker images); nothing else."""
    folder = VENDOR.get(package)
    if folder is None:
        raise NotFound(f"No vendor package {package!r}")
    root = (NODE_MODULES / folder).resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root) or not target.is_file() or target.suffix not in VENDOR_TYPES:
        raise NotFound(f"No file {path!r} in {package}")
    return FileResponse(
        target, media_type=VENDOR_TYPES[target.suffix], headers={"Cache-Control": "public, max-age=86400"}
    )


def map_section(
    request: Request,
    ctx: RequestContext,
    stores: Stores,
    slug: str,
    shown: Resource | None,
    visible: Sequence[SchemaField],
) -> dict[str, Any]:
    """The dataset page's map of the resource on display, or None when it has no places the visitor may see."""
    geo = maps.detect(visible)
    if shown is None or geo is None:
        return {"map": None}
    data = maps.load_map(ctx, stores, slug, shown.name, visible, geo)
    if data is None:
        return {"map": None}
    settings = request.app.state.settings
    image = f"/datasets/{slug}/resources/{shown.name}/map"
    return {
        "map": {
            "resource": shown,
            "data": data,
            "svg": image + ".svg",
            "png_download": query_url(image + ".png", [("download", "1")]),
            "svg_download": query_url(image + ".svg", [("download", "1")]),
            "interactive": vendor_ready(),
            "tiles": settings.map_tile_url,
            "wms": settings.map_wms_url if not settings.map_tile_url else None,
            "wms_layers": settings.map_wms_layers,
            "attribution": settings.map_attribution,
        }
    }


def _image(request: Request, ctx: RequestContext, stores: Stores, slug: str, resource: str, fmt: Format) -> Response:
    page = rows_service.query_rows(ctx, stores, slug, resource, rows_service.RowQuery(limit=1))
    geo = maps.detect(page.fields)
    data = maps.load_map(ctx, stores, slug, resource, page.fields, geo) if geo else None
    if data is None:
        raise NotFound(f"Resource {resource!r} has no places to map", code="no_map")
    body = map_image(data.points, data.polygons, data.lines, fmt)
    headers = {"Cache-Control": "public, max-age=300" if page.table.access_level == "public" else "private, no-store"}
    if request.query_params.get("download"):
        headers["Content-Disposition"] = f'attachment; filename="{slug}-{resource}-karte.{fmt}"'
    return Response(body, media_type=MEDIA_TYPES[fmt], headers=headers)


@router.get("/datasets/{slug}/resources/{resource}/map.svg")
async def map_svg(slug: str, resource: str, request: Request, ctx: ContextDep, stores: StoresDep) -> Response:
    return await run_in_threadpool(_image, request, ctx, stores, slug, resource, "svg")


@router.get("/datasets/{slug}/resources/{resource}/map.png")
async def map_png(slug: str, resource: str, request: Request, ctx: ContextDep, stores: StoresDep) -> Response:
    return await run_in_threadpool(_image, request, ctx, stores, slug, resource, "png")
