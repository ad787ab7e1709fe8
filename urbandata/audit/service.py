"""Recording and reading the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from urbandata.audit import repository as repo
from urbandata.auth.actor import RequestContext
from urbandata.auth.guard import guarded
from urbandata.auth.policy import require_permission
from urbandata.errors import InvalidInput
from urbandata.stores import Stores


def record(
    ctx: RequestContext,
    target: sa.Engine | sa.Connection,
    action: str,
    target_type: str | None = None,
    target_id: str | None = None,
    *,
    outcome: str = "ok",
    details: dict[str, Any] | None = None,
    actor: str | None = None,
) -> None:
    """Append one entry; pass the open transaction's connection to commit it with the change it describes."""
    values = {
        "at": dt.datetime.now(dt.UTC),
        "actor": actor or ctx.actor.username or "anonymous",
        "action": action,
        "target_type": target_type,
        "target": target_id,
        "outcome": outcome,
        "details": details,
        "client_ip": ctx.client_ip,
        "request_id": ctx.request_id,
    }
    if isinstance(target, sa.Connection):
        repo.insert(target, values)
    else:
        with target.begin() as conn:
            repo.insert(conn, values)


@guarded("audit.read")
def query_log(
    ctx: RequestContext,
    stores: Stores,
    *,
    action: str | None = None,
    actor: str | None = None,
    target: str | None = None,
    since: dt.datetime | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    require_permission(ctx.actor, "audit.read")
    if not 1 <= limit <= 10000:
        raise InvalidInput("limit must be between 1 and 10000", parameter="limit")
    with stores.engine.connect() as conn:
        rows = repo.query(conn, action=action, actor=actor, target=target, since=since, limit=limit)
    return [
        {
            "id": r.id,
            "at": r.at.isoformat() if r.at else None,
            "actor": r.actor,
            "action": r.action,
            "target_type": r.target_type,
            "target": r.target,
            "outcome": r.outcome,
            "details": r.details,
            "client_ip": r.client_ip,
            "request_id": r.request_id,
        }
        for r in rows
    ]


@guarded("audit.read")
def apply_retention(ctx: RequestContext, stores: Stores, now: dt.datetime | None = None) -> int:
    """Blank personal data (who, IP address) in entries older than the retention period (GDPR)."""
    require_permission(ctx.actor, "audit.read")
    cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=ctx.settings.audit_retention_days)
    with stores.engine.begin() as conn:
        n = repo.anonymise_before(conn, cutoff)
    record(ctx, stores.engine, "audit.retention", details={"anonymised": n, "cutoff": cutoff.isoformat()})
    return n
