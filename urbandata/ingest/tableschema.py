"""Frictionless Table Schema (the subset we read and write), with per-field parsing hints.

A user overrides inference by giving a schema file: a field's `type`, `format` (a strptime pattern
for dates), `decimalChar`/`groupChar`, `trueValues`/`falseValues`, or the table's `missingValues`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from urbandata.datastore.types import FIELD_TYPES
from urbandata.errors import InvalidInput

DEFAULT_MISSING = ["", "-", "–", "k.A.", "k. A.", "n.v.", "n. v.", "n.a.", ".", "...", "/"]


class SchemaField(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="allow")

    name: str
    type: str = "string"
    format: str | None = None
    title: str | None = None
    description: str | None = None
    decimal_char: str | None = Field(default=None, alias="decimalChar")
    group_char: str | None = Field(default=None, alias="groupChar")
    true_values: list[str] | None = Field(default=None, alias="trueValues")
    false_values: list[str] | None = Field(default=None, alias="falseValues")
    source_name: str | None = Field(default=None, alias="x-source-name")
    inferred: bool = Field(default=False, exclude=True)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


class TableSchema(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="allow")

    fields: list[SchemaField]
    missing_values: list[str] = Field(default_factory=lambda: list(DEFAULT_MISSING), alias="missingValues")
    primary_key: list[str] | None = Field(default=None, alias="primaryKey")

    def dump(self) -> dict[str, Any]:
        out: dict[str, Any] = {"fields": [f.dump() for f in self.fields], "missingValues": self.missing_values}
        if self.primary_key:
            out["primaryKey"] = self.primary_key
        return out

    def field(self, name: str) -> SchemaField | None:
        return next((f for f in self.fields if f.name == name), None)


def parse_schema(doc: dict[str, Any], *, source: str = "schema") -> TableSchema:
    try:
        schema = TableSchema.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInput(
            f"Invalid Table Schema: {first['msg']}", code="invalid_schema", file=source, location=str(first["loc"])
        ) from exc
    for f in schema.fields:
        if f.type not in FIELD_TYPES:
            raise InvalidInput(
                f"Unsupported field type {f.type!r} for column {f.name!r} (supported: {', '.join(FIELD_TYPES)})",
                code="invalid_schema",
                file=source,
                column=f.name,
            )
    names = [f.name for f in schema.fields]
    if len(set(names)) != len(names):
        raise InvalidInput("Duplicate field names in Table Schema", code="invalid_schema", file=source)
    return schema


def load_schema_file(path: Path) -> TableSchema:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"Cannot read Table Schema: {exc}", code="invalid_schema", file=str(path)) from exc
    if not isinstance(doc, dict):
        raise InvalidInput("A Table Schema must be a JSON object", code="invalid_schema", file=str(path))
    return parse_schema(doc, source=str(path))
