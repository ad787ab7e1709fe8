"""Version history of a resource: diffs between versions, restoring an old version, lineage, retention.

A restore makes a new version whose data are a copy of the old one (DuckDB: a copy of the version
file; PostgreSQL: CREATE TABLE AS), checked against the resource's rules like any load. Retention
prunes the data of old versions but keeps every version's metadata and ingest report.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from urbandata.audit.service import record
from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import guarded
from urbandata.auth.policy import has_permission, require_permission
from urbandata.catalog import repository as repo
from urbandata.catalog.models import Version
from urbandata.catalog.service import _resource_row, list_versions, open_table
from urbandata.catalog.validation import validate_new_version
from urbandata.datastore.base import Column
from urbandata.errors import Forbidden, InvalidInput, NotFound
from urbandata.ingest.tableschema import TableSchema
from urbandata.quality.diff import diff_versions
from urbandata.quality.rules import Unique, parse_rules
from urbandata.stores import Stores


def _default_keys(stores: Stores, resource_id: int, schema: TableSchema) -> list[str]:
    """Key columns for a diff: the schema's primary key, else the first `unique` rule."""
    if schema.primary_key:
        return list(schema.primary_key)
    with stores.engine.connect() as conn:
        settings = repo.get_quality(conn, resource_id)
    for rule in parse_rules(settings.rules) if settings else []:
        if isinstance(rule, Unique):
            return list(rule.columns)
    return []


@guarded("dataset.read")
def diff(
    ctx: RequestContext,
    stores: Stores,
    slug: str,
    resource: str,
    old: int,
    new: int,
    keys: list[str] | None = None,
    cap: int = 100,
) -> dict[str, Any]:
    """Rows added, removed and changed (matched by `keys`) and schema changes from version `old` to `new`."""
    if not 1 <= cap <= 1000:
        raise InvalidInput("limit must be between 1 and 1000", parameter="limit")
    with stores.engine.connect() as conn:
        _, res = _resource_row(ctx, conn, slug, resource)
        pruned = repo.pruned_versions(conn, res.id)
    for v in (old, new):
        if v in pruned:
            raise NotFound(
                f"The data of version {v} were pruned (retention)", code="version_pruned", parameter="version"
            )
    a = open_table(ctx, stores, slug, resource, version=old, purpose="diff")
    b = open_table(ctx, stores, slug, resource, version=new, purpose="diff")
    key_cols = keys if keys else _default_keys(stores, res.id, b.schema)
    result = diff_versions(
        stores.datastore,
        a.table_ref,
        {f.name: f.type for f in a.schema.fields},
        b.table_ref,
        {f.name: f.type for f in b.schema.fields},
        key_cols,
        cap,
    )
    return {"dataset": slug, "resource": resource, "from": old, "to": new, **result}


@guarded("dataset.update")
def restore(ctx: RequestContext, stores: Stores, slug: str, resource: str, version: int) -> Version:
    """Make a copy of an old version the new current version (checked against the rules like a load)."""
    with stores.engine.connect() as conn:
        ds, res = _resource_row(ctx, conn, slug, resource)
        require_permission(ctx.actor, "dataset.update", ds.org_slug, slug)
        src = repo.get_version(conn, res.id, version)
        pruned = repo.pruned_versions(conn, res.id)
    if src is None:
        raise NotFound(f"Resource {resource!r} has no version {version}", code="version_not_found", parameter="version")
    if version in pruned or not stores.datastore.exists(src.table_ref):
        raise NotFound(f"The data of version {version} were pruned (retention)", code="version_pruned")
    with stores.engine.begin() as conn:
        new = repo.next_version(conn, res.id)
    schema = TableSchema.model_validate(src.schema)
    ref = stores.datastore.copy_version(src.table_ref, res.id, new)
    try:
        checked = validate_new_version(
            ctx, stores, ds.org_slug, slug, resource, res.id, new, ref, schema, int(src.row_count)
        )
        report = {
            **src.report,
            "source": "restore",
            "restored_from": version,
            "data_as_of": src.report.get("data_as_of") or src.created_at.isoformat(),
            "notes": [*src.report.get("notes", []), f"restored from version {version}"],
        }
        report.pop("validation", None)
        if checked is not None:
            report["validation"] = checked
        with stores.engine.begin() as conn:
            repo.insert_version(
                conn,
                {
                    "resource_id": res.id,
                    "version": new,
                    "table_ref": ref,
                    "format": src.format,
                    "source_name": src.source_name,
                    "source_sha256": src.source_sha256,
                    "source_size": src.source_size,
                    "row_count": src.row_count,
                    "schema": src.schema,
                    "report": report,
                    "created_by": ctx.actor.username,
                },
            )
            repo.make_current(conn, res.id, new, src.format)
            repo.touch_dataset(conn, ds.id)
            record(
                ctx,
                conn,
                "resource.restore",
                "resource",
                f"{slug}/{resource}",
                details={
                    "before": {"version": res.current_version},
                    "after": {"version": new, "restored_from": version},
                },
            )
    except Exception:
        stores.datastore.drop(ref)
        raise
    stores.datastore.publish(res.sql_table, ref, [Column(f.name, f.type) for f in schema.fields])
    return list_versions(ctx, stores, slug, resource)[0]


