"""urbandata extensions of the SensorThings API (aggregation, latest values) and the observation
download of a catalog dataset. Registered before the SensorThings router, whose catch-all path
would otherwise answer these URLs. See docs/sensors_extensions.md."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from urbandata.api.routes.sta import ROOT, base_url
from urbandata.sensors import aggregate, export, latest
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(tags=["SensorThings extensions"])


@router.get(
    ROOT + "/Datastreams({stream_id:int})/Aggregations",
    summary="Aggregated observations of a Datastream (urbandata extension)",
    description="min, max, avg, sum, count of numeric results per minute, hour, day, week or month "
    "between `from` and `to` (ISO 8601). Day, week and month start at local midnight in `tz` "
    "(default Europe/Berlin). Every bucket is listed, empty ones with count 0.",
)
def aggregations(stream_id: int, request: Request, ctx: ContextDep, stores: StoresDep) -> Response:
    params = dict(request.query_params)
    body = aggregate.aggregate(ctx, stores, stream_id, params, base_url=base_url(request))
    return JSONResponse(body)


@router.get(
    ROOT + "/LatestObservations",
    summary="Latest observation of every Datastream of some Things (urbandata extension)",
    description="`things=1,2,3` and/or `dataset=slug`: one entry per visible Datastream with its Thing, "
    "unit and latest observation.",
)
def latest_observations(
    request: Request,
    ctx: ContextDep,
    stores: StoresDep,
    things: Annotated[str | None, Query(max_length=60_000)] = None,
    dataset: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    body = latest.latest_observations(
        ctx, stores, things=latest.parse_things(things), dataset=dataset, base_url=base_url(request)
    )
    return JSONResponse(body)


@router.get(
    "/api/v1/datasets/{slug}/observations",
    summary="Download the observations of a dataset's sensors (CSV or Parquet, streamed)",
    description="Observations of the dataset's Things between `from` and `to` (ISO 8601, `to` exclusive; "
    "both optional), optionally of one `datastream`. Times are UTC.",
    response_class=StreamingResponse,
)
def observations(
    slug: str,
    ctx: ContextDep,
    stores: StoresDep,
    format: Annotated[str, Query(max_length=20)] = "csv",
    start: Annotated[str | None, Query(alias="from", max_length=60)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=60)] = None,
    datastream: Annotated[int | None, Query()] = None,
) -> Response:
    out = export.export_observations(ctx, stores, slug, fmt=format, start=start, end=end, datastream=datastream)
    headers = {
        "Content-Disposition": f'attachment; filename="{out.filename}"',
        "Cache-Control": "public, max-age=60" if out.public else "private, no-store",
    }
    return StreamingResponse(out.chunks, media_type=out.media_type, headers=headers)
