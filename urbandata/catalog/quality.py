"""Data quality of the catalog: validation rules per resource, quality scores, freshness, overdue lists.

The engines (rule checks, score formula, freshness) live in `urbandata.quality`; this module gathers
their inputs from the catalog under the actor's visibility. Scores and freshness take the evaluation
time `at` explicitly (default: now), so reports for any past or future date are possible.
See docs/quality.md for the formula.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from urbandata.audit.service import record
from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import guarded
from urbandata.auth.policy import can_read_dataset, readable_scope, require_permission, visible_columns
from urbandata.catalog import repository as repo
from urbandata.catalog.profile import load_profile
from urbandata.catalog.service import _resource_row, _visible_dataset_row, get_org
from urbandata.catalog.validation import summary
from urbandata.errors import InvalidInput
from urbandata.quality import freshness as fresh
from urbandata.quality import score as scoring
from urbandata.quality.rules import ForeignKey, check_rules, dump_rules, parse_rules
from urbandata.quality.validate import column_completeness, validate_version
from urbandata.stores import Stores

OnFailure = Literal["reject", "warn"]


# --- rules -------------------------------------------------------------------------------------


def _rules_out(slug: str, resource: str, row: Any) -> dict[str, Any]:
    return {
        "dataset": slug,
        "resource": resource,
        "rules": row.rules if row else [],
        "on_failure": row.on_failure if row else "reject",
        "updated_by": row.updated_by if row else None,
        "updated_at": row.updated_at.isoformat() if row and row.updated_at else None,
    }


def _hidden_columns(ctx: RequestContext, ds: Any, res: Any) -> set[str]:
    """Masked columns the actor may not see (their values and rules are left out)."""
    masked = sorted(res.masked_columns or [])
    return set(masked) - set(visible_columns(ctx.actor, ds.org_slug, masked, res.masked_columns))


def _touches(names: str | None, hidden: set[str]) -> bool:
    return bool(names) and any(c in hidden for c in str(names).split(", "))


def _visible_rules(rules: list[dict[str, Any]], hidden: set[str]) -> list[dict[str, Any]]:
    return [r for r in rules if not hidden & {r.get("column"), *r.get("columns", [])}]


@guarded("dataset.read")
def get_rules(ctx: RequestContext, stores: Stores, slug: str, resource: str) -> dict[str, Any]:
    with stores.engine.connect() as conn:
        ds, res = _resource_row(ctx, conn, slug, resource)
        row = repo.get_quality(conn, res.id)
    out = _rules_out(slug, resource, row)
    out["rules"] = _visible_rules(out["rules"], _hidden_columns(ctx, ds, res))
    return out


@guarded("dataset.update")
def set_rules(
    ctx: RequestContext,
    stores: Stores,
    slug: str,
    resource: str,
    rules: Any,
    on_failure: str = "reject",
) -> dict[str, Any]:
    """Save a resource's validation rules and what a failing load does (`reject` or `warn`).

    Rules are checked against the current version's schema and each other; contradictions are a 400.
    """
    if on_failure not in ("reject", "warn"):
        raise InvalidInput("on_failure must be 'reject' or 'warn'", code="invalid_rules", parameter="on_failure")
    parsed = parse_rules(rules)
    with stores.engine.begin() as conn:
        ds, res = _resource_row(ctx, conn, slug, resource)
        require_permission(ctx.actor, "dataset.update", ds.org_slug, slug)
        current = repo.get_version(conn, res.id, res.current_version) if res.current_version else None
        if current is None:
            raise InvalidInput(
                f"Resource {resource!r} has no loaded version to check rules against", code="invalid_rules"
            )
        types = {f["name"]: f.get("type", "string") for f in current.schema.get("fields", [])}

        def target(dataset: str, name: str) -> dict[str, str] | None:
            row = repo.get_dataset(conn, dataset)
            if row is None or not can_read_dataset(ctx.actor, row.access_level, row.org_slug, row.slug):
                return None
            found = repo.current_table_ref(conn, dataset, name)
            if found is None:
                return None
            res_row = repo.get_resource(conn, row.id, name)
            masked = res_row.masked_columns if res_row is not None else None
            shown = visible_columns(ctx.actor, row.org_slug, [f["name"] for f in found[1].get("fields", [])], masked)
            return {f["name"]: f.get("type", "string") for f in found[1].get("fields", []) if f["name"] in shown}

        checked = check_rules(parsed, types, target)
        before = repo.get_quality(conn, res.id)
        values = {"rules": dump_rules(checked), "on_failure": on_failure, "updated_by": ctx.actor.username}
        repo.upsert_quality(conn, res.id, values)
        record(
            ctx,
            conn,
            "resource.rules",
            "resource",
            f"{slug}/{resource}",
            details={
                "before": {"rules": before.rules, "on_failure": before.on_failure} if before else None,
                "after": {"rules": values["rules"], "on_failure": on_failure},
            },
        )
        row = repo.get_quality(conn, res.id)
        refs = {
            i: found[0]
            for i, r in enumerate(checked, start=1)
            if isinstance(r, ForeignKey) and (found := repo.current_table_ref(conn, r.dataset, r.resource))
        }
    out = _rules_out(slug, resource, row)
    # how the current data fare under the new rules (a dry run: nothing is stored or rejected)
    report = validate_version(
        stores.datastore,
        current.table_ref,
        checked,
        types,
        row_count=int(current.row_count),
        previous_row_count=None,
        targets=refs,
        now=dt.datetime.now(dt.UTC),
        cap=ctx.settings.max_rejected_rows_reported,
    )
    out["current_version"] = {"version": current.version, **summary(report)}
    return out


@guarded("dataset.read")
def validation_reports(
    ctx: RequestContext, stores: Stores, slug: str, resource: str, limit: int = 20
) -> list[dict[str, Any]]:
    """The latest validation reports of a resource (also of rejected loads), newest first."""
    if not 1 <= limit <= 200:
        raise InvalidInput("limit must be between 1 and 200", parameter="limit")
    with stores.engine.connect() as conn:
        ds, res = _resource_row(ctx, conn, slug, resource)
        rows = repo.list_validation_reports(conn, res.id, limit)
    hidden = _hidden_columns(ctx, ds, res)
    out = []
    for r in rows:
        report = dict(r.report)
        report["violations"] = [v for v in report.get("violations", []) if not _touches(v.get("column"), hidden)]
        report["rules"] = [x for x in report.get("rules", []) if _visible_rules([x["rule"]], hidden)]
        out.append(
            {
                "version": r.version,
                "outcome": r.outcome,
                "created_at": r.created_at.isoformat(),
                "created_by": r.created_by,
                "report": report,
            }
        )
    return out


# --- scores and freshness ------------------------------------------------------------------------


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _period(frequency: str | None) -> float | None:
    if not frequency:
        return None
    days = load_profile().vocabulary("frequencies").get(frequency, {}).get("days")
    return float(days) if days else None


def _last_update(version: Any) -> dt.datetime:
    as_of = (version.report or {}).get("data_as_of")
    return _aware(dt.datetime.fromisoformat(as_of)) if as_of else _aware(version.created_at)


def _completeness(stores: Stores, table_ref: str, columns: list[str]) -> dict[str, float]:
    """Per-column completeness of an immutable version, cached per process."""
    key = f"quality.completeness:{table_ref}"
    cached = stores.caches.get(key)
    if cached is None:
        cached = column_completeness(stores.datastore, table_ref, columns) if stores.datastore.exists(table_ref) else {}
        stores.caches[key] = cached
    return {c: cached[c] for c in columns if c in cached}


def _components_out(components: dict[str, float]) -> dict[str, dict[str, float]]:
    return {
        k: {"value": round(components[k], 4), "weight": w, "points": round(w * components[k], 2)}
        for k, w in scoring.WEIGHTS.items()
    }


def _resource_quality(
    ctx: RequestContext, stores: Stores, conn: Any, ds: Any, res: Any, at: dt.datetime, metadata: float, lic: bool
) -> tuple[dict[str, Any], dict[str, float], fresh.Freshness]:
    version = repo.version_as_of(conn, res.id, at)
    period = _period(ds.frequency)
    last = _last_update(version) if version is not None else _aware(ds.created_at)
    state = fresh.evaluate(last, period, at)
    completeness: dict[str, float] = {}
    if version is None:
        facts = scoring.ResourceFacts(False, 0, 0, 0, 0, {}, 0, 0, None, fresh.score_of(state.status))
    else:
        fields = version.schema.get("fields", [])
        names = [f["name"] for f in fields]
        completeness = _completeness(stores, version.table_ref, names)
        rules = (version.report.get("validation") or {}).get("rules", [])
        facts = scoring.ResourceFacts(
            loaded=True,
            rows_loaded=int(version.row_count),
            rows_rejected=int(version.report.get("rows_rejected") or 0),
            rules_total=len(rules),
            rules_passed=sum(1 for r in rules if r.get("passed")),
            completeness=completeness,
            described_columns=sum(1 for f in fields if f.get("description")),
            columns=len(fields),
            format=version.format,
            freshness=fresh.score_of(state.status),
        )
        shown = set(visible_columns(ctx.actor, ds.org_slug, names, res.masked_columns))
        completeness = {c: round(v, 4) for c, v in completeness.items() if c in shown}
    components = scoring.resource_components(facts, metadata, lic)
    out = {
        "name": res.name,
        "version": version.version if version is not None else None,
        "score": scoring.score(components),
        **state.as_dict(),
        "components": _components_out(components),
        "completeness": completeness,
        "validation": _validation_state(version),
    }
    return out, components, state


def _validation_state(version: Any) -> dict[str, Any] | None:
    if version is None or not version.report.get("validation"):
        return None
    v = version.report["validation"]
    return {"outcome": v.get("outcome"), "passed": v.get("passed"), "violations_total": v.get("violations_total")}


def _dataset_quality(ctx: RequestContext, stores: Stores, conn: Any, ds: Any, at: dt.datetime) -> dict[str, Any]:
    profile = load_profile()
    meta = {**ds.meta, "publisher": ds.meta.get("publisher") or ds.org_name}
    metadata, missing = scoring.metadata_component(meta)
    lic = bool(profile.license(ds.license_id).get("open"))
    items, parts, states = [], [], []
    for res in repo.list_resources(conn, ds.id):
        out, components, state = _resource_quality(ctx, stores, conn, ds, res, at, metadata, lic)
        items.append(out)
        parts.append(components)
        states.append(state)
    if not states:  # no tables (e.g. a sensor dataset): its last update is when data last arrived
        states.append(fresh.evaluate(_aware(ds.modified or ds.created_at), _period(ds.frequency), at))
    state = fresh.worst(states)
    components = scoring.dataset_components(parts, metadata, lic, fresh.score_of(state.status))
    return {
        "dataset": ds.slug,
        "organization": ds.org_slug,
        "at": at.isoformat(),
        "score": scoring.score(components),
        **state.as_dict(),
        "frequency": ds.frequency,
        "period_days": _period(ds.frequency),
        "components": _components_out(components),
        "metadata_missing": missing,
        "resources": items,
    }


def _at(at: dt.datetime | None) -> dt.datetime:
    return _aware(at) if at is not None else dt.datetime.now(dt.UTC)


@guarded("dataset.read")
def dataset_quality(ctx: RequestContext, stores: Stores, slug: str, at: dt.datetime | None = None) -> dict[str, Any]:
    """Score (0–100), freshness (fresh/due/overdue), due date and components of a dataset and its resources."""
    with stores.engine.connect() as conn:
        ds = _visible_dataset_row(ctx, conn, slug)
        return _dataset_quality(ctx, stores, conn, ds, _at(at))


@guarded("dataset.read")
def org_quality(ctx: RequestContext, stores: Stores, org: str, at: dt.datetime | None = None) -> dict[str, Any]:
    """The organisation's score (mean of its visible datasets') with each dataset's score and freshness."""
    get_org(ctx, stores, org)
    when = _at(at)
    with stores.engine.connect() as conn:
        slugs = repo.dataset_slugs_of_org(conn, repo.visible_clause(readable_scope(ctx.actor)), org)
        reports = [_dataset_quality(ctx, stores, conn, repo.get_dataset(conn, s), when) for s in slugs]
    return {
        "organization": org,
        "at": when.isoformat(),
        "score": scoring.mean_score([r["score"] for r in reports]),
        "datasets": [
            {k: r[k] for k in ("dataset", "score", "freshness", "due_at", "overdue_since", "last_update")}
            for r in reports
        ],
    }


