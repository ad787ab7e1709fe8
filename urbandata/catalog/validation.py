"""Validation of a new version against its resource's rules, before the version becomes current.

Called by the load (`service.ingest_file`) and by a restore, after the version's table is stored and
before the metadata commit that makes it current. A failing version is rejected (the previous one
stays current) or published with warnings, as the resource's steward chose; every outcome is kept
as a validation report.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from urbandata.audit.service import record
from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import guarded
from urbandata.auth.policy import require_permission
from urbandata.catalog import repository as repo
from urbandata.errors import IngestError
from urbandata.ingest.tableschema import TableSchema
from urbandata.quality.rules import ForeignKey, parse_rules
from urbandata.quality.validate import validate_version
from urbandata.stores import Stores

SUMMARY_VIOLATIONS = 20


class ValidationFailed(IngestError):
    """A new version broke its resource's validation rules and the resource rejects failing loads."""

    code = "validation_failed"


def summary(report: dict[str, Any], masked: list[str] | None = None) -> dict[str, Any]:
    """The part of a validation report kept in the version's ingest report and in error details.

    Values of masked columns are left out: the ingest report is shown to every reader of the dataset.
    """
    hidden = set(masked or [])
    return {
        "outcome": report.get("outcome"),
        "passed": report["passed"],
        "violations_total": report["violations_total"],
        "rules": report["rules"],
        "violations": [
            {**v, "value": None} if hidden & set(str(v.get("column")).split(", ")) else v
            for v in report["violations"][:SUMMARY_VIOLATIONS]
        ],
        "truncated": report["violations_total"] > min(len(report["violations"]), SUMMARY_VIOLATIONS),
    }


@guarded("resource.load")
def validate_new_version(
    ctx: RequestContext,
    stores: Stores,
    org: str,
    slug: str,
    resource: str,
    resource_id: int,
    version: int,
    table_ref: str,
    schema: TableSchema,
    row_count: int,
    now: dt.datetime | None = None,
) -> dict[str, Any] | None:
    """Check a stored, not yet current version; None when the resource has no rules.

    Raises ValidationFailed (nothing becomes current) when it fails and the resource rejects failing loads.
    """
    require_permission(ctx.actor, "resource.load", org, slug)
    now = now or dt.datetime.now(dt.UTC)
    with stores.engine.connect() as conn:
        settings = repo.get_quality(conn, resource_id)
        if settings is None or not settings.rules:
            return None
        rules = parse_rules(settings.rules)
        res = repo.get_resource_by_id(conn, resource_id)
        current = res.current_version if res is not None else None
        masked = res.masked_columns if res is not None else None
        previous = repo.get_version(conn, resource_id, current) if current else None
        targets: dict[int, str] = {}
        for i, rule in enumerate(rules, start=1):
            if isinstance(rule, ForeignKey):
                found = repo.current_table_ref(conn, rule.dataset, rule.resource)
                if found is not None:
                    targets[i] = found[0]
    report = validate_version(
        stores.datastore,
        table_ref,
        rules,
        {f.name: f.type for f in schema.fields},
        row_count=row_count,
        previous_row_count=int(previous.row_count) if previous is not None else None,
        targets=targets,
        now=now,
        cap=ctx.settings.max_rejected_rows_reported,
    )
    outcome = "passed" if report["passed"] else ("warnings" if settings.on_failure == "warn" else "rejected")
    report["outcome"] = outcome
    with stores.engine.begin() as conn:
        repo.insert_validation_report(
            conn,
            {
                "resource_id": resource_id,
                "version": version,
                "outcome": outcome,
                "report": report,
                "created_by": ctx.actor.username,
            },
        )
        if outcome != "passed":
            record(
                ctx,
                conn,
                "resource.validation",
                "resource",
                f"{slug}/{resource}",
                outcome="rejected" if outcome == "rejected" else "ok",
                details={"version": version, "violations": report["violations_total"], "outcome": outcome},
            )
    if outcome == "rejected":
        first = report["violations"][0] if report["violations"] else {}
        where = f" (row {first['row']}, column {first['column']}: {first['message']})" if first.get("row") else ""
        raise ValidationFailed(
            f"The new version breaks {sum(1 for r in report['rules'] if not r['passed'])} validation rule(s) with "
            f"{report['violations_total']} violation(s){where}; the previous version stays current.",
            validation=summary(report, masked),
        )
    return summary(report, masked)
