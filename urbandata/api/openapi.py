"""The one error shape, documented in OpenAPI: every API router lists it for 400, 404 and 422.

`ERROR_RESPONSES` goes into `APIRouter(responses=...)`. Declaring 422 also replaces FastAPI's default
`HTTPValidationError` schema, which this API never sends (invalid parameters answer 400 in this shape).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable error code, e.g. unknown_column, dataset_not_found.")
    message: str = Field(description="What went wrong, safe to show to a user.")
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="Where the cause is: e.g. parameter, column, file, line.",
    )


class ErrorResponse(BaseModel):
    """Every error of the API, whatever its status."""

    error: ErrorDetail

    model_config = {
        "json_schema_extra": {
            "example": {
                "error": {
                    "code": "unknown_column",
                    "message": "Unknown column 'Bezirk'",
                    "details": {"parameter": "Bezirk", "column": "Bezirk"},
                }
            }
        }
    }


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Invalid input: a parameter, filter or value that does not fit."},
    404: {"model": ErrorResponse, "description": "Not found, or not visible to you (reported alike)."},
    422: {"model": ErrorResponse, "description": "Well-formed input that cannot be processed (e.g. a file)."},
}
