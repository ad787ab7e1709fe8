"""Typed shapes of the catalog, shared by the CLI, the API and the portal."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import BaseModel, Field, field_validator

from urbandata.errors import InvalidInput

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$")
RESOURCE_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,98}[a-z0-9])?$")


def check_slug(value: str, what: str = "slug") -> str:
    if not SLUG.fullmatch(value or ""):
        raise InvalidInput(
            f"Invalid {what} {value!r}: use lower-case letters, digits and '-' (2-100 characters)",
            code="invalid_slug",
            parameter=what,
        )
    return value


def check_resource_name(value: str) -> str:
    if not RESOURCE_NAME.fullmatch(value or ""):
        raise InvalidInput(
            f"Invalid resource name {value!r}: use lower-case letters, digits, '-' and '_'",
            code="invalid_resource_name",
            parameter="resource",
        )
    return value


def resource_name_from_file(stem: str) -> str:
    """Default resource name: the file's stem, made URL-safe (umlauts transliterated)."""
    s = stem.lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        s = s.replace(a, b)
    s = re.sub(r"[^a-z0-9_-]+", "-", s).strip("-_")
    return s[:100].strip("-_") or "data"


class OrganizationIn(BaseModel):
    slug: str
    name: str = Field(min_length=1, max_length=300)
    description: str = ""
    email: str | None = None
    url: str | None = None

    @field_validator("slug")
    @classmethod
    def _slug(cls, v: str) -> str:
        return check_slug(v, "organization slug")


class Organization(BaseModel):
    slug: str
    name: str
    description: str = ""
    email: str | None = None
    url: str | None = None
    dataset_count: int = 0


class Resource(BaseModel):
    name: str
    title: str | None = None
    description: str = ""
    format: str | None = None
    sql_table: str
    current_version: int | None = None
    row_count: int | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema", serialization_alias="schema")
    updated_at: dt.datetime | None = None

    model_config = {"populate_by_name": True}


class Version(BaseModel):
    version: int
    current: bool
    created_at: dt.datetime
    created_by: str | None
    source_name: str
    source_sha256: str
    source_size: int
    format: str
    row_count: int
    schema_: dict[str, Any] = Field(alias="schema", serialization_alias="schema")
    report: dict[str, Any]

    model_config = {"populate_by_name": True}


class DatasetSummary(BaseModel):
    slug: str
    title: str
    description: str
    organization: str
    organization_name: str
    access_level: str
    license: str
    frequency: str | None
    keywords: list[str] = []
    themes: list[str] = []
    formats: list[str] = []
    modified: dt.datetime | None = None


class DataService(BaseModel):
    """A live access point to a dataset's data besides its tables (e.g. the SensorThings API)."""

    kind: str
    title: str
    url: str  # absolute, or a path on this platform
    media_type: str
    conforms_to: str | None = None


class Dataset(DatasetSummary):
    license_name: str
    license_url: str | None
    attribution: str | None
    frequency_label: str | None
    meta: dict[str, Any]
    issued: dt.datetime | None = None
    created_at: dt.datetime
    resources: list[Resource] = []
    services: list[DataService] = []


class FacetValue(BaseModel):
    value: str
    label: str
    count: int


class SearchResult(BaseModel):
    count: int
    results: list[DatasetSummary]
    facets: dict[str, list[FacetValue]]
    page: int
    page_size: int


class CatalogFigures(BaseModel):
    """Live figures of the catalog as the actor sees it."""

    datasets: int
    resources: int
    rows: int
