"""Live sensor figures (the start page's twin): visible Things, Datastreams and numeric observations."""

from __future__ import annotations

from fastapi import APIRouter

from urbandata.sensors.overview import SensorFigures, sensor_figures
from urbandata.webdeps import ContextDep, StoresDep

router = APIRouter(prefix="/api/v1", tags=["datasets"])


@router.get(
    "/figures/sensors",
    summary="Live figures: sensor Things, Datastreams and observations you can see",
    description="Observations are the numeric ones, summed from the hourly rollups (fast on long histories).",
)
def figures(ctx: ContextDep, stores: StoresDep) -> SensorFigures:
    return sensor_figures(ctx, stores)
