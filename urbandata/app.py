"""create_app(settings): the FastAPI application with the API, the portal and one error handling."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from urbandata import __version__
from urbandata.api.errors import install_error_handlers
from urbandata.api.openapi import ERROR_RESPONSES
from urbandata.api.routes import (
    accounts,
    aggregate,
    datasets,
    dcat,
    docs,
    exports,
    health,
    metrics,
    notifications,
    quality,
    rows,
    sql,
    sta,
    sta_ext,
)
from urbandata.api.routes import imports as import_routes
from urbandata.api.routes import workspace as workspace_api
from urbandata.api.routes.sensor_figures import router as sensor_figures_router
from urbandata.auth.actor import RequestContext
from urbandata.catalog.history import prune_all
from urbandata.config import Settings
from urbandata.errors import UrbanDataError
from urbandata.imports.scheduler import Scheduler, register_periodic
from urbandata.notify.freshness import check_freshness
from urbandata.portal.forms import stale_session
from urbandata.portal.rendering import error_page
from urbandata.portal.routes import pages, staff
from urbandata.sensors.mqtt import MqttBridge
from urbandata.sensors.parking import poll_feed as poll_parking_feed
from urbandata.stores import Stores
from urbandata.webdeps import SESSION_COOKIE


def _notify_freshness(ctx: RequestContext, stores: Stores, now: dt.datetime) -> None:
    check_freshness(ctx, stores, now)  # stewards hear once when a dataset becomes due, once when overdue


def _prune_versions(ctx: RequestContext, stores: Stores, now: dt.datetime) -> None:
    prune_all(ctx, stores, now)  # retention settings of every resource


def register_maintenance() -> None:
    """The scheduler's periodic maintenance hooks (each runs once per period across all processes)."""
    register_periodic("freshness-notify", _notify_freshness, every=dt.timedelta(minutes=15))
    register_periodic("retention-prune", _prune_versions, every=dt.timedelta(hours=24))


def create_app(settings: Settings | None = None, stores: Stores | None = None) -> FastAPI:
    settings = settings or Settings()
    register_maintenance()
    if settings.parking_poll_minutes > 0:  # the car park connector (the hook itself checks the setting too)
        register_periodic(
            "parking-kaiserslautern", poll_parking_feed, every=dt.timedelta(minutes=settings.parking_poll_minutes)
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = stores is None
        app.state.stores = stores or Stores.open(settings)
        scheduler = Scheduler(app.state.stores, settings) if settings.scheduler else None
        if scheduler is not None:
            scheduler.start()  # scheduled imports and periodic maintenance (first tick after one interval)
        # SensorThings over MQTT: connects in the background, reconnects with backoff
        bridge = MqttBridge(settings, app.state.stores).start() if settings.mqtt_url else None
        app.state.mqtt_bridge = bridge
        app.state.metric_registries = [bridge.metrics.registry] if bridge is not None else []
        try:
            yield
        finally:
            if bridge is not None:
                bridge.stop()
            if scheduler is not None:
                scheduler.stop()
            if own:
                app.state.stores.close()

    app = FastAPI(
        title="urbandata API",
        version=__version__,
        description="Open data and internal data of the city: catalog, tables, versions.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        responses=ERROR_RESPONSES,
        lifespan=lifespan,
    )
    app.state.settings = settings
    if stores is not None:
        app.state.stores = stores
    install_error_handlers(app)
    json_handlers = dict(app.exception_handlers)

    async def dispatch(request: Request, exc: Exception) -> Response:
        """JSON errors under /api, HTML error pages for the portal."""
        if request.url.path.startswith(("/api/", "/sta/")):
            for cls in type(exc).__mro__:
                handler = json_handlers.get(cls)
                if handler is not None:
                    return await handler(request, exc)  # type: ignore[no-any-return]
        if isinstance(exc, UrbanDataError) and exc.code == "invalid_token" and SESSION_COOKIE in request.cookies:
            return stale_session(request)  # an expired or revoked portal session: sign in again
        if isinstance(exc, UrbanDataError):
            return error_page(request, exc.status, exc.message)
        if isinstance(exc, StarletteHTTPException):
            return error_page(request, exc.status_code, str(exc.detail))
        if isinstance(exc, RequestValidationError):
            return error_page(request, 400, "Die Anfrage enthält ungültige Angaben.")
        return error_page(request, 500, "Ein interner Fehler ist aufgetreten.")

    for cls in (UrbanDataError, StarletteHTTPException, RequestValidationError, Exception):
        app.add_exception_handler(cls, dispatch)

    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(accounts.router)
    app.include_router(datasets.router)
    app.include_router(rows.router)
    app.include_router(aggregate.router)
    app.include_router(exports.router)
    app.include_router(sql.router)
    app.include_router(quality.router)
    app.include_router(import_routes.router)
    app.include_router(notifications.router)
    app.include_router(dcat.router)
    app.include_router(docs.router)
    app.include_router(sensor_figures_router)  # /api/v1/figures/sensors (start page twin)
    app.include_router(sta_ext.router)  # SensorThings extensions, observation downloads
    app.include_router(sta.router)  # SensorThings API 1.1 (after its extensions)
    app.include_router(workspace_api.router)
    app.include_router(staff.router)  # sign-in, steward workspace, admin pages
    app.include_router(pages.router)
    app.mount("/static", pages.STATIC_FILES, name="static")
    return app
