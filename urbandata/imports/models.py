"""What a steward saves (an import of a resource) and what the platform reports (imports and their runs)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SOURCE_TYPES = ("url", "folder", "ckan")
Status = Literal["running", "publishing", "success", "unchanged", "failed"]
OUTCOMES = ("success", "unchanged", "failed")


class ImportSpec(BaseModel):
    """An import definition as saved: where the data come from, when and how patiently to fetch them."""

    model_config = ConfigDict(extra="forbid")

    source_type: str = Field(description="url (HTTP/HTTPS), folder (a watched drop folder) or ckan (another catalog).")
    url: str | None = Field(default=None, description="url: the HTTP/HTTPS address of the file.")
    folder: str | None = Field(
        default=None, description="folder: the watched folder, relative to URBANDATA_IMPORT_FOLDER_ROOT."
    )
    ckan_url: str | None = Field(default=None, description="ckan: base URL of the other catalog.")
    ckan_dataset: str | None = Field(default=None, description="ckan: the dataset's id or name there.")
    ckan_resource: str | None = Field(default=None, description="ckan: the resource's id or name there.")
    schedule: str | None = Field(
        default=None, description="Cron expression (minute hour day month weekday); none: run only on demand."
    )
    timeout_seconds: float = Field(default=300.0, gt=0, le=86400, description="A run is ended after this long.")
    retries: int = Field(default=2, ge=0, le=10, description="Further attempts after a failed fetch, within one run.")
    backoff_seconds: float = Field(
        default=10.0, ge=0, le=3600, description="Wait before the first retry; doubled for each further one."
    )
    alert_after: int | None = Field(
        default=None, ge=1, le=1000, description="Alert after this many consecutive failed runs (default: setting)."
    )
    enabled: bool = True


class ImportPatch(BaseModel):
    """A change to an import: only the given fields change."""

    model_config = ConfigDict(extra="forbid")

    source_type: str | None = None
    url: str | None = None
    folder: str | None = None
    ckan_url: str | None = None
    ckan_dataset: str | None = None
    ckan_resource: str | None = None
    schedule: str | None = None
    timeout_seconds: float | None = Field(default=None, gt=0, le=86400)
    retries: int | None = Field(default=None, ge=0, le=10)
    backoff_seconds: float | None = Field(default=None, ge=0, le=3600)
    alert_after: int | None = Field(default=None, ge=1, le=1000)
    enabled: bool | None = None


class Run(BaseModel):
    id: int
    import_id: int
    trigger: str
    status: Status
    outcome: str | None = Field(description="success, unchanged or failed; null while the run is going on.")
    started_at: dt.datetime
    finished_at: dt.datetime | None
    duration_seconds: float | None
    attempts: int
    rows: int | None
    version: int | None
    error: str | None
    details: dict[str, Any] | None


class Import(BaseModel):
    id: int
    dataset: str
    resource: str
    source_type: str
    source: dict[str, Any]
    schedule: str | None
    timeout_seconds: float
    retries: int
    backoff_seconds: float
    alert_after: int
    enabled: bool
    next_run_at: dt.datetime | None
    running: bool
    consecutive_failures: int
    last_run: Run | None
    created_by: str | None
    created_at: dt.datetime
