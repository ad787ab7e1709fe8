"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter

from urbandata import __version__
from urbandata.webdeps import StoresDep

router = APIRouter(tags=["health"])


@router.get("/api/v1/health", summary="Health of the platform and its stores")
def health(stores: StoresDep) -> dict[str, Any]:
    with stores.engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
    return {
        "status": "ok",
        "version": __version__,
        "metadata": stores.engine.dialect.name,
        "datastore": stores.datastore.kind,
    }
