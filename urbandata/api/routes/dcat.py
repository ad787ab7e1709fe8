"""DCAT-AP.de metadata for harvesters such as GovData: Turtle, JSON-LD or RDF/XML.

`?format=ttl|jsonld|xml` wins over the Accept header (text/turtle, application/ld+json,
application/rdf+xml); the default is Turtle. Only what the caller may read is described.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from urbandata.catalog import dcat
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(prefix="/api/v1/dcat", tags=["dcat"])

FormatQuery = Annotated[str | None, Query(description="ttl, jsonld or xml (default: by Accept header, else ttl).")]
RDF_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {m: {} for m in dcat.MEDIA_TYPES.values()}, "description": "DCAT-AP.de RDF"}
}


def _base(request: Request) -> str:
    public: str | None = request.app.state.settings.public_url
    return (public or str(request.base_url)).rstrip("/")


def _answer(body: bytes, fmt: dcat.RdfFormat, public: bool) -> Response:
    headers = {"Vary": "Accept, Authorization, Cookie", "Cache-Control": "public, max-age=300" if public else "private"}
    return Response(body, media_type=f"{dcat.MEDIA_TYPES[fmt]}; charset=utf-8", headers=headers)


@router.get("/catalog", summary="The catalog as DCAT-AP.de (every dataset you may read)", responses=RDF_RESPONSES)
def catalog(request: Request, ctx: ContextDep, stores: StoresDep, format: FormatQuery = None) -> Response:
    fmt = dcat.parse_format(format, request.headers.get("accept"))
    graph = dcat.catalog_graph(ctx, stores, _base(request))
    return _answer(dcat.serialize(graph, fmt), fmt, public=not ctx.actor.is_staff)


@router.get("/datasets/{slug}", summary="One dataset as DCAT-AP.de, with provenance", responses=RDF_RESPONSES)
def dataset(slug: str, request: Request, ctx: ContextDep, stores: StoresDep, format: FormatQuery = None) -> Response:
    fmt = dcat.parse_format(format, request.headers.get("accept"))
    graph = dcat.dataset_graph(ctx, stores, slug, _base(request))
    return _answer(dcat.serialize(graph, fmt), fmt, public=not ctx.actor.is_staff)
