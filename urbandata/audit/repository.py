"""SQL of the audit log. Rows are only ever inserted; the retention job blanks personal fields."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from urbandata.db.tables import audit_log

Row = sa.engine.Row[Any]


def insert(conn: sa.Connection, values: dict[str, Any]) -> None:
    conn.execute(audit_log.insert().values(**values))


def query(
    conn: sa.Connection,
    *,
    action: str | None,
    actor: str | None,
    target: str | None,
    since: dt.datetime | None,
    limit: int,
) -> Sequence[Row]:
    q = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if action:
        q = q.where(audit_log.c.action.like(action.replace("*", "%")))
    if actor:
        q = q.where(audit_log.c.actor == actor)
    if target:
        q = q.where(audit_log.c.target == target)
    if since:
        q = q.where(audit_log.c.at >= since)
    return conn.execute(q).all()


def anonymise_before(conn: sa.Connection, cutoff: dt.datetime) -> int:
    res = conn.execute(
        audit_log.update()
        .where(audit_log.c.at < cutoff, sa.or_(audit_log.c.client_ip.is_not(None), audit_log.c.actor != "(anonymised)"))
        .values(actor="(anonymised)", client_ip=None)
    )
    return int(res.rowcount or 0)
