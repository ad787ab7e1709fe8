"""The chart builder: its part of the dataset page, and the chart as an SVG or PNG image (download or <img>).

`/datasets/{slug}/resources/{resource}/chart.svg?chart=bar&x=Stadtteil&agg=sum&y=Einwohner` and the
same with `.png`; `bucket=year` groups a date column `x` by time; `download=1` asks to save the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from urbandata.auth.actor import RequestContext
from urbandata.catalog.aggregate import METRICS, NUMERIC
from urbandata.catalog.models import Resource
from urbandata.catalog.service import open_table
from urbandata.datastore.aggregation import TIME_UNITS
from urbandata.errors import InvalidInput
from urbandata.ingest.tableschema import SchemaField
from urbandata.portal import charts
from urbandata.portal.chart_render import MEDIA_TYPES, Format, chart_image
from urbandata.portal.rendering import choose_language, environment, query_url
from urbandata.stores import Stores
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(include_in_schema=False)


def _params(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "") for k in charts.PARAMS}


def _image_url(slug: str, resource: str, spec: charts.ChartSpec, fmt: str, lang: str, download: bool = False) -> str:
    params: list[tuple[str, Any]] = [*spec.params(), ("lang", lang), ("download", "1" if download else None)]
    return query_url(f"/datasets/{slug}/resources/{resource}/chart.{fmt}", params)


def chart_section(
    request: Request,
    ctx: RequestContext,
    stores: Stores,
    slug: str,
    shown: Resource | None,
    visible: Sequence[SchemaField],
) -> dict[str, Any]:
    """The dataset page's chart builder for the resource on display (`visible`: its columns the visitor may see).

    `chart_status` is 400 when the visitor's choice cannot make a chart; the page then says why.
    """
    lang, _ = choose_language(request)
    fields = charts.chartable(visible)
    if shown is None or not fields:
        return {"chart": None, "chart_status": 200}
    chosen = _params(request)
    error: str | None = None
    spec: charts.ChartSpec | None = None
    series = None
    try:
        spec = charts.parse_spec(chosen, fields) or charts.default_spec(fields)
        if spec is not None:
            series = charts.build_series(ctx, stores, slug, shown.name, spec, lang)
    except charts.ChartError as exc:
        error = exc.localized(lang)
        spec = None
    except InvalidInput as exc:  # the aggregation service's own checks, in English
        error = exc.message
        spec = None
    number = environment(lang).filters["num"]
    form = {k: (v if error else "") for k, v in chosen.items()}
    if spec is not None:
        form = {k: v or "" for k, v in spec.params()}
    view: dict[str, Any] = {
        "resource": shown,
        "fields": fields,
        "numeric": [f.name for f in fields if f.type in NUMERIC],
        "dates": [f.name for f in fields if f.type in charts.DATES],
        "kinds": [(k, charts.KIND_NAMES[k]) for k in charts.KINDS],
        "aggs": [(a, charts.AGG_NAMES[a]) for a in METRICS],
        "buckets": [(b, charts.BUCKET_NAMES[b]) for b in TIME_UNITS],
        "form": form,
        "error": error,
        "series": series,
    }
    if spec is not None and series is not None:
        view.update(
            svg=_image_url(slug, shown.name, spec, "svg", lang),
            svg_download=_image_url(slug, shown.name, spec, "svg", lang, download=True),
            png_download=_image_url(slug, shown.name, spec, "png", lang, download=True),
            share=query_url(f"/datasets/{slug}", [("resource", shown.name), *spec.params()]) + "#diagramm",
            summary=charts.summary(series, lang, number),
            rows=list(zip(series.labels, series.values, strict=True)),
        )
    return {"chart": view, "chart_status": 400 if error else 200}


def _fields(ctx: RequestContext, stores: Stores, slug: str, resource: str) -> list[SchemaField]:
    return charts.chartable(open_table(ctx, stores, slug, resource, purpose="chart").schema.fields)


def _image(request: Request, ctx: RequestContext, stores: Stores, slug: str, resource: str, fmt: Format) -> Response:
    lang, _ = choose_language(request)
    fields = _fields(ctx, stores, slug, resource)
    spec = charts.parse_spec(_params(request), fields) or charts.default_spec(fields)
    if spec is None:
        raise InvalidInput("This table has no column to chart", code="invalid_chart")
    series = charts.build_series(ctx, stores, slug, resource, spec, lang)
    body = chart_image(series, fmt, environment(lang).filters["num"])
    headers = {
        "Cache-Control": "public, max-age=300" if series.access_level == "public" else "private, no-store",
        "Content-Language": lang,
        "Vary": "Cookie",
    }
    if request.query_params.get("download"):
        headers["Content-Disposition"] = f'attachment; filename="{slug}-{resource}-diagramm.{fmt}"'
    return Response(body, media_type=MEDIA_TYPES[fmt], headers=headers)


@router.get("/datasets/{slug}/resources/{resource}/chart.svg")
async def chart_svg(slug: str, resource: str, request: Request, ctx: ContextDep, stores: StoresDep) -> Response:
    return await run_in_threadpool(_image, request, ctx, stores, slug, resource, "svg")


@router.get("/datasets/{slug}/resources/{resource}/chart.png")
async def chart_png(slug: str, resource: str, request: Request, ctx: ContextDep, stores: StoresDep) -> Response:
    return await run_in_threadpool(_image, request, ctx, stores, slug, resource, "png")
