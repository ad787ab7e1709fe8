"""Error types (L0). Each carries its HTTP status and a machine code; one handler renders them."""

from __future__ import annotations

from typing import Any


class UrbanDataError(Exception):
    """Base of all errors a user may see. `message` is safe to show; `details` point at the cause."""

    status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = {k: v for k, v in details.items() if v is not None}

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}

    def __str__(self) -> str:
        where = ", ".join(f"{k}={v}" for k, v in self.details.items() if k in ("file", "line", "column", "sheet"))
        return f"{self.message} ({where})" if where else self.message


class InvalidInput(UrbanDataError):
    status = 400
    code = "invalid_input"


class IngestError(UrbanDataError):
    """A file could not be loaded. Details name file, line and column where they apply."""

    status = 422
    code = "ingest_failed"


class NotFound(UrbanDataError):
    status = 404
    code = "not_found"


class Conflict(UrbanDataError):
    status = 409
    code = "conflict"


class Forbidden(UrbanDataError):
    status = 403
    code = "forbidden"


class Unauthorized(UrbanDataError):
    status = 401
    code = "unauthorized"


class PayloadTooLarge(UrbanDataError):
    status = 413
    code = "payload_too_large"


class ConfigError(UrbanDataError):
    status = 500
    code = "config_error"


class NotImplementedFeature(UrbanDataError):
    """A valid request for something the platform does not support (e.g. an unknown `$` option)."""

    status = 501
    code = "not_implemented"
