"""SQL of the catalog (metadata DB). Only the catalog services import this module."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from urbandata.auth.policy import Scope
from urbandata.db.tables import (
    dataset_keywords,
    dataset_search_terms,
    dataset_services,
    dataset_themes,
    datasets,
    organizations,
    resource_versions,
    resources,
)

Row = sa.engine.Row[Any]
Rows = Sequence[Any]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- organisations ---------------------------------------------------------------------------


def insert_org(conn: sa.Connection, values: dict[str, Any]) -> int:
    res = conn.execute(organizations.insert().values(**values, created_at=now()))
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def get_org(conn: sa.Connection, slug: str) -> Row | None:
    return conn.execute(sa.select(organizations).where(organizations.c.slug == slug)).first()


def list_orgs(conn: sa.Connection, visible: sa.ColumnElement[bool]) -> Sequence[Row]:
    counts = (
        sa.select(datasets.c.org_id, sa.func.count().label("n"))
        .select_from(datasets.join(organizations, organizations.c.id == datasets.c.org_id))
        .where(visible)
        .group_by(datasets.c.org_id)
        .subquery()
    )
    q = (
        sa.select(organizations, sa.func.coalesce(counts.c.n, 0).label("dataset_count"))
        .select_from(organizations.outerjoin(counts, counts.c.org_id == organizations.c.id))
        .order_by(organizations.c.name)
    )
    return conn.execute(q).all()


# --- visibility --------------------------------------------------------------------------------


def visible_clause(scope: Scope) -> sa.ColumnElement[bool]:
    """SQL form of auth.policy.readable_scope (needs datasets joined with organizations)."""
    parts: list[sa.ColumnElement[bool]] = [datasets.c.access_level.in_(sorted(scope.everywhere))]
    for org, levels in sorted(scope.per_org.items()):
        parts.append(sa.and_(organizations.c.slug == org, datasets.c.access_level.in_(sorted(levels))))
    for slug, levels in sorted(scope.per_dataset.items()):
        parts.append(sa.and_(datasets.c.slug == slug, datasets.c.access_level.in_(sorted(levels))))
    return sa.or_(*parts)


# --- datasets ----------------------------------------------------------------------------------


def _fts_sync(conn: sa.Connection, dataset_id: int, old_text: str | None, new_text: str) -> None:
    if conn.dialect.name != "sqlite":
        return  # PostgreSQL keeps search_vector as a generated column
    if old_text is not None:
        conn.execute(
            sa.text("INSERT INTO dataset_fts(dataset_fts, rowid, search_text) VALUES ('delete', :id, :t)"),
            {"id": dataset_id, "t": old_text},
        )
    conn.execute(
        sa.text("INSERT INTO dataset_fts(rowid, search_text) VALUES (:id, :t)"), {"id": dataset_id, "t": new_text}
    )


def insert_dataset(conn: sa.Connection, values: dict[str, Any], keywords: list[str], themes: list[str]) -> int:
    ts = now()
    res = conn.execute(datasets.insert().values(**values, created_at=ts, updated_at=ts))
    ds_id = int(res.inserted_primary_key[0])  # type: ignore[index]
    _set_tags(conn, ds_id, keywords, themes)
    _fts_sync(conn, ds_id, None, values["search_text"])
    return ds_id


def update_dataset(
    conn: sa.Connection, ds_id: int, old_text: str, values: dict[str, Any], keywords: list[str], themes: list[str]
) -> None:
    conn.execute(datasets.update().where(datasets.c.id == ds_id).values(**values, updated_at=now()))
    _set_tags(conn, ds_id, keywords, themes)
    _fts_sync(conn, ds_id, old_text, values["search_text"])


def set_search_text(conn: sa.Connection, ds_id: int, old_text: str, new_text: str) -> None:
    """Only the full-text index of a dataset (not a change of its metadata)."""
    if new_text != old_text:
        conn.execute(datasets.update().where(datasets.c.id == ds_id).values(search_text=new_text))
        _fts_sync(conn, ds_id, old_text, new_text)


def put_search_terms(conn: sa.Connection, ds_id: int, source: str, terms: str) -> None:
    t = dataset_search_terms
    conn.execute(t.delete().where(t.c.dataset_id == ds_id, t.c.source == source))
    if terms:
        conn.execute(t.insert().values(dataset_id=ds_id, source=source, terms=terms))


def search_terms(conn: sa.Connection, ds_id: int) -> list[str]:
    t = dataset_search_terms
    return list(conn.execute(sa.select(t.c.terms).where(t.c.dataset_id == ds_id).order_by(t.c.source)).scalars())


def _set_tags(conn: sa.Connection, ds_id: int, keywords: list[str], themes: list[str]) -> None:
    conn.execute(dataset_keywords.delete().where(dataset_keywords.c.dataset_id == ds_id))
    conn.execute(dataset_themes.delete().where(dataset_themes.c.dataset_id == ds_id))
    if keywords:
        conn.execute(dataset_keywords.insert(), [{"dataset_id": ds_id, "keyword": k} for k in keywords])
    if themes:
        conn.execute(dataset_themes.insert(), [{"dataset_id": ds_id, "theme": t} for t in themes])


def touch_dataset(conn: sa.Connection, ds_id: int) -> None:
    ts = now()
    conn.execute(datasets.update().where(datasets.c.id == ds_id).values(modified=ts, updated_at=ts))


def data_arrived(conn: sa.Connection, ds_id: int, at: dt.datetime) -> None:
    """New data of the dataset up to `at` (sensor observations): `modified` only moves forward."""
    conn.execute(
        datasets.update()
        .where(datasets.c.id == ds_id, sa.or_(datasets.c.modified.is_(None), datasets.c.modified < at))
        .values(modified=at)
    )


_DATASET_COLS: list[Any] = [datasets, organizations.c.slug.label("org_slug"), organizations.c.name.label("org_name")]


def _dataset_where(conn: sa.Connection, condition: sa.ColumnElement[bool]) -> Row | None:
    q = (
        sa.select(*_DATASET_COLS)
        .select_from(datasets.join(organizations, organizations.c.id == datasets.c.org_id))
        .where(condition)
    )
    return conn.execute(q).first()


def get_dataset(conn: sa.Connection, slug: str) -> Row | None:
    return _dataset_where(conn, datasets.c.slug == slug)


def get_dataset_by_id(conn: sa.Connection, dataset_id: int) -> Row | None:
    return _dataset_where(conn, datasets.c.id == dataset_id)


def visible_ids(visible: sa.ColumnElement[bool]) -> sa.Select[tuple[int]]:
    return (
        sa.select(datasets.c.id)
        .select_from(datasets.join(organizations, organizations.c.id == datasets.c.org_id))
        .where(visible)
    )


def tags(
    conn: sa.Connection, ids: list[int]
) -> tuple[dict[int, list[str]], dict[int, list[str]], dict[int, list[str]]]:
    """Keywords, themes and resource formats per dataset id."""
    kw: dict[int, list[str]] = {i: [] for i in ids}
    th: dict[int, list[str]] = {i: [] for i in ids}
    fm: dict[int, list[str]] = {i: [] for i in ids}
    if not ids:
        return kw, th, fm
    for r in conn.execute(
        sa.select(dataset_keywords).where(dataset_keywords.c.dataset_id.in_(ids)).order_by(dataset_keywords.c.keyword)
    ):
        kw[r.dataset_id].append(r.keyword)
    for r in conn.execute(
        sa.select(dataset_themes).where(dataset_themes.c.dataset_id.in_(ids)).order_by(dataset_themes.c.theme)
    ):
        th[r.dataset_id].append(r.theme)
    q = sa.select(resources.c.dataset_id, resources.c.format).where(
        resources.c.dataset_id.in_(ids), resources.c.format.is_not(None)
    )
    for r in conn.execute(q.distinct()):
        if r.format.upper() not in fm[r.dataset_id]:
            fm[r.dataset_id].append(r.format.upper())
    return kw, th, fm


def _fts_filter(conn: sa.Connection, terms: list[str]) -> tuple[sa.ColumnElement[bool], sa.ColumnElement[Any]]:
    """(match condition, relevance expression where larger is better) for prefix matching of stems."""
    if conn.dialect.name == "sqlite":
        match = " ".join(f'"{t}"*' for t in terms)
        fts = sa.text("SELECT rowid AS id, bm25(dataset_fts) AS rank FROM dataset_fts WHERE dataset_fts MATCH :m")
        sub = fts.bindparams(m=match).columns(sa.column("id", sa.Integer), sa.column("rank", sa.Float)).subquery("fts")
        cond = datasets.c.id.in_(sa.select(sub.c.id))
        rank = sa.select(-sub.c.rank).where(sub.c.id == datasets.c.id).scalar_subquery()
        return cond, rank
    query = " & ".join(f"{t}:*" for t in terms)
    tsq = sa.func.to_tsquery(sa.literal_column("'simple'"), query)
    vector: sa.ColumnElement[Any] = sa.literal_column("datasets.search_vector")
    return vector.op("@@")(tsq), sa.func.ts_rank(vector, tsq)


def search(
    conn: sa.Connection,
    visible: sa.ColumnElement[bool],
    terms: list[str],
    filters: dict[str, list[str]],
    sort: str,
    limit: int,
    offset: int,
) -> tuple[int, Sequence[Row], dict[str, list[tuple[str, int]]]]:
    base = datasets.join(organizations, organizations.c.id == datasets.c.org_id)
    conds: list[sa.ColumnElement[bool]] = [visible]
    rank: sa.ColumnElement[Any] | None = None
    if terms:
        match, rank = _fts_filter(conn, terms)
        conds.append(match)
    if filters.get("organization"):
        conds.append(organizations.c.slug.in_(filters["organization"]))
    if filters.get("access_level"):
        conds.append(datasets.c.access_level.in_(filters["access_level"]))
    if filters.get("license"):
        conds.append(datasets.c.license_id.in_(filters["license"]))
    for value in filters.get("theme", []):
        conds.append(datasets.c.id.in_(sa.select(dataset_themes.c.dataset_id).where(dataset_themes.c.theme == value)))
    for value in filters.get("keyword", []):
        conds.append(
            datasets.c.id.in_(sa.select(dataset_keywords.c.dataset_id).where(dataset_keywords.c.keyword == value))
        )
    for value in filters.get("format", []):
        conds.append(
            datasets.c.id.in_(
                sa.select(resources.c.dataset_id).where(sa.func.upper(resources.c.format) == value.upper())
            )
        )
    where = sa.and_(*conds)
    ids = sa.select(datasets.c.id).select_from(base).where(where)
    count = conn.execute(sa.select(sa.func.count()).select_from(ids.subquery())).scalar_one()
    order: list[Any]
    if sort == "title":
        order = [datasets.c.title.asc()]
    elif sort == "modified":
        order = [sa.func.coalesce(datasets.c.modified, datasets.c.created_at).desc()]
    elif sort == "created":
        order = [datasets.c.created_at.desc()]
    elif rank is not None:
        order = [rank.desc()]
    else:
        order = [sa.func.coalesce(datasets.c.modified, datasets.c.created_at).desc()]
    rows = conn.execute(
        sa.select(*_DATASET_COLS)
        .select_from(base)
        .where(where)
        .order_by(*order, datasets.c.id)
        .limit(limit)
        .offset(offset)
    ).all()
    facets = _facets(conn, ids)
    return int(count), rows, facets


def _facets(conn: sa.Connection, ids: sa.Select[Any]) -> dict[str, list[tuple[str, int]]]:
    out: dict[str, list[tuple[str, int]]] = {}
    n = sa.func.count(sa.distinct(datasets.c.id)).label("n")
    joined = datasets.join(organizations, organizations.c.id == datasets.c.org_id)
    specs: list[tuple[str, Any, Any]] = [
        ("organization", organizations.c.slug, joined),
        ("access_level", datasets.c.access_level, datasets),
        ("license", datasets.c.license_id, datasets),
        ("theme", dataset_themes.c.theme, datasets.join(dataset_themes, dataset_themes.c.dataset_id == datasets.c.id)),
        (
            "keyword",
            dataset_keywords.c.keyword,
            datasets.join(dataset_keywords, dataset_keywords.c.dataset_id == datasets.c.id),
        ),
        (
            "format",
            sa.func.upper(resources.c.format),
            datasets.join(resources, resources.c.dataset_id == datasets.c.id),
        ),
    ]
    for name, col, source in specs:
        q = (
            sa.select(col.label("value"), n)
            .select_from(source)
            .where(datasets.c.id.in_(ids), col.is_not(None))
            .group_by(col)
            .order_by(n.desc(), col)
            .limit(50)
        )
        out[name] = [(str(r.value), int(r.n)) for r in conn.execute(q)]
    return out


# --- resources and versions --------------------------------------------------------------------


def list_resources(conn: sa.Connection, ds_id: int) -> Sequence[Row]:
    cur = resource_versions.alias("cur")
    q = (
        sa.select(resources, cur.c.row_count, cur.c.schema)
        .select_from(
            resources.outerjoin(
                cur, sa.and_(cur.c.resource_id == resources.c.id, cur.c.version == resources.c.current_version)
            )
        )
        .where(resources.c.dataset_id == ds_id)
        .order_by(resources.c.name)
    )
    return conn.execute(q).all()


def get_resource(conn: sa.Connection, ds_id: int, name: str) -> Row | None:
    return conn.execute(sa.select(resources).where(resources.c.dataset_id == ds_id, resources.c.name == name)).first()


def insert_resource(conn: sa.Connection, values: dict[str, Any]) -> int:
    ts = now()
    res = conn.execute(resources.insert().values(**values, created_at=ts, updated_at=ts))
    return int(res.inserted_primary_key[0])  # type: ignore[index]


def sql_table_taken(conn: sa.Connection, sql_table: str) -> bool:
    return conn.execute(sa.select(resources.c.id).where(resources.c.sql_table == sql_table)).first() is not None


def next_version(conn: sa.Connection, resource_id: int) -> int:
    q = sa.select(sa.func.max(resource_versions.c.version)).where(resource_versions.c.resource_id == resource_id)
    return int(conn.execute(q).scalar() or 0) + 1


def insert_version(conn: sa.Connection, values: dict[str, Any]) -> None:
    conn.execute(resource_versions.insert().values(**values, created_at=now()))


def make_current(conn: sa.Connection, resource_id: int, version: int, fmt: str) -> None:
    conn.execute(
        resources.update()
        .where(resources.c.id == resource_id)
        .values(current_version=version, format=fmt, updated_at=now())
    )


def list_versions(conn: sa.Connection, resource_id: int) -> Sequence[Row]:
    return conn.execute(
        sa.select(resource_versions)
        .where(resource_versions.c.resource_id == resource_id)
        .order_by(resource_versions.c.version.desc())
    ).all()


def get_version(conn: sa.Connection, resource_id: int, version: int) -> Row | None:
    return conn.execute(
        sa.select(resource_versions).where(
            resource_versions.c.resource_id == resource_id, resource_versions.c.version == version
        )
    ).first()


def version_as_of(conn: sa.Connection, resource_id: int, at: dt.datetime) -> Row | None:
    return conn.execute(
        sa.select(resource_versions)
        .where(resource_versions.c.resource_id == resource_id, resource_versions.c.created_at <= at)
        .order_by(resource_versions.c.version.desc())
        .limit(1)
    ).first()


def figures(conn: sa.Connection, visible: sa.ColumnElement[bool]) -> tuple[int, int, int]:
    """(datasets, loaded resources, rows in their current versions) readable under `visible`."""
    joined = datasets.join(organizations, organizations.c.id == datasets.c.org_id)
    n_datasets = conn.execute(sa.select(sa.func.count()).select_from(joined).where(visible)).scalar_one()
    current = sa.and_(
        resource_versions.c.resource_id == resources.c.id, resource_versions.c.version == resources.c.current_version
    )
    res = conn.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(resource_versions.c.row_count), 0))
        .select_from(
            joined.join(resources, resources.c.dataset_id == datasets.c.id).join(resource_versions, current)
        )
        .where(visible)
    ).one()
    return int(n_datasets), int(res[0]), int(res[1])


def all_table_refs(conn: sa.Connection) -> set[str]:
    return {r.table_ref for r in conn.execute(sa.select(resource_versions.c.table_ref))}


def sql_tables(conn: sa.Connection, visible: sa.ColumnElement[bool], names: list[str] | None) -> Rows:
    """Current versions of the resources readable under `visible`, by stable SQL name."""
    q = (
        sa.select(
            resources.c.sql_table,
            resources.c.name,
            datasets.c.slug,
            resource_versions.c.table_ref,
            resource_versions.c.schema,
            resources.c.masked_columns,
            datasets.c.access_level,
            organizations.c.slug.label("org_slug"),
        )
        .select_from(
            resources.join(datasets, datasets.c.id == resources.c.dataset_id)
            .join(organizations, organizations.c.id == datasets.c.org_id)
            .join(
                resource_versions,
                sa.and_(
                    resource_versions.c.resource_id == resources.c.id,
                    resource_versions.c.version == resources.c.current_version,
                ),
            )
        )
        .where(visible)
        .order_by(resources.c.sql_table)
    )
    if names is not None:
        q = q.where(sa.func.lower(resources.c.sql_table).in_(names))
    return conn.execute(q).all()


def set_masked_columns(conn: sa.Connection, resource_id: int, columns: list[str]) -> None:
    conn.execute(resources.update().where(resources.c.id == resource_id).values(masked_columns=columns or None))


# --- data quality: rules, validation reports, freshness, pruning (tables of migration 0003) --------


def get_quality(conn: sa.Connection, resource_id: int) -> Row | None:
    from urbandata.db.tables import resource_quality

    return conn.execute(sa.select(resource_quality).where(resource_quality.c.resource_id == resource_id)).first()


def upsert_quality(conn: sa.Connection, resource_id: int, values: dict[str, Any]) -> None:
    from urbandata.db.tables import resource_quality

    values = {**values, "updated_at": now()}
    done = conn.execute(
        resource_quality.update().where(resource_quality.c.resource_id == resource_id).values(**values)
    )
    if not done.rowcount:
        base = {"rules": [], "on_failure": "reject"}
        conn.execute(resource_quality.insert().values(**{**base, **values, "resource_id": resource_id}))


def insert_validation_report(conn: sa.Connection, values: dict[str, Any]) -> None:
    from urbandata.db.tables import validation_reports

    conn.execute(validation_reports.insert().values(**values, created_at=now()))


def list_validation_reports(conn: sa.Connection, resource_id: int, limit: int) -> Sequence[Row]:
    from urbandata.db.tables import validation_reports

    q = sa.select(validation_reports).where(validation_reports.c.resource_id == resource_id)
    return conn.execute(q.order_by(validation_reports.c.id.desc()).limit(limit)).all()


def current_table_ref(conn: sa.Connection, dataset_slug: str, resource_name: str) -> tuple[str, dict[str, Any]] | None:
    """(table_ref, schema) of a resource's current version, by dataset slug and resource name."""
    row = conn.execute(
        sa.select(resource_versions.c.table_ref, resource_versions.c.schema)
        .select_from(
            resources.join(datasets, datasets.c.id == resources.c.dataset_id).join(
                resource_versions,
                sa.and_(
                    resource_versions.c.resource_id == resources.c.id,
                    resource_versions.c.version == resources.c.current_version,
                ),
            )
        )
        .where(datasets.c.slug == dataset_slug, resources.c.name == resource_name)
    ).first()
    return (row.table_ref, row.schema) if row else None


