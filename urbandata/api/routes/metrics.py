"""Prometheus metrics: the process's default registry plus the registries parts of the platform
add to `app.state.metric_registries` (e.g. the MQTT bridge's counters)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

router = APIRouter(tags=["health"])


@router.get("/metrics", summary="Prometheus metrics (text exposition format)")
def metrics(request: Request) -> Response:
    registries: list[CollectorRegistry] = [REGISTRY, *getattr(request.app.state, "metric_registries", [])]
    body = b"".join(generate_latest(r) for r in registries)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
