"""create_app(settings): the FastAPI application with the API, the portal and one error handling."""

from __future__ import annotations

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
    notifications,
    quality,
    rows,
    sql,
)
from urbandata.api.routes import imports as import_routes
from urbandata.config import Settings
from urbandata.errors import UrbanDataError
from urbandata.imports.scheduler import Scheduler
from urbandata.portal.forms import stale_session
from urbandata.portal.rendering import error_page
from urbandata.portal.routes import pages, staff
from urbandata.stores import Stores
from urbandata.webdeps import SESSION_COOKIE


def create_app(settings: Settings | None = None, stores: Stores | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = stores is None
        app.state.stores = stores or Stores.open(settings)
        scheduler = Scheduler(app.state.stores, settings) if settings.scheduler else None
        if scheduler is not None:
            scheduler.start()  # scheduled imports and periodic maintenance (first tick after one interval)
        try:
            yield
        finally:
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
        if request.url.path.startswith("/api/"):
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
    app.include_router(staff.router)  # sign-in, steward workspace, admin pages
    app.include_router(pages.router)
    app.mount("/static", pages.STATIC_FILES, name="static")
    return app