def dataset_slugs_of_org(conn: sa.Connection, visible: sa.ColumnElement[bool], org_slug: str) -> list[str]:
    q = (
        sa.select(datasets.c.slug)
        .select_from(datasets.join(organizations, organizations.c.id == datasets.c.org_id))
        .where(visible, organizations.c.slug == org_slug)
        .order_by(datasets.c.slug)
    )
    return [r.slug for r in conn.execute(q)]


def pruned_versions(conn: sa.Connection, resource_id: int) -> set[int]:
    from urbandata.db.tables import pruned_versions as pruned

    return {r.version for r in conn.execute(sa.select(pruned.c.version).where(pruned.c.resource_id == resource_id))}


def mark_pruned(conn: sa.Connection, resource_id: int, version: int, by: str | None) -> None:
    from urbandata.db.tables import pruned_versions as pruned

    conn.execute(pruned.insert().values(resource_id=resource_id, version=version, pruned_at=now(), pruned_by=by))


def get_resource_by_id(conn: sa.Connection, resource_id: int) -> Row | None:
    return conn.execute(sa.select(resources).where(resources.c.id == resource_id)).first()


def resources_with_retention(conn: sa.Connection) -> list[tuple[str, str, str]]:
    """(organisation slug, dataset slug, resource name) of every resource with a retention setting."""
    from urbandata.db.tables import resource_quality

    q = (
        sa.select(organizations.c.slug.label("org"), datasets.c.slug, resources.c.name)
        .select_from(
            resource_quality.join(resources, resources.c.id == resource_quality.c.resource_id)
            .join(datasets, datasets.c.id == resources.c.dataset_id)
            .join(organizations, organizations.c.id == datasets.c.org_id)
        )
        .where(resource_quality.c.retention.is_not(None))
        .order_by(datasets.c.slug, resources.c.name)
    )
    return [(r.org, r.slug, r.name) for r in conn.execute(q)]


# --- data services -------------------------------------------------------------------------------


def list_services(conn: sa.Connection, ds_id: int) -> Sequence[Row]:
    return conn.execute(
        sa.select(dataset_services).where(dataset_services.c.dataset_id == ds_id).order_by(dataset_services.c.id)
    ).all()


def put_service(conn: sa.Connection, ds_id: int, values: dict[str, Any]) -> None:
    """Insert or update the dataset's service of this kind."""
    found = conn.execute(
        sa.select(dataset_services).where(
            dataset_services.c.dataset_id == ds_id, dataset_services.c.kind == values["kind"]
        )
    ).first()
    if found is None:
        conn.execute(dataset_services.insert().values(dataset_id=ds_id, **values))
    elif any(found._mapping[k] != v for k, v in values.items()):
        conn.execute(dataset_services.update().where(dataset_services.c.id == found.id).values(**values))
