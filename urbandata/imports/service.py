"""Scheduled imports of a resource: define, change, delete, list, run now, run history.

Managing needs `dataset.update` on the dataset; reading follows the dataset's visibility (an actor
who may not see a dataset gets 404 for its imports, exactly as for the dataset itself).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from urbandata.audit.service import record
from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import guarded
from urbandata.auth.policy import require_permission
from urbandata.catalog import service as catalog
from urbandata.catalog.models import Dataset, check_resource_name
from urbandata.config import Settings
from urbandata.errors import Conflict, InvalidInput, NotFound
from urbandata.imports import repository as repo
from urbandata.imports.clock import Clock, SystemClock, utc
from urbandata.imports.fetch import shown_url
from urbandata.imports.models import SOURCE_TYPES, Import, ImportPatch, ImportSpec, Run
from urbandata.imports.runner import folder_root, run_import
from urbandata.imports.schedule import check_cron, next_fire
from urbandata.stores import Stores

_SOURCE_FIELDS = {"url": ("url",), "folder": ("folder",), "ckan": ("ckan_url", "ckan_dataset", "ckan_resource")}


def _check_http(value: str | None, name: str) -> str:
    parts = urlsplit(value or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"{name} must be an http:// or https:// address", code="invalid_source", parameter=name)
    return str(value)


def _source(spec: ImportSpec, settings: Settings) -> dict[str, Any]:
    """The stored source of a spec, checked (400 on unknown types and missing or bad fields)."""
    kind = spec.source_type
    if kind not in SOURCE_TYPES:
        raise InvalidInput(
            f"Unknown source type {kind!r}; allowed: {', '.join(SOURCE_TYPES)}",
            code="invalid_source_type",
            parameter="source_type",
        )
    for name in _SOURCE_FIELDS[kind]:
        if not getattr(spec, name):
            raise InvalidInput(f"A {kind} import needs {name}", code="invalid_source", parameter=name)
    if kind == "url":
        return {"url": _check_http(spec.url, "url")}
    if kind == "ckan":
        return {
            "ckan_url": _check_http(spec.ckan_url, "ckan_url"),
            "ckan_dataset": spec.ckan_dataset,
            "ckan_resource": spec.ckan_resource,
        }
    root = folder_root(settings)
    folder = (root / str(spec.folder)).resolve()
    if not folder.is_relative_to(root) or folder == root:
        raise InvalidInput(
            f"The watched folder must be a folder inside {root}", code="invalid_source", parameter="folder"
        )
    folder.mkdir(parents=True, exist_ok=True)
    return {"folder": str(folder.relative_to(root))}


def _spec(data: dict[str, Any]) -> ImportSpec:
    try:
        return ImportSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"Invalid import setting {where}: {first['msg']}", parameter=where) from None


def _values(spec: ImportSpec, settings: Settings, now: dt.datetime) -> dict[str, Any]:
    schedule = check_cron(spec.schedule) if spec.schedule else None
    return {
        "source_type": spec.source_type,
        "source": _source(spec, settings),
        "schedule": schedule,
        "timeout_seconds": spec.timeout_seconds,
        "retries": spec.retries,
        "backoff_seconds": spec.backoff_seconds,
        "alert_after": spec.alert_after or settings.import_alert_after,
        "enabled": spec.enabled,
        "next_run_at": next_fire(schedule, now, settings.schedule_timezone) if schedule else None,
        "updated_at": now,
    }


def _run(r: Any) -> Run:
    status = str(r.status)
    return Run(
        id=r.id,
        import_id=r.import_id,
        trigger=r.trigger,
        status=status,  # type: ignore[arg-type]
        outcome=status if status in ("success", "unchanged", "failed") else None,
        started_at=utc(r.started_at),
        finished_at=utc(r.finished_at) if r.finished_at else None,
        duration_seconds=r.duration_seconds,
        attempts=r.attempts,
        rows=r.rows,
        version=r.version,
        error=r.error,
        details=r.details,
    )


def _import(r: Any, last: Any | None) -> Import:
    last_run = _run(last) if last is not None else None
    return Import(
        id=r.id,
        dataset=r.dataset_slug,
        resource=r.resource,
        source_type=r.source_type,
        source={k: shown_url(v) if k in ("url", "ckan_url") else v for k, v in r.source.items()},
        schedule=r.schedule,
        timeout_seconds=r.timeout_seconds,
        retries=r.retries,
        backoff_seconds=r.backoff_seconds,
        alert_after=r.alert_after,
        enabled=r.enabled,
        next_run_at=utc(r.next_run_at) if r.next_run_at else None,
        running=last_run is not None and last_run.outcome is None,
        consecutive_failures=r.consecutive_failures,
        last_run=last_run,
        created_by=r.created_by,
        created_at=utc(r.created_at),
    )


def _manageable(ctx: RequestContext, stores: Stores, slug: str) -> Dataset:
    ds = catalog.get_dataset(ctx, stores, slug)  # 404 for what the actor may not see
    require_permission(ctx.actor, "dataset.update", ds.organization, slug)
    return ds


def _row(stores: Stores, import_id: int, slug: str | None, resource: str | None) -> Any:
    with stores.engine.connect() as conn:
        row = repo.get_import(conn, import_id)
    if (
        row is None
        or (slug is not None and row.dataset_slug != slug)
        or (resource is not None and row.resource != resource)
    ):
        raise NotFound(f"No import {import_id}", code="import_not_found", parameter="import_id")
    return row


def _out(stores: Stores, rows: list[Any]) -> list[Import]:
    with stores.engine.connect() as conn:
        last = repo.last_runs(conn, [r.id for r in rows])
    return [_import(r, last.get(r.id)) for r in rows]


@guarded("dataset.update")
def create_import(
    ctx: RequestContext,
    stores: Stores,
    slug: str,
    resource: str,
    spec: ImportSpec | dict[str, Any],
    clock: Clock | None = None,
) -> Import:
    """Define an import of a resource (the resource is created by the first successful run)."""
    check_resource_name(resource)
    _manageable(ctx, stores, slug)
    spec = spec if isinstance(spec, ImportSpec) else _spec(spec)
    now = utc((clock or SystemClock()).now())
    values = {
        **_values(spec, ctx.settings, now),
        "dataset_slug": slug,
        "resource": resource,
        "created_by": ctx.actor.username,
        "created_at": now,
    }
    with stores.engine.begin() as conn:
        import_id = repo.insert_import(conn, values)
        record(
            ctx,
            conn,
            "import.create",
            "import",
            f"{slug}/{resource}#{import_id}",
            details={"after": spec.model_dump(exclude_none=True)},
        )
    return get_import(ctx, stores, import_id)


@guarded("dataset.read")
def get_import(
    ctx: RequestContext, stores: Stores, import_id: int, slug: str | None = None, resource: str | None = None
) -> Import:
    row = _row(stores, import_id, slug, resource)
    try:
        catalog.get_dataset(ctx, stores, row.dataset_slug)
    except NotFound:
        raise NotFound(f"No import {import_id}", code="import_not_found", parameter="import_id") from None
    return _out(stores, [row])[0]


@guarded("dataset.read")
def list_imports(
    ctx: RequestContext, stores: Stores, slug: str | None = None, resource: str | None = None
) -> list[Import]:
    """Imports of a resource or dataset (404 if the actor may not see it), or all the actor may see."""
    if slug is not None:
        catalog.get_dataset(ctx, stores, slug)
    with stores.engine.connect() as conn:
        rows = list(repo.list_imports(conn, slug, resource))
    visible: dict[str, bool] = {}
    for s in {r.dataset_slug for r in rows}:
        try:
            catalog.get_dataset(ctx, stores, s)
            visible[s] = True
        except NotFound:
            visible[s] = False
    return _out(stores, [r for r in rows if visible[r.dataset_slug]])


@guarded("dataset.update")
def update_import(
    ctx: RequestContext,
    stores: Stores,
    import_id: int,
    patch: ImportPatch | dict[str, Any],
    slug: str | None = None,
    resource: str | None = None,
    clock: Clock | None = None,
) -> Import:
    row = _row(stores, import_id, slug, resource)
    _manageable(ctx, stores, row.dataset_slug)
    if not isinstance(patch, ImportPatch):
        try:
            patch = ImportPatch.model_validate(patch)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InvalidInput(f"Invalid import setting {where}: {first['msg']}", parameter=where) from None
    before = {
        "source_type": row.source_type,
        **row.source,
        "schedule": row.schedule,
        "timeout_seconds": row.timeout_seconds,
        "retries": row.retries,
        "backoff_seconds": row.backoff_seconds,
        "alert_after": row.alert_after,
        "enabled": row.enabled,
    }
    changes = patch.model_dump(exclude_unset=True)
    spec = _spec({**before, **changes})
    now = utc((clock or SystemClock()).now())
    values = _values(spec, ctx.settings, now)
    if spec.schedule == row.schedule and row.next_run_at is not None and spec.enabled:
        values["next_run_at"] = row.next_run_at  # an unchanged schedule keeps its due time
    if spec.source_type != row.source_type or values["source"] != row.source:
        values.update(etag=None, last_modified=None, last_sha256=None)
    with stores.engine.begin() as conn:
        repo.update_import(conn, import_id, values)
        record(
            ctx,
            conn,
            "import.update",
            "import",
            f"{row.dataset_slug}/{row.resource}#{import_id}",
            details={"before": {k: before.get(k) for k in changes}, "after": changes},
        )
    return get_import(ctx, stores, import_id)


@guarded("dataset.update")
def delete_import(
    ctx: RequestContext, stores: Stores, import_id: int, slug: str | None = None, resource: str | None = None
) -> None:
    row = _row(stores, import_id, slug, resource)
    _manageable(ctx, stores, row.dataset_slug)
    with stores.engine.begin() as conn:
        repo.delete_import(conn, import_id)
        record(ctx, conn, "import.delete", "import", f"{row.dataset_slug}/{row.resource}#{import_id}")


@guarded("dataset.update")
def run_now(
    ctx: RequestContext,
    stores: Stores,
    import_id: int,
    slug: str | None = None,
    resource: str | None = None,
    clock: Clock | None = None,
) -> Run:
    """Run the import at once and wait for its end (at most its timeout); 409 if a run is going on."""
    row = _row(stores, import_id, slug, resource)
    _manageable(ctx, stores, row.dataset_slug)
    clock = clock or SystemClock()
    run_id = run_import(
        stores,
        ctx.settings,
        import_id,
        trigger="manual",
        now=utc(clock.now()),
        clock=clock,
        owner=f"manual-{uuid.uuid4().hex[:12]}",
    )
    if run_id is None:
        raise Conflict(f"Import {import_id} is running already; try again later", code="import_running")
    with stores.engine.connect() as conn:
        return _run(repo.get_run(conn, run_id))


@guarded("dataset.read")
def list_runs(
    ctx: RequestContext,
    stores: Stores,
    import_id: int,
    slug: str | None = None,
    resource: str | None = None,
    limit: int = 20,
) -> list[Run]:
    """Run history, newest first."""
    if not 1 <= limit <= 500:
        raise InvalidInput("limit must be between 1 and 500", parameter="limit")
    get_import(ctx, stores, import_id, slug, resource)
    with stores.engine.connect() as conn:
        return [_run(r) for r in repo.list_runs(conn, import_id, limit)]
