"""Staged uploads: keep an uploaded file, show its inferred Table Schema with sample rows, then load it
with the steward's corrections (a Table Schema override), as the new version of a resource.

A staged upload lives in the data dir (`tmp/uploads/<id>/`) until it is loaded, discarded or older than
a day; only the user who uploaded it may see or load it, and the permission to load is checked again
when it is loaded.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import guarded
from urbandata.auth.policy import require_permission
from urbandata.catalog.models import Version, check_resource_name, resource_name_from_file
from urbandata.catalog.service import get_dataset, ingest_file
from urbandata.datastore.types import FIELD_TYPES
from urbandata.errors import InvalidInput, NotFound
from urbandata.ingest.pipeline import IngestOptions, stage_file
from urbandata.ingest.preview import sample_rows
from urbandata.ingest.tableschema import SchemaField, TableSchema
from urbandata.stores import Stores

SAMPLE_ROWS = 5
MAX_AGE_SECONDS = 24 * 3600
_ID = re.compile(r"^[0-9a-f]{32}$")


class UploadPreview(BaseModel):
    """What a staged upload would load: the inferred schema, sample rows and the preview's counts."""

    id: str
    dataset: str
    resource: str
    file_name: str
    format: str
    size: int
    sheet: str | None = None
    schema_: dict[str, Any] = Field(alias="schema", serialization_alias="schema")
    sample: list[dict[str, Any]]
    rows_loaded: int
    rows_rejected: int
    rejected: list[dict[str, Any]] = []
    notes: list[str] = []
    created_by: str | None = None
    created_at: dt.datetime

    model_config = {"populate_by_name": True}

    def samples_of(self, column: str, n: int = 3) -> list[Any]:
        """Distinct non-empty sample values of one column."""
        out: list[Any] = []
        for row in self.sample:
            v = row.get(column)
            if v not in (None, "") and v not in out:
                out.append(v)
        return out[:n]


def _root(stores: Stores) -> Path:
    return stores.tmp_dir / "uploads"


def _prune(stores: Stores) -> None:
    """Drop staged uploads nobody loaded within a day."""
    root = _root(stores)
    if not root.is_dir():
        return
    cutoff = time.time() - MAX_AGE_SECONDS
    for folder in root.iterdir():
        try:
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def _options(ctx: RequestContext, display: str, sheet: str | None, schema: TableSchema | None = None) -> IngestOptions:
    s = ctx.settings
    return IngestOptions(
        display_name=display,
        sheet=sheet,
        schema=schema,
        max_bytes=s.max_upload_bytes,
        max_uncompressed_bytes=s.max_uncompressed_bytes,
        memory_limit=s.ingest_memory_limit,
        threads=s.ingest_threads,
        max_rejects_reported=s.max_rejected_rows_reported,
    )


@guarded("resource.load")
def stage_upload(
    ctx: RequestContext,
    stores: Stores,
    slug: str,
    source: Path,
    *,
    display_name: str,
    resource: str | None = None,
    sheet: str | None = None,
) -> UploadPreview:
    """Keep `source` (moved) as a staged upload and read it once to infer its schema and sample rows.

    Bad files raise the loader's errors (file, line, column) and keep nothing.
    """
    ds = get_dataset(ctx, stores, slug)
    require_permission(ctx.actor, "resource.load", ds.organization, slug)
    name = check_resource_name(resource or resource_name_from_file(Path(display_name).stem))
    _prune(stores)
    upload_id = secrets.token_hex(16)
    folder = _root(stores) / upload_id
    folder.mkdir(parents=True)
    kept = folder / ("source" + Path(display_name).suffix.lower()[:10])
    try:
        shutil.move(str(source), kept)
        result = stage_file(kept, _options(ctx, display_name, sheet), folder / "work")
        preview = UploadPreview(
            id=upload_id,
            dataset=slug,
            resource=name,
            file_name=display_name,
            format=result.format,
            size=result.fingerprint.size,
            sheet=sheet,
            schema=result.schema.dump(),
            sample=sample_rows(result.staged, SAMPLE_ROWS),
            rows_loaded=result.staged.row_count,
            rows_rejected=int(result.report.get("rows_rejected") or 0),
            rejected=list(result.report.get("rejected") or [])[:20],
            notes=list(result.report.get("notes") or []),
            created_by=ctx.actor.username,
            created_at=dt.datetime.now(dt.UTC),
        )
        (folder / "upload.json").write_text(preview.model_dump_json(by_alias=True), encoding="utf-8")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(folder / "work", ignore_errors=True)
    return preview


def _read(ctx: RequestContext, stores: Stores, slug: str, upload_id: str) -> tuple[UploadPreview, Path]:
    missing = NotFound(f"No staged upload {upload_id!r}", code="upload_not_found", parameter="upload")
    if not _ID.fullmatch(upload_id):
        raise missing
    folder = _root(stores) / upload_id
    try:
        preview = UploadPreview.model_validate(json.loads((folder / "upload.json").read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise missing from exc
    # someone else's upload is reported like a missing one
    if preview.dataset != slug or preview.created_by != ctx.actor.username:
        raise missing
    source = next(folder.glob("source*"), None)
    if source is None:
        raise missing
    return preview, source


@guarded("resource.load")
def get_upload(ctx: RequestContext, stores: Stores, slug: str, upload_id: str) -> UploadPreview:
    ds = get_dataset(ctx, stores, slug)
    require_permission(ctx.actor, "resource.load", ds.organization, slug)
    return _read(ctx, stores, slug, upload_id)[0]


def schema_override(preview: UploadPreview, types: dict[str, str]) -> TableSchema | None:
    """A Table Schema override from column types chosen in the review (None when nothing changed).

    Only changed columns are given; the others are inferred again exactly as in the preview.
    """
    fields = {str(f["name"]): f for f in preview.schema_.get("fields", [])}
    changed: list[SchemaField] = []
    for column, wanted in types.items():
        if column not in fields:
            raise InvalidInput(f"The file has no column {column!r}", code="unknown_column", column=column)
        if wanted not in FIELD_TYPES:
            raise InvalidInput(
                f"Unknown type {wanted!r} for column {column!r}; allowed: {', '.join(FIELD_TYPES)}",
                code="invalid_schema",
                column=column,
            )
        if wanted != fields[column].get("type"):
            changed.append(SchemaField(name=column, type=wanted))
    if not changed:
        return None
    missing = preview.schema_.get("missingValues")
    return TableSchema(fields=changed, **({"missingValues": missing} if missing is not None else {}))


@guarded("resource.load")
def load_upload(
    ctx: RequestContext, stores: Stores, slug: str, upload_id: str, schema: TableSchema | None = None
) -> Version:
    """Load a staged upload (with an optional Table Schema override) as the resource's new version.

    On success the staged upload is removed; a failed load keeps it, so the steward can correct the types.
    """
    preview, source = _read(ctx, stores, slug, upload_id)
    version = ingest_file(
        ctx,
        stores,
        slug,
        source,
        resource=preview.resource,
        display_name=preview.file_name,
        schema=schema,
        sheet=preview.sheet,
    )
    shutil.rmtree(source.parent, ignore_errors=True)
    return version


@guarded("resource.load")
def discard_upload(ctx: RequestContext, stores: Stores, slug: str, upload_id: str) -> None:
    ds = get_dataset(ctx, stores, slug)
    require_permission(ctx.actor, "resource.load", ds.organization, slug)
    _, source = _read(ctx, stores, slug, upload_id)
    shutil.rmtree(source.parent, ignore_errors=True)