@guarded("dataset.read")
def overdue(ctx: RequestContext, stores: Stores, org: str, at: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Resources of the organisation's visible datasets that are overdue at `at`, longest overdue first."""
    get_org(ctx, stores, org)
    when = _at(at)
    out: list[dict[str, Any]] = []
    with stores.engine.connect() as conn:
        for slug in repo.dataset_slugs_of_org(conn, repo.visible_clause(readable_scope(ctx.actor)), org):
            report = _dataset_quality(ctx, stores, conn, repo.get_dataset(conn, slug), when)
            entries = report["resources"] or [{"name": None, **{k: report[k] for k in ("freshness", "due_at")}}]
            for r in entries:
                if r["freshness"] == "overdue":
                    out.append(
                        {
                            "dataset": slug,
                            "resource": r["name"],
                            "frequency": report["frequency"],
                            "due_at": r["due_at"],
                            "overdue_since": r.get("overdue_since") or r["due_at"],
                            "last_update": r.get("last_update"),
                        }
                    )
    return sorted(out, key=lambda e: (e["overdue_since"] or "", e["dataset"], e["resource"] or ""))


@guarded("dataset.read")
def overdue_datasets(
    ctx: RequestContext, stores: Stores, at: dt.datetime | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Every dataset the actor may see that is overdue at `at`, longest overdue first (the portal's start
    page, `GET /api/v1/overdue`). Datasets without a promised update period are never overdue."""
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be between 1 and 1000", parameter="limit")
    when = _at(at)
    out: list[dict[str, Any]] = []
    with stores.engine.connect() as conn:
        visible = repo.visible_clause(readable_scope(ctx.actor))
        for org in repo.list_orgs(conn, visible):
            if not org.dataset_count:
                continue
            for slug in repo.dataset_slugs_of_org(conn, visible, org.slug):
                ds = repo.get_dataset(conn, slug)
                if ds is None or not _period(ds.frequency):
                    continue
                report = _dataset_quality(ctx, stores, conn, ds, when)
                if report["freshness"] == "overdue":
                    out.append(
                        {
                            "dataset": slug,
                            "title": ds.title,
                            "organization": ds.org_slug,
                            "organization_name": ds.org_name,
                            "frequency": ds.frequency,
                            "due_at": report["due_at"],
                            "overdue_since": report["overdue_since"],
                            "last_update": report["last_update"],
                        }
                    )
    return sorted(out, key=lambda e: (e["overdue_since"] or "", e["dataset"]))[:limit]
