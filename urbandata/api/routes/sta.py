"""OGC SensorThings API 1.1 (sensing) under /sta/v1.1: thin HTTP over urbandata.sensors.service."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from urbandata.errors import InvalidInput, NotImplementedFeature
from urbandata.sensors import batch, service
from urbandata.sensors.model import ENTITY_SETS
from urbandata.sensors.mqtt_settings import mqtt_server_settings
from urbandata.webdeps import ContextDep, StoresDep

ROOT = "/sta/v1.1"
router = APIRouter(prefix=ROOT, tags=["SensorThings API 1.1"])

_CONF = "http://www.opengis.net/spec/iot_sensing/1.1/req/"
CONFORMANCE = [
    _CONF + c
    for c in (
        "datamodel",
        "resource-path/resource-path-to-entities",
        "request-data",
        "create-update-delete",
        "data-array/data-array",
        "batch-request/batch-request",
    )
]
EXTENSION = "https://urbandata.dev/spec/sta/aggregation"


def base_url(request: Request) -> str:
    public = request.app.state.settings.public_url
    root = public.rstrip("/") if public else str(request.base_url).rstrip("/")
    return root + ROOT


# Routes that read the body are async; the service work then runs in the thread pool, as for the
# plain routes, so that a long bulk write does not hold up the server's event loop.


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise InvalidInput("The request needs a JSON body", code="invalid_body")
    try:
        return orjson.loads(raw)  # several times faster than json on bulk bodies (dataArray)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"The body is not valid JSON: {exc}", code="invalid_json") from None


def _json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(value, status_code=status, headers=headers, media_type="application/json")


@router.get("", summary="Service root: entity sets and server settings")
@router.get("/", include_in_schema=False)
def root(request: Request) -> Response:
    base = base_url(request)
    settings = request.app.state.settings
    server: dict[str, Any] = {"conformance": [*CONFORMANCE, EXTENSION]}
    server.update(mqtt_server_settings(settings))
    if server.get("mqtt_conformance"):
        server["conformance"].extend(server.pop("mqtt_conformance"))
    return _json(
        {
            "value": [{"name": name, "url": f"{base}/{name}"} for name in ENTITY_SETS],
            "serverSettings": server,
        }
    )


@router.post("/CreateObservations", status_code=201, summary="Create many observations (dataArray)")
async def create_observations(request: Request, ctx: ContextDep, stores: StoresDep) -> Response:
    body = await _body(request)
    links = await run_in_threadpool(
        service.create_observations_data_array, ctx, stores, body, base_url=base_url(request)
    )
    return Response(orjson.dumps(links), status_code=201, media_type="application/json")


@router.post("/$batch", summary="JSON batch request (OData 4.01 JSON batch, as FROST)")
async def json_batch(request: Request, ctx: ContextDep, stores: StoresDep) -> Response:
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise NotImplementedFeature("Only JSON batch requests (Content-Type: application/json) are supported")
    body = await _body(request)
    return _json(await run_in_threadpool(batch.run, ctx, stores, body, base_url=base_url(request)))


@router.get("/{path:path}", summary="Read an entity set, entity, property or navigation path")
def read(path: str, request: Request, ctx: ContextDep, stores: StoresDep) -> Response:
    params = dict(request.query_params)
    result = service.get(ctx, stores, path, params, base_url=base_url(request))
    if result is None:
        return Response(status_code=204)
    if isinstance(result, service.RawValue):
        return PlainTextResponse(result.text)
    return _json(result)


@router.post("/{path:path}", status_code=201, summary="Create an entity (deep insert) or a $ref link")
async def create(path: str, request: Request, ctx: ContextDep, stores: StoresDep) -> Response:
    body = await _body(request)
    if path.rstrip("/").endswith("/$ref"):
        await run_in_threadpool(service.link, ctx, stores, path, body, base_url=base_url(request))
        return Response(status_code=204)
    created = await run_in_threadpool(service.post, ctx, stores, path, body, base_url=base_url(request))
    return _json(created.entity, 201, {"Location": created.location})


@router.patch("/{path:path}", summary="Update an entity (merge)")
async def update(path: str, request: Request, ctx: ContextDep, stores: StoresDep) -> Response:
    body = await _body(request)
    return _json(await run_in_threadpool(service.patch, ctx, stores, path, body, base_url=base_url(request)))


@router.put("/{path:path}", include_in_schema=False)
def replace(path: str) -> Response:
    raise NotImplementedFeature("PUT is not supported; use PATCH")


@router.delete("/{path:path}", status_code=204, summary="Delete an entity (with the standard's cascades)")
def remove(path: str, request: Request, ctx: ContextDep, stores: StoresDep) -> Response:
    service.delete(ctx, stores, path, base_url=base_url(request))
    return Response(status_code=204)
