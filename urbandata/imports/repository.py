"""SQL of scheduled imports, their runs and the periodic jobs (only the imports package uses it).

Claims are single atomic UPDATEs with a condition (compare-and-set), so that on PostgreSQL with many
platform processes and on SQLite alike exactly one claimant wins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from urbandata.db.tables import import_runs as runs_t
from urbandata.db.tables import imports as imports_t
from urbandata.db.tables import periodic_jobs as jobs_t


def insert_import(conn: sa.Connection, values: dict[str, Any]) -> int:
    return int(conn.execute(sa.insert(imports_t).values(**values).returning(imports_t.c.id)).scalar_one())


def get_import(conn: sa.Connection, import_id: int) -> Row[Any] | None:
    return conn.execute(sa.select(imports_t).where(imports_t.c.id == import_id)).first()


def list_imports(conn: sa.Connection, dataset: str | None = None, resource: str | None = None) -> Sequence[Row[Any]]:
    q = sa.select(imports_t).order_by(imports_t.c.dataset_slug, imports_t.c.resource, imports_t.c.id)
    if dataset is not None:
        q = q.where(imports_t.c.dataset_slug == dataset)
    if resource is not None:
        q = q.where(imports_t.c.resource == resource)
    return conn.execute(q).all()


def update_import(conn: sa.Connection, import_id: int, values: dict[str, Any]) -> None:
    conn.execute(sa.update(imports_t).where(imports_t.c.id == import_id).values(**values))


def delete_import(conn: sa.Connection, import_id: int) -> None:
    conn.execute(sa.delete(runs_t).where(runs_t.c.import_id == import_id))
    conn.execute(sa.delete(imports_t).where(imports_t.c.id == import_id))


def due_ids(conn: sa.Connection, now: dt.datetime) -> list[int]:
    q = (
        sa.select(imports_t.c.id)
        .where(imports_t.c.enabled.is_(True), imports_t.c.next_run_at <= now)
        .where(sa.or_(imports_t.c.lease_until.is_(None), imports_t.c.lease_until < now))
        .order_by(imports_t.c.next_run_at, imports_t.c.id)
    )
    return [int(i) for i in conn.execute(q).scalars()]


def claim(
    conn: sa.Connection, import_id: int, now: dt.datetime, lease_until: dt.datetime, owner: str, due_only: bool
) -> bool:
    """Take the lease of an import unless another run holds it (and, for scheduled runs, only if still due)."""
    q = (
        sa.update(imports_t)
        .where(imports_t.c.id == import_id)
        .where(sa.or_(imports_t.c.lease_until.is_(None), imports_t.c.lease_until < now))
        .values(lease_until=lease_until, lease_owner=owner)
    )
    if due_only:
        q = q.where(imports_t.c.enabled.is_(True), imports_t.c.next_run_at <= now)
    return conn.execute(q).rowcount == 1


def release(conn: sa.Connection, import_id: int, owner: str, values: dict[str, Any]) -> None:
    conn.execute(
        sa.update(imports_t)
        .where(imports_t.c.id == import_id, imports_t.c.lease_owner == owner)
        .values(lease_until=None, lease_owner=None, **values)
    )


def insert_run(conn: sa.Connection, values: dict[str, Any]) -> int:
    return int(conn.execute(sa.insert(runs_t).values(**values).returning(runs_t.c.id)).scalar_one())


def get_run(conn: sa.Connection, run_id: int) -> Row[Any] | None:
    return conn.execute(sa.select(runs_t).where(runs_t.c.id == run_id)).first()


def finish_run(conn: sa.Connection, run_id: int, from_status: Sequence[str], values: dict[str, Any]) -> bool:
    """Record the end of a run if it is still in one of `from_status` (else someone ended it already)."""
    q = sa.update(runs_t).where(runs_t.c.id == run_id, runs_t.c.status.in_(list(from_status))).values(**values)
    return conn.execute(q).rowcount == 1


def fail_stale_runs(conn: sa.Connection, import_id: int, now: dt.datetime, error: str) -> int:
    """Runs left 'running' by a process that stopped: recorded as failed."""
    q = (
        sa.update(runs_t)
        .where(runs_t.c.import_id == import_id, runs_t.c.status.in_(["running", "publishing"]))
        .values(status="failed", finished_at=now, error=error)
    )
    return conn.execute(q).rowcount


def list_runs(conn: sa.Connection, import_id: int, limit: int) -> Sequence[Row[Any]]:
    q = sa.select(runs_t).where(runs_t.c.import_id == import_id).order_by(runs_t.c.id.desc()).limit(limit)
    return conn.execute(q).all()


def last_runs(conn: sa.Connection, import_ids: list[int]) -> dict[int, Row[Any]]:
    if not import_ids:
        return {}
    newest = sa.select(sa.func.max(runs_t.c.id)).where(runs_t.c.import_id.in_(import_ids)).group_by(runs_t.c.import_id)
    rows = conn.execute(sa.select(runs_t).where(runs_t.c.id.in_(newest))).all()
    return {int(r.import_id): r for r in rows}


def claim_periodic(conn: sa.Connection, name: str, now: dt.datetime, every: dt.timedelta) -> bool:
    """Take the periodic job `name` for this period (one process per period, on either database)."""
    took = conn.execute(
        sa.update(jobs_t).where(jobs_t.c.name == name, jobs_t.c.last_run_at <= now - every).values(last_run_at=now)
    ).rowcount
    if took == 1:
        return True
    if conn.execute(sa.select(jobs_t.c.name).where(jobs_t.c.name == name)).first() is not None:
        return False
    try:
        with conn.begin_nested():
            conn.execute(sa.insert(jobs_t).values(name=name, last_run_at=now))
    except sa.exc.IntegrityError:
        return False  # another process inserted it first
    return True
