"""Catalog actions: organisations, datasets, resources, loads and versions.

Every function takes the request context (who acts) and the stores explicitly; visibility and
permissions are asked of `urbandata.auth.policy`, the one place that decides them.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from urbandata.audit.service import record
from urbandata.auth.actor import Actor, RequestContext
from urbandata.auth.guard import guarded
from urbandata.auth.policy import can_read_dataset, readable_scope, require_permission, visible_columns
from urbandata.catalog import repository as repo
from urbandata.catalog.models import (
    CatalogFigures,
    DataService,
    Dataset,
    DatasetSummary,
    FacetValue,
    Organization,
    OrganizationIn,
    Resource,
    SearchResult,
    Version,
    check_resource_name,
    check_slug,
    resource_name_from_file,
)
from urbandata.catalog.profile import attribution_text, load_profile, validate_metadata
from urbandata.catalog.search_text import index_text, query_terms
from urbandata.catalog.validation import validate_new_version
from urbandata.errors import Conflict, InvalidInput, NotFound
from urbandata.ingest.files import keep_original
from urbandata.ingest.pipeline import IngestOptions, stage_file
from urbandata.ingest.tableschema import TableSchema
from urbandata.stores import Stores

FACETS = ("organization", "theme", "keyword", "format", "license", "access_level")


# --- organisations -----------------------------------------------------------------------------


@guarded("org.create")
def create_org(ctx: RequestContext, stores: Stores, data: OrganizationIn) -> Organization:
    require_permission(ctx.actor, "org.create")
    with stores.engine.begin() as conn:
        if repo.get_org(conn, data.slug):
            raise Conflict(f"Organization {data.slug!r} exists already", code="org_exists", parameter="slug")
        repo.insert_org(conn, data.model_dump())
        record(ctx, conn, "org.create", "organization", data.slug, details={"name": data.name})
    return get_org(ctx, stores, data.slug)


@guarded("dataset.read")
def list_orgs(ctx: RequestContext, stores: Stores) -> list[Organization]:
    with stores.engine.connect() as conn:
        rows = repo.list_orgs(conn, repo.visible_clause(readable_scope(ctx.actor)))
    return [_org(r) for r in rows]


@guarded("dataset.read")
def get_org(ctx: RequestContext, stores: Stores, slug: str) -> Organization:
    found = next((o for o in list_orgs(ctx, stores) if o.slug == slug), None)
    if found is None:
        raise NotFound(f"No organization {slug!r}", code="org_not_found", parameter="org")
    return found


def _org(r: Any) -> Organization:
    return Organization(
        slug=r.slug,
        name=r.name,
        description=r.description,
        email=r.email,
        url=r.url,
        dataset_count=int(getattr(r, "dataset_count", 0) or 0),
    )


# --- datasets ----------------------------------------------------------------------------------


def _search_text(
    meta: dict[str, Any], org_name: str, resource_names: list[str] | None = None, extra: list[str] | None = None
) -> str:
    profile = load_profile()
    themes = [profile.label("themes", t) for t in meta.get("themes", [])]
    return index_text(
        meta.get("title", ""),
        meta.get("description", ""),
        " ".join(meta.get("keywords", [])),
        org_name,
        " ".join(themes),
        " ".join(resource_names or []),
        *(extra or []),
    )


def set_search_terms(conn: sa.Connection, dataset_id: int, source: str, terms: list[str]) -> None:
    """Another domain adds words to a dataset's full-text search, in `conn`'s transaction: e.g. the
    sensors the names of the dataset's Things and Datastreams, so that a search for "Stiftsplatz"
    finds the air-quality dataset with that station. Replaces what `source` gave before."""
    repo.put_search_terms(conn, dataset_id, source, " ".join(t for t in terms if t))
    row = repo.get_dataset_by_id(conn, dataset_id)
    if row is not None:
        names = [r.name for r in repo.list_resources(conn, row.id)]
        text = _search_text(row.meta, row.org_name, names, repo.search_terms(conn, row.id))
        repo.set_search_text(conn, row.id, row.search_text, text)


def _columns(meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": meta["title"],
        "description": meta.get("description") or "",
        "access_level": meta["access_level"],
        "license_id": meta["license"],
        "frequency": meta.get("frequency"),
        "meta": meta,
    }


@guarded("dataset.create")
def create_dataset(ctx: RequestContext, stores: Stores, slug: str, org: str, meta: dict[str, Any]) -> Dataset:
    check_slug(slug, "dataset slug")
    clean = validate_metadata(meta)
    with stores.engine.begin() as conn:
        org_row = repo.get_org(conn, org)
        if org_row is None:
            raise NotFound(f"No organization {org!r}", code="org_not_found", parameter="org")
        require_permission(ctx.actor, "dataset.create", org, slug)
        if repo.get_dataset(conn, slug):
            raise Conflict(f"Dataset {slug!r} exists already", code="dataset_exists", parameter="slug")
        values = {
            **_columns(clean),
            "slug": slug,
            "org_id": org_row.id,
            "search_text": _search_text(clean, org_row.name),
        }
        if clean.get("issued"):
            values["issued"] = dt.datetime.fromisoformat(clean["issued"]).replace(tzinfo=dt.UTC)
        repo.insert_dataset(conn, values, clean.get("keywords", []), clean.get("themes", []))
        record(ctx, conn, "dataset.create", "dataset", slug, details={"after": clean})
    return get_dataset(ctx, stores, slug)


@guarded("dataset.update")
def update_dataset(ctx: RequestContext, stores: Stores, slug: str, changes: dict[str, Any]) -> Dataset:
    with stores.engine.begin() as conn:
        row = _visible_dataset_row(ctx, conn, slug)
        require_permission(ctx.actor, "dataset.update", row.org_slug, slug)
        merged = validate_metadata({**row.meta, **changes})
        record(
            ctx,
            conn,
            "dataset.update",
            "dataset",
            slug,
            details={"before": {k: row.meta.get(k) for k in changes}, "after": {k: merged.get(k) for k in changes}},
        )
        names = [r.name for r in repo.list_resources(conn, row.id)]
        extra = repo.search_terms(conn, row.id)
        values = {**_columns(merged), "search_text": _search_text(merged, row.org_name, names, extra)}
        repo.update_dataset(conn, row.id, row.search_text, values, merged.get("keywords", []), merged.get("themes", []))
    return get_dataset(ctx, stores, slug)


def _visible_dataset_row(ctx: RequestContext, conn: sa.Connection, slug: str) -> Any:
    row = repo.get_dataset(conn, slug)
    if row is None or not can_read_dataset(ctx.actor, row.access_level, row.org_slug, row.slug):
        # invisible datasets are reported exactly like missing ones: existence is not revealed
        raise NotFound(f"No dataset {slug!r}", code="dataset_not_found", parameter="slug")
    return row


def _summary(row: Any, kw: list[str], th: list[str], fm: list[str]) -> DatasetSummary:
    return DatasetSummary(
        slug=row.slug,
        title=row.title,
        description=row.description,
        organization=row.org_slug,
        organization_name=row.org_name,
        access_level=row.access_level,
        license=row.license_id,
        frequency=row.frequency,
        keywords=kw,
        themes=th,
        formats=fm,
        modified=row.modified,
    )


def _dataset_url(ctx: RequestContext, slug: str) -> str:
    base = (ctx.settings.public_url or "").rstrip("/")
    return f"{base}/datasets/{slug}"


@guarded("dataset.read")
def get_dataset(ctx: RequestContext, stores: Stores, slug: str) -> Dataset:
    with stores.engine.connect() as conn:
        row = _visible_dataset_row(ctx, conn, slug)
        kw, th, fm = repo.tags(conn, [row.id])
        res_rows = repo.list_resources(conn, row.id)
        services = repo.list_services(conn, row.id)
    profile = load_profile()
    lic = profile.license(row.license_id)
    publisher = row.meta.get("publisher") or row.org_name
    return Dataset(
        **_summary(row, kw[row.id], th[row.id], fm[row.id]).model_dump(),
        license_name=str(lic["de"]),
        license_url=lic.get("url") or None,
        attribution=attribution_text(row.meta, publisher, _dataset_url(ctx, row.slug)),
        frequency_label=profile.label("frequencies", row.frequency) if row.frequency else None,
        meta=row.meta,
        issued=row.issued,
        created_at=row.created_at,
        resources=[_resource(r) for r in res_rows],
        services=[DataService(**dict(s._mapping)) for s in services],
    )


def _resource(r: Any) -> Resource:
    return Resource(
        name=r.name,
        title=r.title,
        description=r.description,
        format=r.format,
        sql_table=r.sql_table,
        current_version=r.current_version,
        row_count=r.row_count,
        schema=r.schema,
        updated_at=r.updated_at,
    )


@guarded("dataset.read")
def search_datasets(
    ctx: RequestContext,
    stores: Stores,
    q: str = "",
    filters: dict[str, list[str]] | None = None,
    sort: str = "relevance",
    page: int = 1,
    page_size: int = 20,
) -> SearchResult:
    filters = {k: v for k, v in (filters or {}).items() if v}
    unknown = [k for k in filters if k not in FACETS]
    if unknown:
        raise InvalidInput(f"Unknown filter {unknown[0]!r}; allowed: {', '.join(FACETS)}", parameter=unknown[0])
    if sort not in ("relevance", "title", "modified", "created"):
        raise InvalidInput(f"Unknown sort {sort!r}", parameter="sort")
    if page < 1 or not 1 <= page_size <= 100:
        raise InvalidInput("page must be >= 1 and page_size between 1 and 100", parameter="page")
    scope = readable_scope(ctx.actor)
    terms = query_terms(q)
    if q.strip() and not terms:
        return SearchResult(count=0, results=[], facets={f: [] for f in FACETS}, page=page, page_size=page_size)
    with stores.engine.connect() as conn:
        visible = repo.visible_clause(scope)
        count, rows, facets = repo.search(conn, visible, terms, filters, sort, page_size, (page - 1) * page_size)
        kw, th, fm = repo.tags(conn, [r.id for r in rows])
        org_names = {o.slug: o.name for o in repo.list_orgs(conn, visible)} if facets.get("organization") else {}
    profile = load_profile()
    vocab = {"theme": "themes", "license": "licenses", "access_level": "access_levels"}
    facet_out = {
        name: [
            FacetValue(
                value=v,
                label=org_names.get(v, v)
                if name == "organization"
                else profile.label(vocab[name], v)
                if name in vocab
                else v,
                count=n,
            )
            for v, n in values
        ]
        for name, values in facets.items()
    }
    return SearchResult(
        count=count,
        results=[_summary(r, kw[r.id], th[r.id], fm[r.id]) for r in rows],
        facets=facet_out,
        page=page,
        page_size=page_size,
    )


@guarded("dataset.read")
def catalog_figures(ctx: RequestContext, stores: Stores) -> CatalogFigures:
    """How many datasets, loaded resources and rows the actor can see (start page, `/api/v1/figures`)."""
    with stores.engine.connect() as conn:
        n_datasets, n_resources, n_rows = repo.figures(conn, repo.visible_clause(readable_scope(ctx.actor)))
    return CatalogFigures(datasets=n_datasets, resources=n_resources, rows=n_rows)


# --- loads and versions ------------------------------------------------------------------------


@dataclass(frozen=True)
class TableHandle:
    """A readable version of a resource: where its rows are and what they look like."""

    dataset: str
    resource: str
    sql_table: str
    version: int
    current_version: int
    table_ref: str
    schema: TableSchema
    row_count: int
    access_level: str


def _sql_table(conn: sa.Connection, slug: str, name: str) -> str:
    base = f"{slug}__{name}".replace("-", "_")
    candidate, n = base, 1
    while repo.sql_table_taken(conn, candidate):
        n += 1
        candidate = f"{base}_{n}"
    return candidate


@guarded("resource.load")
def ingest_file(
    ctx: RequestContext,
    stores: Stores,
    slug: str,
    path: Path,
    *,
    resource: str | None = None,
    display_name: str | None = None,
    schema: TableSchema | None = None,
    sheet: str | None = None,
    on_stage: Callable[[str], None] | None = None,
    lineage: dict[str, Any] | None = None,
    before_commit: Callable[[sa.Connection, TableSchema], None] | None = None,
) -> Version:
    """Load a file as the new current version of a resource (created on first load).

    The new version becomes current only after it is fully loaded and checked; any failure before
    leaves the previous version current and nothing new visible. `lineage` is merged into the ingest
    report (e.g. `{"source": "import", "import": {...}}`); `before_commit(conn, schema)` runs inside the
    transaction that makes the version current and may veto it by raising.
    """
    display = display_name or path.name
    name = check_resource_name(resource or resource_name_from_file(Path(display).stem))
    with stores.engine.connect() as conn:
        ds = _visible_dataset_row(ctx, conn, slug)
    require_permission(ctx.actor, "resource.load", ds.org_slug, slug)
    settings = ctx.settings
    work = stores.tmp_dir / f"load-{uuid.uuid4().hex}"
    try:
        if on_stage:
            on_stage("reading")
        result = stage_file(
            path,
            IngestOptions(
                display_name=display,
                sheet=sheet,
                schema=schema,
                max_bytes=settings.max_upload_bytes,
                max_uncompressed_bytes=settings.max_uncompressed_bytes,
                memory_limit=settings.ingest_memory_limit,
                threads=settings.ingest_threads,
                max_rejects_reported=settings.max_rejected_rows_reported,
            ),
            work,
        )
        if on_stage:
            on_stage("storing")
        keep_original(stores.files_dir, path, result.fingerprint.sha256)
        with stores.engine.begin() as conn:
            res_row = repo.get_resource(conn, ds.id, name)
            if res_row is None:
                res_id = repo.insert_resource(
                    conn,
                    {
                        "dataset_id": ds.id,
                        "name": name,
                        "title": name,
                        "sql_table": _sql_table(conn, slug, name),
                        "format": result.format.upper(),
                    },
                )
            else:
                res_id = res_row.id
            version = repo.next_version(conn, res_id)
        table_ref = stores.datastore.install(result.staged, res_id, version)
        try:
            checked = validate_new_version(
                ctx, stores, ds.org_slug, slug, name, res_id, version, table_ref, result.schema, result.staged.row_count
            )
            if checked is not None:
                result.report["validation"] = checked
            if lineage:
                result.report.update(lineage)
            with stores.engine.begin() as conn:
                if before_commit is not None:
                    before_commit(conn, result.schema)
                repo.insert_version(
                    conn,
                    {
                        "resource_id": res_id,
                        "version": version,
                        "table_ref": table_ref,
                        "format": result.format.upper(),
                        "source_name": display,
                        "source_sha256": result.fingerprint.sha256,
                        "source_size": result.fingerprint.size,
                        "row_count": result.staged.row_count,
                        "schema": result.schema.dump(),
                        "report": result.report,
                        "created_by": ctx.actor.username,
                    },
                )
                previous = repo.get_resource(conn, ds.id, name)
                repo.make_current(conn, res_id, version, result.format.upper())
                repo.touch_dataset(conn, ds.id)
                record(
                    ctx,
                    conn,
                    "resource.load",
                    "resource",
                    f"{slug}/{name}",
                    details={
                        "before": {"version": previous.current_version if previous else None},
                        "after": {
                            "version": version,
                            "rows": result.staged.row_count,
                            "rejected": result.report.get("rows_rejected"),
                            "sha256": result.fingerprint.sha256,
                        },
                    },
                )
                sql_table = conn.execute(
                    sa.text("SELECT sql_table FROM resources WHERE id = :id"), {"id": res_id}
                ).scalar_one()
        except Exception:
            stores.datastore.drop(table_ref)
            raise
        stores.datastore.publish(sql_table, table_ref, result.staged.columns)
        _reindex(stores, slug)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return list_versions(ctx, stores, slug, name)[0]


def _reindex(stores: Stores, slug: str) -> None:
    with stores.engine.begin() as conn:
        row = repo.get_dataset(conn, slug)
        if row is None:
            return
        names = [r.name for r in repo.list_resources(conn, row.id)]
        kw, th, _ = repo.tags(conn, [row.id])
        values = {"search_text": _search_text(row.meta, row.org_name, names, repo.search_terms(conn, row.id))}
        repo.update_dataset(conn, row.id, row.search_text, values, kw[row.id], th[row.id])


def _resource_row(ctx: RequestContext, conn: sa.Connection, slug: str, resource: str) -> tuple[Any, Any]:
    ds = _visible_dataset_row(ctx, conn, slug)
    res = repo.get_resource(conn, ds.id, resource)
    if res is None:
        raise NotFound(
            f"Dataset {slug!r} has no resource {resource!r}", code="resource_not_found", parameter="resource"
        )
    return ds, res


@guarded("dataset.read")
def list_versions(ctx: RequestContext, stores: Stores, slug: str, resource: str) -> list[Version]:
    with stores.engine.connect() as conn:
        _, res = _resource_row(ctx, conn, slug, resource)
        rows = repo.list_versions(conn, res.id)
    return [
        Version(
            version=r.version,
            current=r.version == res.current_version,
            created_at=r.created_at,
            created_by=r.created_by,
            source_name=r.source_name,
            source_sha256=r.source_sha256,
            source_size=r.source_size,
            format=r.format,
            row_count=r.row_count,
            schema=r.schema,
            report=r.report,
        )
        for r in rows
    ]


@guarded("dataset.read")
def open_table(
    ctx: RequestContext,
    stores: Stores,
    slug: str,
    resource: str,
    version: int | None = None,
    as_of: Any = None,
    purpose: str = "read",
) -> TableHandle:
    """The version of a resource to read: the current one, a numbered one, or the one current at `as_of`.

    Masked columns are left out of the schema for actors who may not see them; reads of non-public
    data are audited.
    """
    with stores.engine.connect() as conn:
        ds, res = _resource_row(ctx, conn, slug, resource)
        if version is not None:
            row = repo.get_version(conn, res.id, version)
        elif as_of is not None:
            row = repo.version_as_of(conn, res.id, as_of)
        elif res.current_version is not None:
            row = repo.get_version(conn, res.id, res.current_version)
        else:
            row = None
        if row is not None and row.version in repo.pruned_versions(conn, res.id):
            raise NotFound(
                f"The data of version {row.version} were pruned (retention)", code="version_pruned", parameter="version"
            )
    if row is None:
        raise NotFound(
            f"Resource {resource!r} has no such version",
            code="version_not_found",
            parameter="version" if version else "as_of",
        )
    schema = TableSchema.model_validate(row.schema)
    shown = set(visible_columns(ctx.actor, ds.org_slug, [f.name for f in schema.fields], res.masked_columns))
    schema.fields = [f for f in schema.fields if f.name in shown]
    if ds.access_level != "public" and ctx.actor.kind != "system":
        record(
            ctx, stores.engine, f"data.{purpose}", "resource", f"{slug}/{resource}", details={"version": row.version}
        )
    return TableHandle(
        dataset=slug,
        resource=resource,
        sql_table=res.sql_table,
        version=row.version,
        current_version=res.current_version,
        table_ref=row.table_ref,
        schema=schema,
        row_count=row.row_count,
        access_level=ds.access_level,
    )


@dataclass(frozen=True)
class SqlTable:
    sql_table: str
    dataset: str
    resource: str
    table_ref: str
    schema: dict[str, Any]
    access_level: str
    columns: list[str]  # the columns this actor may see


@guarded("dataset.read")
def readable_sql_tables(ctx: RequestContext, stores: Stores, names: list[str] | None = None) -> list[SqlTable]:
    """The tables `ctx.actor` may query in SQL (all, or those of `names`), at their current versions."""
    with stores.engine.connect() as conn:
        rows = repo.sql_tables(conn, repo.visible_clause(readable_scope(ctx.actor)), names)
    out = []
    for r in rows:
        names = [f["name"] for f in r.schema.get("fields", [])]
        shown = visible_columns(ctx.actor, r.org_slug, names, r.masked_columns)
        schema = {**r.schema, "fields": [f for f in r.schema.get("fields", []) if f["name"] in shown]}
        out.append(SqlTable(r.sql_table, r.slug, r.name, r.table_ref, schema, r.access_level, shown))
    return out


@guarded("dataset.update")
def set_masked_columns(ctx: RequestContext, stores: Stores, slug: str, resource: str, columns: list[str]) -> None:
    """Hide columns (e.g. personal data) from readers outside the owning organisation: a policy, not a copy."""
    with stores.engine.begin() as conn:
        ds, res = _resource_row(ctx, conn, slug, resource)
        require_permission(ctx.actor, "dataset.update", ds.org_slug, slug)
        repo.set_masked_columns(conn, res.id, sorted(set(columns)))
        record(
            ctx,
            conn,
            "resource.mask",
            "resource",
            f"{slug}/{resource}",
            details={"before": res.masked_columns, "after": sorted(set(columns))},
        )


# --- for other domains (sensors): visibility as SQL, dataset references -------------------------


@dataclass(frozen=True)
class DatasetRef:
    id: int
    slug: str
    organization: str
    access_level: str


@guarded("dataset.read")
def readable_dataset_ids(ctx: RequestContext) -> sa.Select[tuple[int]] | None:
    """SQL selecting the ids of the datasets `ctx.actor` may read; None when it may read all of them.
    Other domains filter their rows by `dataset_id IN (this)` so that visibility is decided here."""
    scope = readable_scope(ctx.actor)
    if scope.everywhere >= {"public", "internal", "restricted"}:
        return None
    return repo.visible_ids(repo.visible_clause(scope))


@guarded("dataset.read")
def dataset_ref(ctx: RequestContext, stores: Stores, *, slug: str | None = None, id: int | None = None) -> DatasetRef:
    """A dataset the actor may see, by slug or id (NotFound otherwise, as for a missing one)."""
    with stores.engine.connect() as conn:
        row = repo.get_dataset(conn, slug) if slug is not None else repo.get_dataset_by_id(conn, id or 0)
        if row is None or not can_read_dataset(ctx.actor, row.access_level, row.org_slug, row.slug):
            raise NotFound(f"No dataset {slug or id!r}", code="dataset_not_found", parameter="dataset")
    return DatasetRef(row.id, row.slug, row.org_slug, row.access_level)


def dataset_is_public(stores: Stores, conn: sa.Connection, dataset_id: int) -> bool:
    """Is the dataset readable by anonymous visitors (for pushing its changes to public channels)?"""
    row = repo.get_dataset_by_id(conn, dataset_id)
    return row is not None and can_read_dataset(Actor.anonymous(), row.access_level, row.org_slug, row.slug)


@guarded("dataset.create")
def ensure_sensor_dataset(ctx: RequestContext, stores: Stores, org: str) -> DatasetRef:
    """The organisation's default dataset for sensor Things (`sensoren-<org>`), created internal
    on first use so that a steward decides when it is published."""
    slug = f"sensoren-{org}"[:100]
    with stores.engine.connect() as conn:
        row = repo.get_dataset(conn, slug)
    if row is None:
        meta = {
            "title": f"Sensordaten ({org})",
            "description": "Messwerte der Sensoren dieser Organisation (SensorThings API).",
            "access_level": "internal",
            "frequency": "CONT",
            "license": "dl-de/by-2-0",
        }
        create_dataset(ctx, stores, slug, org, meta)
    return dataset_ref(ctx, stores, slug=slug)


def data_arrived(stores: Stores, conn: sa.Connection, dataset_id: int, at: dt.datetime) -> None:
    """Another domain wrote new data of a dataset (sensor observations up to `at`) in `conn`'s
    transaction: the dataset's `modified` (its last update, freshness) follows. Throttled to one
    write per dataset and minute in this process; the caller has checked the write permission."""
    seen: dict[int, dt.datetime] = stores.caches.setdefault("data_arrived", {})
    last = seen.get(dataset_id)
    if last is not None and at <= last + dt.timedelta(minutes=1):
        return
    repo.data_arrived(conn, dataset_id, min(at, dt.datetime.now(dt.UTC)))
    seen[dataset_id] = at


def register_data_service(conn: sa.Connection, dataset_id: int, service: DataService) -> None:
    """Another domain offers the dataset's data through a live service (e.g. the SensorThings API),
    in `conn`'s transaction; idempotent per kind. The caller has checked the write permission."""
    repo.put_service(conn, dataset_id, service.model_dump())
