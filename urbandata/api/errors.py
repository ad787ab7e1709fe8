"""The one JSON error shape for every 4xx/5xx: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from urbandata.errors import UrbanDataError

log = structlog.get_logger("urbandata.api")


def error_body(code: str, message: str, **details: object) -> dict[str, object]:
    return {"error": {"code": code, "message": message, "details": details}}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(UrbanDataError)
    async def _domain(_request: Request, exc: UrbanDataError) -> JSONResponse:
        headers = {}
        if exc.status == 429 and "retry_after" in exc.details:
            headers["Retry-After"] = str(exc.details["retry_after"])
        if exc.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="urbandata", Basic realm="urbandata"'
        return JSONResponse(exc.to_dict(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("query", "body", "path")]
        return JSONResponse(
            error_body(
                "invalid_input",
                f"Invalid parameter {'.'.join(loc) or 'request'}: {first.get('msg')}",
                parameter=".".join(loc) or None,
            ),
            status_code=400,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", path=request.url.path)
        return JSONResponse(error_body("internal_error", "Internal error; the incident was logged."), status_code=500)