@guarded("dataset.read")
def lineage(ctx: RequestContext, stores: Stores, slug: str, resource: str) -> list[dict[str, Any]]:
    """Where each version came from: source (upload or restore), by whom, file hash, schema, transformations."""
    items = list_versions(ctx, stores, slug, resource)
    with stores.engine.connect() as conn:
        _, res = _resource_row(ctx, conn, slug, resource)
        pruned = repo.pruned_versions(conn, res.id)
    out = []
    for v in items:
        report = v.report
        kind = report.get("source") or "upload"
        out.append(
            {
                "version": v.version,
                "current": v.current,
                "created_at": v.created_at.isoformat(),
                "created_by": v.created_by,
                "source": {
                    "kind": kind,
                    "name": v.source_name,
                    "format": v.format,
                    "sha256": v.source_sha256,
                    "size": v.source_size,
                    "encoding": report.get("encoding"),
                    "restored_from": report.get("restored_from"),
                    "import": report.get("import"),
                },
                "schema": v.schema_,
                "transformations": report.get("notes", []),
                "rows_loaded": v.row_count,
                "rows_rejected": report.get("rows_rejected", 0),
                "validation": report.get("validation"),
                "data_pruned": v.version in pruned,
            }
        )
    return out


# --- retention ---------------------------------------------------------------------------------


class Retention(BaseModel):
    """Keep the last `keep_last` versions and/or those younger than `keep_days`; the first version of each
    month is kept for `monthly_days` (0: not specially). The current version is always kept."""

    keep_last: int | None = Field(default=None, ge=1)
    keep_days: int | None = Field(default=None, ge=1)
    monthly_days: int = Field(default=0, ge=0)


@guarded("dataset.update")
def set_retention(ctx: RequestContext, stores: Stores, slug: str, resource: str, retention: Retention) -> Retention:
    if retention.keep_last is None and retention.keep_days is None:
        raise InvalidInput("Give keep_last, keep_days or both", code="invalid_retention", parameter="retention")
    with stores.engine.begin() as conn:
        ds, res = _resource_row(ctx, conn, slug, resource)
        require_permission(ctx.actor, "dataset.update", ds.org_slug, slug)
        before = repo.get_quality(conn, res.id)
        repo.upsert_quality(conn, res.id, {"retention": retention.model_dump(), "updated_by": ctx.actor.username})
        record(
            ctx,
            conn,
            "resource.retention",
            "resource",
            f"{slug}/{resource}",
            details={"before": before.retention if before else None, "after": retention.model_dump()},
        )
    return retention


def _to_prune(versions: list[Any], current: int | None, rule: Retention, now: dt.datetime) -> list[Any]:
    keep: set[int] = set() if current is None else {current}
    ordered = sorted(versions, key=lambda v: v.version, reverse=True)
    if rule.keep_last:
        keep |= {v.version for v in ordered[: rule.keep_last]}
    for v in ordered:
        created = v.created_at if v.created_at.tzinfo else v.created_at.replace(tzinfo=dt.UTC)
        age = now - created
        if rule.keep_days and age <= dt.timedelta(days=rule.keep_days):
            keep.add(v.version)
    if rule.monthly_days:
        firsts: dict[tuple[int, int], Any] = {}
        for v in sorted(versions, key=lambda v: v.version):
            firsts.setdefault((v.created_at.year, v.created_at.month), v)
        for v in firsts.values():
            created = v.created_at if v.created_at.tzinfo else v.created_at.replace(tzinfo=dt.UTC)
            if now - created <= dt.timedelta(days=rule.monthly_days):
                keep.add(v.version)
    return [v for v in versions if v.version not in keep]


@guarded("dataset.update")
def apply_retention(
    ctx: RequestContext, stores: Stores, slug: str, resource: str, now: dt.datetime | None = None
) -> list[int]:
    """Prune the data of versions the retention setting no longer keeps; their metadata and reports stay."""
    now = now or dt.datetime.now(dt.UTC)
    with stores.engine.connect() as conn:
        ds, res = _resource_row(ctx, conn, slug, resource)
        require_permission(ctx.actor, "dataset.update", ds.org_slug, slug)
        settings = repo.get_quality(conn, res.id)
        versions = list(repo.list_versions(conn, res.id))
        pruned = repo.pruned_versions(conn, res.id)
    if settings is None or not settings.retention:
        return []
    rule = Retention.model_validate(settings.retention)
    victims = [v for v in _to_prune(versions, res.current_version, rule, now) if v.version not in pruned]
    for v in victims:  # marked first: a crash in between leaves an orphan file, never a dangling version
        with stores.engine.begin() as conn:
            repo.mark_pruned(conn, res.id, v.version, ctx.actor.username)
        stores.datastore.drop(v.table_ref)
    if victims:
        record(
            ctx,
            stores.engine,
            "resource.prune",
            "resource",
            f"{slug}/{resource}",
            details={"pruned": [v.version for v in victims]},
        )
    return sorted(v.version for v in victims)


@guarded("dataset.update")
def prune_all(ctx: RequestContext, stores: Stores, now: dt.datetime | None = None) -> dict[str, list[int]]:
    """Apply the retention setting of every resource that has one and that the actor may change.

    Returns the pruned versions per `dataset/resource` (only those where something was pruned); meant
    for the scheduler and `urbandata quality prune`."""
    if not has_permission(ctx.actor, "dataset.update") and not any(
        has_permission(ctx.actor, "dataset.update", org) for org, _ in ctx.actor.org_roles
    ):
        raise Forbidden("Not allowed: dataset.update.", permission="dataset.update")
    now = now or dt.datetime.now(dt.UTC)
    with stores.engine.connect() as conn:
        targets = repo.resources_with_retention(conn)
    out: dict[str, list[int]] = {}
    for org, slug, name in targets:
        if not has_permission(ctx.actor, "dataset.update", org, slug):
            continue
        pruned = apply_retention(ctx, stores, slug, name, now)
        if pruned:
            out[f"{slug}/{name}"] = pruned
    return out
