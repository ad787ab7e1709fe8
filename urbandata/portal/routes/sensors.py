"""The sensor chart of the dataset page as an image: hourly averages of one Datastream over the last
seven days, `/datasets/{slug}/sensors/{stream_id}/chart.svg` (or `.png`; `download=1` to save it)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from urbandata.auth.actor import RequestContext
from urbandata.catalog import service as catalog
from urbandata.portal.chart_render import MEDIA_TYPES, Format, chart_image
from urbandata.portal.rendering import choose_language, environment
from urbandata.portal.sensor_view import STA_ROOT, hourly_series, site_url
from urbandata.sensors import overview
from urbandata.stores import Stores
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(include_in_schema=False)


def _image(request: Request, ctx: RequestContext, stores: Stores, slug: str, stream_id: int, fmt: Format) -> Response:
    lang, _ = choose_language(request)
    ds = catalog.get_dataset(ctx, stores, slug)  # 404 for a dataset the visitor may not see
    base = site_url(request) + STA_ROOT
    stream = overview.dataset_stream(ctx, stores, slug, stream_id, base_url=base)
    series = hourly_series(ctx, stores, stream, ds.access_level, lang, dt.datetime.now(dt.UTC), base)
    body = chart_image(series, fmt, environment(lang).filters["num"])
    headers = {
        "Cache-Control": "public, max-age=300" if ds.access_level == "public" else "private, no-store",
        "Content-Language": lang,
        "Vary": "Cookie",
    }
    if request.query_params.get("download"):
        headers["Content-Disposition"] = f'attachment; filename="{slug}-messreihe-{stream_id}.{fmt}"'
    return Response(body, media_type=MEDIA_TYPES[fmt], headers=headers)


@router.get("/datasets/{slug}/sensors/{stream_id}/chart.svg")
async def sensor_chart_svg(slug: str, stream_id: int, request: Request, ctx: ContextDep, stores: StoresDep) -> Response:
    return await run_in_threadpool(_image, request, ctx, stores, slug, stream_id, "svg")


@router.get("/datasets/{slug}/sensors/{stream_id}/chart.png")
async def sensor_chart_png(slug: str, stream_id: int, request: Request, ctx: ContextDep, stores: StoresDep) -> Response:
    return await run_in_threadpool(_image, request, ctx, stores, slug, stream_id, "png")
